//! Presence over REST: who is online, my status.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::Json;
use crate::actors::presence::{LiveStatus, SetStatus};
use crate::auth::AuthUser;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::protocol::views::PresenceView;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/chat/presence", web::get().to(query))
        .route("/api/chat/presence/me", web::get().to(me))
        .route("/api/chat/presence/me", web::put().to(set_me))
        .route("/api/chat/presence/online", web::get().to(online));
}

/// Presence of users of my tenant: live on this node, else online on another node (with the
/// status they chose), else offline with the stored last_seen.
async fn presence_of(
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

#[derive(Deserialize)]
struct IdsQuery {
    #[serde(default)]
    user_ids: String,
}

async fn query(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<IdsQuery>,
) -> AppResult<HttpResponse> {
    let mut ids = Vec::new();
    for part in q
        .user_ids
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        ids.push(part.parse::<Uuid>().map_err(|_| {
            AppError::bad_request("user_ids", "user_ids must be comma-separated UUIDs")
        })?);
    }
    if ids.len() > 200 {
        return Err(AppError::bad_request("user_ids", "at most 200 user_ids"));
    }
    let results = presence_of(&state, user.tenant_id, ids).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let mine = presence_of(&state, user.tenant_id, vec![user.id]).await?;
    Ok(HttpResponse::Ok().json(mine.into_iter().next()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    current_room: Option<Uuid>,
}

async fn set_me(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<StatusBody>,
) -> AppResult<HttpResponse> {
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
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<usize>,
    limit: Option<usize>,
}

async fn online(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
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
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let results: Vec<PresenceView> = all.into_iter().skip(offset).take(limit).collect();
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "results": results, "total": total, "offset": offset })))
}
