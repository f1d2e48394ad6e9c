//! Presence over REST: who is online, my status.

use std::collections::HashMap;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{BadRequest, NotFound, Results, TooLarge, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::Json;
use super::schemas;
use crate::actors::presence::{LiveStatus, SetStatus};
use crate::auth::AuthUser;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::protocol::views::PresenceView;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/chat/presence").get(query).build())
        .service(
            Endpoint::new("/api/chat/presence/me")
                .get(me)
                .put(set_me)
                .build(),
        )
        .service(
            Endpoint::new("/api/chat/presence/online")
                .get(online)
                .build(),
        );
}

/// Presence of users of my tenant: live on this node, else online on another node (with the
/// status they chose), else offline with the stored last_seen.
pub async fn presence_of(
    state: &AppState,
    tenant_id: Uuid,
    ids: Vec<Uuid>,
) -> AppResult<Vec<PresenceView>> {
    let mut conn = state.pool.get().await?;
    let known = db::users::existing_in_tenant(&mut conn, tenant_id, &ids).await?;
    let live: HashMap<Uuid, PresenceView> = state
        .presence
        .send(LiveStatus {
            tenant_id,
            user_ids: Some(known.clone()),
        })
        .await
        .map_err(AppError::internal)?;
    let stored: HashMap<Uuid, db::presence::PresenceRow> = db::presence::load(&mut conn, &known)
        .await?
        .into_iter()
        .map(|row| (row.0, row))
        .collect();
    let not_here: Vec<Uuid> = known
        .iter()
        .filter(|id| !live.contains_key(id))
        .copied()
        .collect();
    let elsewhere = state.broker.online_elsewhere(not_here).await;
    Ok(ids
        .into_iter()
        .filter(|id| known.contains(id))
        .map(|id| match live.get(&id) {
            Some(v) => v.clone(),
            None => {
                let row = stored.get(&id);
                let online = elsewhere.contains(&id);
                let status = match (online, row.and_then(|r| r.1.clone())) {
                    (true, Some(manual)) => manual,
                    (true, None) => "online".to_owned(),
                    (false, _) => "offline".to_owned(),
                };
                PresenceView {
                    user_id: id,
                    status,
                    last_seen: row.map(|r| r.3),
                    current_room: if online { row.and_then(|r| r.2) } else { None },
                }
            }
        })
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IdsQuery {
    /// Comma-separated user ids, at most 200.
    #[serde(default)]
    #[param(schema_with = schemas::user_ids)]
    user_ids: String,
}

/// Presence of some users of the tenant.
#[utoipa::path(
    get,
    path = "/api/chat/presence",
    operation_id = "presence_query",
    params(IdsQuery),
    tag = "presence",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Their presence (unknown ids left out)", body = Results<PresenceView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn query(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<IdsQuery>,
) -> AppResult<web::Json<Results<PresenceView>>> {
    let ids = parse_ids(&q.user_ids)?;
    let results = presence_of(&state, user.tenant_id, ids).await?;
    Ok(web::Json(Results::new(results)))
}

/// `user_ids` as the document states it: empty, or up to 200 UUIDs joined by commas, nothing
/// else (no spaces, no empty parts).
fn parse_ids(raw: &str) -> AppResult<Vec<Uuid>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let bad = || AppError::bad_request("user_ids", "user_ids must be comma-separated UUIDs");
    let ids = raw
        .split(',')
        .map(|part| {
            let well_formed =
                part.len() == 36 && part.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit());
            well_formed
                .then(|| part.parse::<Uuid>().ok())
                .flatten()
                .ok_or_else(bad)
        })
        .collect::<AppResult<Vec<Uuid>>>()?;
    if ids.len() > 200 {
        return Err(AppError::bad_request("user_ids", "at most 200 user_ids"));
    }
    Ok(ids)
}

/// The caller's presence.
#[utoipa::path(
    get,
    path = "/api/chat/presence/me",
    operation_id = "presence_me",
    tag = "presence",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's presence", body = PresenceView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<web::Json<PresenceView>> {
    let mine = presence_of(&state, user.tenant_id, vec![user.id]).await?;
    // Only an account that no longer exists has none.
    mine.into_iter()
        .next()
        .map(web::Json)
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    /// `online` clears a manual status.
    #[schema(schema_with = schemas::presence_status)]
    status: String,
    current_room: Option<Uuid>,
}

/// Set the caller's status.
#[utoipa::path(
    put,
    path = "/api/chat/presence/me",
    operation_id = "presence_set_me",
    tag = "presence",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new presence", body = PresenceView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge)
    )
)]
async fn set_me(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<StatusBody>,
) -> AppResult<web::Json<PresenceView>> {
    let view = state
        .presence
        .send(SetStatus {
            user_id: user.id,
            tenant_id: user.tenant_id,
            status: body.status,
            current_room: body.current_room,
        })
        .await
        .map_err(AppError::internal)??;
    Ok(web::Json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// Skip this many (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Page size (default 50, at most 100).
    limit: Option<i64>,
}

/// A page of the users online in the tenant, by user id.
#[derive(Serialize, ToSchema)]
pub struct OnlinePage {
    pub results: Vec<PresenceView>,
    pub total: usize,
    pub offset: usize,
}

/// Users online in the tenant, a page at a time.
#[utoipa::path(
    get,
    path = "/api/chat/presence/online",
    operation_id = "presence_online",
    params(PageQuery),
    tag = "presence",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of online users", body = OnlinePage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn online(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<OnlinePage>> {
    let live = state
        .presence
        .send(LiveStatus {
            tenant_id: user.tenant_id,
            user_ids: None,
        })
        .await
        .map_err(AppError::internal)?;
    let mut all: Vec<PresenceView> = live.into_values().collect();
    all.sort_by_key(|p| p.user_id);
    let total = all.len();
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::bad_request("offset", "offset must be >= 0"));
    }
    let (offset, limit) = (
        offset as usize,
        q.limit.unwrap_or(50).clamp(1, 100) as usize,
    );
    let results: Vec<PresenceView> = all.into_iter().skip(offset).take(limit).collect();
    Ok(web::Json(OnlinePage {
        results,
        total,
        offset,
    }))
}
