//! The admin API (`/api/admin`): admin or service tokens, always within their own tenant.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::Json;
use crate::actors::presence::{KickUser, ListSessions};
use crate::actors::room::{NewPost, WriteOp};
use crate::actors::supervisor::{self, RunningRooms};
use crate::actors::Actor as Caller;
use crate::auth::{JwtKeys, Role, ServiceUser};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::protocol::views::RoomView;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/admin/stats", web::get().to(stats))
        .route("/api/admin/rooms", web::get().to(rooms))
        .route(
            "/api/admin/rooms/{room_id}/system_message",
            web::post().to(system_message),
        )
        .route(
            "/api/admin/messages/{message_id}",
            web::delete().to(delete_message),
        )
        .route("/api/admin/users/{user_id}/ban", web::post().to(ban))
        .route("/api/admin/users/{user_id}/unban", web::post().to(unban))
        .route("/api/admin/tokens", web::post().to(mint_token))
        .route("/api/admin/sessions", web::get().to(sessions));
}

async fn stats(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<HttpResponse> {
    let sessions = state
        .presence
        .send(ListSessions {
            tenant_id: user.tenant_id,
            user_id: None,
        })
        .await
        .map_err(AppError::internal)?;
    let running = state
        .supervisor
        .send(RunningRooms)
        .await
        .map_err(AppError::internal)?;
    let mut conn = state.pool.get().await?;
    let (rooms, active_rooms, last_minute, messages) =
        db::admin::counts(&mut conn, user.tenant_id).await?;
    let mut node = crate::startup::node_stats(state.broker.node_id(), &state.metrics);
    node["room_actors"] = serde_json::json!(running.len());
    let mut nodes = state.broker.cluster_stats().await;
    nodes.retain(|n| n["node_id"] != node["node_id"]);
    nodes.insert(0, node.clone());
    let sum = |key: &str| nodes.iter().filter_map(|n| n[key].as_i64()).sum::<i64>();
    let cluster = serde_json::json!({
        "nodes": nodes.len(),
        "connections": sum("connections"),
        "room_actors": sum("room_actors"),
        "messages_committed": sum("messages_committed"),
    });
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "tenant": {
            "connections": sessions.len(),
            "rooms": rooms,
            "active_rooms": active_rooms,
            "messages": messages,
            "messages_per_minute": last_minute,
        },
        "node": node,
        "cluster": cluster,
        "cluster_nodes": nodes,
    })))
}

#[derive(Deserialize)]
struct RoomsQuery {
    q: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
}

async fn rooms(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    p: web::Query<RoomsQuery>,
) -> AppResult<HttpResponse> {
    let limit = p
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    let offset = p.offset.unwrap_or(0).max(0);
    if p.q
        .as_deref()
        .is_some_and(|q| q.chars().count() > state.settings.limits.max_search_query_chars)
    {
        return Err(AppError::bad_request("q", "q is too long"));
    }
    let mut conn = state.pool.get().await?;
    let rows = db::admin::rooms(&mut conn, user.tenant_id, p.q.as_deref(), offset, limit).await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in &rows {
        let count = db::rooms::member_count(&mut conn, r.id).await?;
        results.push(RoomView::build(r, count));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results, "offset": offset })))
}

#[derive(Deserialize)]
struct SystemBody {
    content: String,
    metadata: Option<serde_json::Value>,
    client_id: Option<String>,
}

async fn system_message(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<SystemBody>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let post = NewPost::parse(
        &state.settings,
        &body.content,
        Some("system"),
        None,
        None,
        body.metadata.as_ref(),
        body.client_id.as_deref(),
    )?;
    let out = supervisor::apply(
        &state.supervisor,
        room_id,
        Caller::from_auth(&user),
        WriteOp::Send(post),
    )
    .await?;
    Ok(HttpResponse::Created().json(out.message))
}

async fn delete_message(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let message_id = path.into_inner();
    let room_id = {
        let mut conn = state.pool.get().await?;
        db::messages::room_of(&mut conn, user.tenant_id, message_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    supervisor::apply(
        &state.supervisor,
        room_id,
        Caller::from_auth(&user),
        WriteOp::Delete { message_id },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_ban(
    state: &AppState,
    user: &crate::auth::AuthUser,
    target: Uuid,
    banned: bool,
) -> AppResult<HttpResponse> {
    if target == user.id {
        return Err(AppError::bad_request("user_id", "nobody bans themselves"));
    }
    let mut conn = state.pool.get().await?;
    if db::users::set_banned(&mut conn, user.tenant_id, target, banned).await? == 0 {
        return Err(AppError::NotFound);
    }
    let closed = if banned {
        state
            .presence
            .send(KickUser {
                user_id: target,
                login: None,
                reason: "banned".into(),
                relay: true,
            })
            .await
            .map_err(AppError::internal)?
    } else {
        0
    };
    Ok(HttpResponse::Ok().json(
        serde_json::json!({ "user_id": target, "banned": banned, "connections_closed": closed }),
    ))
}

async fn ban(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_ban(&state, &user, path.into_inner(), true).await
}

async fn unban(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_ban(&state, &user, path.into_inner(), false).await
}

#[derive(Deserialize)]
struct TokenBody {
    user_id: Uuid,
    ttl_secs: Option<i64>,
    /// Display name for a user the server has not seen yet (provisioned on first use).
    name: Option<String>,
}

/// Mints a user token for the platform (service tokens only).
async fn mint_token(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    Json(body): Json<TokenBody>,
) -> AppResult<HttpResponse> {
    if user.role != Role::Service {
        return Err(AppError::Forbidden(
            "only service tokens mint user tokens".into(),
        ));
    }
    let ttl = body.ttl_secs.unwrap_or(3600);
    if !(60..=86_400).contains(&ttl) {
        return Err(AppError::bad_request(
            "ttl_secs",
            "ttl_secs must be 60 to 86400",
        ));
    }
    let mut conn = state.pool.get().await?;
    let (name, role) = match db::users::find(&mut conn, body.user_id).await? {
        Some(u) if u.tenant_id == user.tenant_id => {
            if u.is_banned {
                return Err(AppError::Forbidden("the user is banned".into()));
            }
            (u.display_name, Role::parse(&u.role).unwrap_or_default())
        }
        Some(_) => return Err(AppError::NotFound),
        None => {
            let name = body.name.as_deref().ok_or(AppError::NotFound)?;
            (crate::domain::display_name("name", name)?, Role::User)
        }
    };
    if role == Role::Service {
        return Err(AppError::Forbidden(
            "tokens for service accounts are not minted here".into(),
        ));
    }
    let claims = JwtKeys::claims_for(body.user_id, user.tenant_id, &name, role, ttl, None);
    let token = state.jwt.mint(claims)?;
    Ok(HttpResponse::Created().json(
        serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl }),
    ))
}

#[derive(Deserialize)]
struct SessionsQuery {
    user_id: Option<Uuid>,
}

async fn sessions(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    p: web::Query<SessionsQuery>,
) -> AppResult<HttpResponse> {
    let list = state
        .presence
        .send(ListSessions {
            tenant_id: user.tenant_id,
            user_id: p.user_id,
        })
        .await
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": list })))
}
