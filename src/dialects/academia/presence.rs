//! Seed 001's presence: `/chat/presence/` (mine, or `?user=`; `PUT` sets it), `…/online/`,
//! `…/typing/?room=`, and the presence socket `/ws/presence/`, whose connection sets the user
//! online and tells the users sharing a room with them (Confab's presence), in 001's shape.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::views::AcademiaPresence;
use crate::actors::presence::{LiveStatus, SetStatus};
use crate::actors::room::ListTyping;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::{access, Caller};
use crate::dialects::wasgo::rest::{both, query, WasgoResult};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::frames::ServerFrame;
use crate::protocol::json::parse_json;
use crate::protocol::views::PresenceView;
use crate::routes::ws::{self, Dialect};
use crate::state::AppState;
use crate::transport::Translate;

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/chat/presence/", || web::get().to(get));
    both(cfg, "/chat/presence/", || web::put().to(put));
    both(cfg, "/chat/presence/online/", || web::get().to(online));
    both(cfg, "/chat/presence/typing/", || web::get().to(typing));
    cfg.route("/ws/presence/", web::get().to(socket))
        .route("/ws/presence", web::get().to(socket));
}

fn academia(p: PresenceView, is_typing: bool) -> AcademiaPresence {
    AcademiaPresence {
        user: p.user_id,
        status: p.status,
        last_seen: p.last_seen.as_ref().map(time::format),
        is_typing,
        current_room: p.current_room,
    }
}

#[derive(Deserialize)]
struct UserQuery {
    user: Option<Uuid>,
}

/// `GET /chat/presence/?user=`: the caller's presence, or a user's of the caller's tenant.
async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> WasgoResult {
    let user = user?;
    let q: UserQuery = query(&req)?;
    let who = q.user.unwrap_or(user.id);
    let found = crate::routes::presence::presence_of(&state, user.tenant_id, vec![who]).await?;
    let p = found.into_iter().next().ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(academia(p, false)))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    current_room: Option<Uuid>,
}

/// `PUT /chat/presence/ {status, current_room}`: `online`, `away`, `busy` or `offline`.
async fn put(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let body: StatusBody = parse_json(&body)?;
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
    Ok(HttpResponse::Ok().json(academia(view, false)))
}

/// `GET /chat/presence/online/`: the users of the tenant online on this node (a plain list).
async fn online(state: web::Data<AppState>, user: Result<AuthUser, AppError>) -> WasgoResult {
    let user = user?;
    let live = state
        .presence
        .send(LiveStatus {
            tenant_id: user.tenant_id,
            user_ids: None,
        })
        .await
        .map_err(AppError::internal)?;
    let mut all: Vec<PresenceView> = live
        .into_values()
        .filter(|p| p.status != "offline")
        .collect();
    all.sort_by_key(|p| p.user_id);
    let body: Vec<AcademiaPresence> = all.into_iter().map(|p| academia(p, false)).collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct RoomQuery {
    room: Option<Uuid>,
}

/// `GET /chat/presence/typing/?room=`: who is typing in a room the caller may read (the
/// caller aside), as presences with `is_typing: true`.
async fn typing(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> WasgoResult {
    let user = user?;
    let q: RoomQuery = query(&req)?;
    let room_id = q
        .room
        .ok_or_else(|| AppError::bad_request("room", "the room query parameter is required"))?;
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &caller, room_id, Access::Read).await?;
    drop(conn);
    let addr = supervisor::room(&state.supervisor, room_id.into()).await?;
    let ids = addr
        .send(ListTyping {
            tenant_id: caller.tenant_id,
            user_id: caller.user_id,
        })
        .await
        .map_err(AppError::internal)??;
    let found = crate::routes::presence::presence_of(&state, user.tenant_id, ids).await?;
    let body: Vec<AcademiaPresence> = found.into_iter().map(|p| academia(p, true)).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `/ws/presence/`: a session in no room; its presence frames rendered as 001's.
async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> AppResult<HttpResponse> {
    let user = crate::dialects::socket_user(&state, &req).await?;
    let dialect = Dialect {
        translate: Arc::new(PresenceFrames),
        first_frames: Vec::new(),
    };
    ws::start(&state, &req, body, user, Some(dialect)).await
}

/// The presence socket's frames: client `update_status {status, current_room}` and `ping`;
/// server `connection_established`, `presence_update`, `pong`, `error`.
pub struct PresenceFrames;

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum PresenceFrame {
    ConnectionEstablished {
        user_id: Uuid,
        status: &'static str,
    },
    PresenceUpdate {
        #[serde(flatten)]
        presence: AcademiaPresence,
        user_id: Uuid,
    },
    Pong,
    Error {
        error: String,
        code: String,
        message: String,
    },
}

impl Translate for PresenceFrames {
    fn inbound(&self, text: &str) -> String {
        let (kind, mut seed) = match crate::dialects::seed_frame(text) {
            Ok(frame) => frame,
            Err(unchanged) => return unchanged,
        };
        match kind.as_deref() {
            Some("update_status") => {
                let status = seed.remove("status").unwrap_or(Value::Null);
                let room = seed.remove("current_room").unwrap_or(Value::Null);
                json!({"type": "update_presence", "status": status, "current_room": room})
                    .to_string()
            }
            Some("ping") | Some("heartbeat") => json!({"type": "ping"}).to_string(),
            Some(other) => crate::dialects::not_a_frame(other),
            None => Value::Object(seed).to_string(),
        }
    }

    fn outbound(&self, text: &str) -> Option<ByteString> {
        let frame = match serde_json::from_str::<ServerFrame>(text).ok()? {
            ServerFrame::ConnectionEstablished { user_id, .. } => {
                PresenceFrame::ConnectionEstablished {
                    user_id,
                    status: "online",
                }
            }
            ServerFrame::PresenceUpdate { presence } => PresenceFrame::PresenceUpdate {
                user_id: presence.user_id,
                presence: academia(presence, false),
            },
            ServerFrame::Pong => PresenceFrame::Pong,
            ServerFrame::Error { error, .. } => PresenceFrame::Error {
                error: error.message.clone(),
                code: error.code,
                message: error.message,
            },
            ServerFrame::Blocks { .. } => return crate::dialects::as_is(text),
            _ => return None,
        };
        serde_json::to_string(&frame).ok().map(ByteString::from)
    }
}
