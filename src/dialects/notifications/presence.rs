//! Seeds 000/002's presence (`…/presence/`, `…/presence/me/`) and file upload (`…/upload/`):
//! Confab's presence and uploads, in 000's shapes.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use uuid::Uuid;

use super::conversations::answer;
use super::paging::{cut, page_answer, page_of, seed, Answer};
use super::views::{Uploaded, UserPresence};
use super::BASE;
use crate::actors::presence::SetStatus;
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::routes::endpoint::Endpoint;
use crate::routes::extract::Json;
use crate::routes::presence::presence_of;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new(&format!("{BASE}/presence")).get(list).build())
        .service(
            Endpoint::new(&format!("{BASE}/presence/me"))
                .get(me)
                .put(set_me)
                .build(),
        )
        .service(
            Endpoint::new(&format!("{BASE}/upload"))
                .post(upload)
                .build(),
        );
}

/// `GET presence/`: the caller and everyone who shares a conversation with them, by user id,
/// DRF pages.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let paging = page_of(&req, state.settings.limits.max_page_size)?;
        let mut ids = {
            let mut conn = state.pool.get().await?;
            db::rooms::users_sharing_rooms(&mut conn, user.id).await?
        };
        ids.push(user.id);
        ids.sort();
        ids.dedup();
        let count = i64::try_from(ids.len()).map_err(AppError::internal)?;
        let page: Vec<Uuid> = cut(ids, paging);
        let results: Vec<UserPresence> = presence_of(&state, user.tenant_id, page)
            .await?
            .into_iter()
            .map(UserPresence::from)
            .collect();
        page_answer(&req, paging, count, results)
    })
    .await
}

/// `GET presence/me/`.
async fn me(state: web::Data<AppState>, user: Result<AuthUser, AppError>) -> Answer {
    seed(async {
        let user = user?;
        let mine = presence_of(&state, user.tenant_id, vec![user.id])
            .await?
            .pop()
            .ok_or(AppError::NotFound)?;
        answer(200, &UserPresence::from(mine))
    })
    .await
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    current_conversation: Option<Uuid>,
}

/// `PUT presence/me/ {status, current_conversation}`: as the native `PUT /presence/me`.
async fn set_me(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: Result<Json<StatusBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let Json(b) = body?;
        let view = state
            .presence
            .send(SetStatus {
                user_id: user.id,
                tenant_id: user.tenant_id,
                status: b.status,
                current_room: b.current_conversation,
            })
            .await
            .map_err(AppError::internal)??;
        answer(200, &UserPresence::from(view))
    })
    .await
}

/// `POST upload/` (multipart, `file`): stored as the native upload (same limits and types);
/// its `file_url` is what a file message's `file_url` gives back (201).
async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    form: Multipart,
) -> Answer {
    seed(async {
        let user = user?;
        let view = crate::routes::uploads::store(&state, &user, &req, form).await?;
        let body = Uploaded {
            file_url: view.url.clone(),
            file_name: view.file_name.clone(),
            file_size: view.file_size,
            content_type: view.content_type.clone(),
            id: view.id,
            signed_url: view.signed_url.clone(),
        };
        answer(201, &body)
    })
    .await
}
