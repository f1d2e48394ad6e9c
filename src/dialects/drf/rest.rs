//! Seed 004's REST endpoints that native paths do not serve at all: `direct_message`,
//! `typing_users`, a message's `react` and `mark_read`, the sessions; 004's error shape and paging.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::views::{
    reaction_map, DrfCleanup, DrfErrorBody, DrfMarkedRead, DrfPage, DrfReacted, DrfSession,
    DrfTyping, DrfUser,
};
use crate::actors::presence::ListSessions;
use crate::actors::room::ListTyping;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::{access, direct, Caller, Command, MarkRead, React};
use crate::db;
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::state::AppState;

/// An error in 004's shape (`{"detail": …}`), with Confab's status.
#[derive(Debug)]
pub struct DrfError(pub AppError);

impl std::fmt::Display for DrfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<AppError>> From<E> for DrfError {
    fn from(e: E) -> Self {
        DrfError(e.into())
    }
}

impl ResponseError for DrfError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let native = self.0.body();
        let fields = native
            .field
            .map(|f| BTreeMap::from([(f, vec![native.message.clone()])]))
            .unwrap_or_default();
        let body = DrfErrorBody {
            detail: native.message,
            code: native.code,
            fields,
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

pub type DrfResult = Result<HttpResponse, DrfError>;

/// Registers `path` with and without its trailing slash (as DRF's routers write them).
fn both(cfg: &mut web::ServiceConfig, path: &str, route: fn() -> actix_web::Route) {
    cfg.route(path, route())
        .route(path.trim_end_matches('/'), route());
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/api/chat/rooms/direct_message/", || {
        web::post().to(direct_message)
    });
    both(cfg, "/api/chat/rooms/{room_id}/typing_users/", || {
        web::get().to(typing_users)
    });
    both(
        cfg,
        "/api/chat/rooms/{room_id}/messages/{message_id}/react/",
        || web::post().to(react),
    );
    both(
        cfg,
        "/api/chat/rooms/{room_id}/messages/{message_id}/mark_read/",
        || web::post().to(mark_message_read),
    );
    both(cfg, "/api/chat/sessions/active_sessions/", || {
        web::get().to(active_sessions)
    });
    both(cfg, "/api/chat/sessions/cleanup_old_sessions/", || {
        web::post().to(cleanup_old_sessions)
    });
}

/// 004's paging parameters: `page` from 1, `page_size` (default 50, at most the server's page
/// size).
#[derive(Deserialize)]
pub struct Paging {
    page: Option<i64>,
    page_size: Option<i64>,
}

impl Paging {
    pub fn new(page: Option<i64>, page_size: Option<i64>) -> Self {
        Paging { page, page_size }
    }

    /// The request's paging, read here so a bad value gets 004's error shape.
    pub fn of(req: &HttpRequest) -> AppResult<Paging> {
        web::Query::<Paging>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .map_err(|_| AppError::bad_request("page", "page and page_size must be integers"))
    }

    /// (page, page size), checked.
    pub fn resolve(&self, max_page_size: i64) -> AppResult<(i64, i64)> {
        let page = self.page.unwrap_or(1);
        if page < 1 {
            return Err(AppError::bad_request("page", "page must be >= 1"));
        }
        Ok((page, self.page_size.unwrap_or(50).clamp(1, max_page_size)))
    }
}

/// DRF's page of `results` (already cut to `page`), with links to its neighbours.
pub fn page_answer<T: Serialize + utoipa::ToSchema>(
    req: &HttpRequest,
    (page, size): (i64, i64),
    count: i64,
    results: Vec<T>,
) -> AppResult<HttpResponse> {
    if results.is_empty() && page > 1 {
        return Err(AppError::NotFound);
    }
    let link = |p: i64| page_link(req, p, size);
    Ok(HttpResponse::Ok().json(DrfPage {
        count,
        next: (page * size < count).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results,
    }))
}

/// The URL of another page of the same list, as DRF's `next` and `previous` give it.
pub fn page_link(req: &HttpRequest, page: i64, size: i64) -> String {
    let info = req.connection_info();
    let path = req.path();
    let slash = if path.ends_with('/') { "" } else { "/" };
    format!(
        "{}://{}{path}{slash}?page={page}&page_size={size}",
        info.scheme(),
        info.host()
    )
}

#[derive(Deserialize)]
struct DirectBody {
    user_id: serde_json::Value,
}

/// `POST /api/chat/rooms/direct_message/ {user_id}`: the direct room, found or created. Each
/// handler takes the caller as a `Result`, so a missing token is a 401 in 004's shape too.
async fn direct_message(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let body: DirectBody = parse_json(&body)?;
    let other = crate::auth::claims::platform_user_id(&body.user_id)
        .ok_or_else(|| AppError::bad_request("user_id", "user_id must be a user id"))?;
    let mut conn = state.pool.get().await?;
    let opened = direct::open(&mut conn, &Caller::from_auth(&user), other).await?;
    drop(conn);
    let status = if opened.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = super::rooms::drf_room(&state, &user, opened.room).await?;
    Ok(HttpResponse::build(status).json(body))
}

/// `GET …/typing_users/`: who is typing in the room now.
async fn typing_users(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
) -> DrfResult {
    let user = user?;
    let room_id = path.into_inner();
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &caller, room_id, Access::Read).await?;
    let addr = supervisor::room(&state.supervisor, room_id.into()).await?;
    let ids = addr
        .send(ListTyping {
            tenant_id: caller.tenant_id,
            user_id: caller.user_id,
        })
        .await
        .map_err(AppError::internal)??;
    let members = db::rooms::active_members(&mut conn, room_id).await?;
    let now = time::format(&chrono::Utc::now());
    let typing: Vec<DrfTyping> = members
        .iter()
        .filter(|(_, u)| ids.contains(&u.id))
        .map(|(_, u)| DrfTyping {
            room: room_id,
            user: DrfUser::from(u),
            is_typing: true,
            last_seen: now.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(typing))
}

#[derive(Deserialize)]
struct ReactBody {
    emoji: String,
    #[serde(default)]
    action: Option<String>,
}

/// `POST …/messages/{id}/react/ {emoji, action: add|remove}`: the message's reactions after.
async fn react(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let (room_id, message_id) = path.into_inner();
    let body: ReactBody = parse_json(&body)?;
    let add = match body.action.as_deref() {
        None | Some("add") => true,
        Some("remove") => false,
        Some(_) => return Err(AppError::bad_request("action", "action is add or remove").into()),
    };
    let command = React::parse(message_id.into(), &body.emoji, add)?;
    let caller = Caller::from_auth(&user);
    supervisor::apply(
        &state.supervisor,
        room_id.into(),
        caller,
        Command::React(command),
    )
    .await?;
    let mut conn = state.pool.get().await?;
    let rows = db::messages::reactions_of(&mut conn, &[message_id]).await?;
    let summary = crate::protocol::views::summarize_reactions(&rows);
    let message = if add {
        "Reaction added"
    } else {
        "Reaction removed"
    };
    Ok(HttpResponse::Ok().json(DrfReacted {
        reactions: reaction_map(&summary),
        message: message.into(),
    }))
}

/// `POST …/messages/{id}/mark_read/`: the caller has read up to this message.
async fn mark_message_read(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(Uuid, Uuid)>,
) -> DrfResult {
    let user = user?;
    let (room_id, message_id) = path.into_inner();
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &caller, room_id, Access::Read).await?;
    drop(conn);
    // The command knows whether the read position already covered the message.
    let command = MarkRead::of_messages("message_id", vec![message_id])?;
    let out = supervisor::apply(
        &state.supervisor,
        room_id.into(),
        caller,
        Command::MarkRead(command),
    )
    .await?;
    Ok(HttpResponse::Ok().json(DrfMarkedRead {
        status: "marked as read".into(),
        was_already_read: out.already_read,
    }))
}

/// `GET /api/chat/sessions/active_sessions/`: the caller's open WebSocket connections on this node.
async fn active_sessions(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
) -> DrfResult {
    let user = user?;
    let sessions = state
        .presence
        .send(ListSessions {
            tenant_id: user.tenant_id,
            user_id: Some(user.id),
        })
        .await
        .map_err(AppError::internal)?;
    let body: Vec<DrfSession> = sessions
        .into_iter()
        .map(|s| DrfSession {
            session_id: s.session_id,
            session_type: "websocket".into(),
            is_active: true,
            last_ping: None,
            connected_at: time::format(&s.connected_at),
            user_agent: None,
            ip_address: None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `POST /api/chat/sessions/cleanup_old_sessions/`: Confab forgets a connection when it closes,
/// so there is never an inactive one to delete.
async fn cleanup_old_sessions(user: Result<AuthUser, AppError>) -> DrfResult {
    user?;
    Ok(HttpResponse::Ok().json(DrfCleanup {
        status: "cleanup completed".into(),
        deleted_sessions: 0,
    }))
}
