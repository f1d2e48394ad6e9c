//! The seed systems' dialects: their URLs, frames and JSON, translated into Confab's commands and
//! reads, and Confab's outcomes and events rendered back in their shapes (docs/DIALECTS.md).
//! A dialect holds no rule of its own: permissions, limits and validation are the commands'.

pub mod academia;
pub mod drf;
// Issue 19: old integer ids of imported rooms and messages.
pub mod ids;
// Seeds 000 and 002 (issue 13).
pub mod notifications;
// Seed 003 (issue 13).
pub mod wasgo;

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::commands::{access, Caller};
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::routes::ws::{self, Dialect};
use crate::state::AppState;

/// Every dialect's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(drf::configure);
    cfg.configure(notifications::configure);
    // 001 before 003: they share `/chat/messages/…`.
    cfg.configure(academia::configure);
    cfg.configure(wasgo::configure);
}

/// Which frames a per-room socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomSocket {
    /// Seed 004 (DRF + Channels).
    Drf,
    /// Seed 003 (Wasgo).
    Wasgo,
}

impl RoomSocket {
    /// `?dialect=` of the handshake, else the setting `dialects.room_socket`.
    fn of(req: &HttpRequest, setting: &str) -> AppResult<RoomSocket> {
        let asked = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .ok()
            .and_then(|q| {
                q.0.iter()
                    .find(|(k, _)| k == "dialect")
                    .map(|(_, v)| v.clone())
            });
        match asked.as_deref().unwrap_or(setting) {
            "drf" => Ok(RoomSocket::Drf),
            "wasgo" => Ok(RoomSocket::Wasgo),
            other => Err(AppError::bad_request(
                "dialect",
                format!("unknown dialect `{other}` (this server speaks: drf, wasgo)"),
            )),
        }
    }
}

/// `/ws/chat/{room_id}/`: a socket subscribed to one room the caller may read, whose frames name
/// no room (404 for a room of another tenant or one the caller is not in).
pub async fn room_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    user: AuthUser,
    room_id: Uuid,
) -> AppResult<HttpResponse> {
    let kind = RoomSocket::of(&req, &state.settings.dialects.room_socket)?;
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &caller, room_id, Access::Read).await?;
    drop(conn);
    open_room_socket(&state, &req, body, user, room_id, kind).await
}

async fn open_room_socket(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
    user: AuthUser,
    room_id: Uuid,
    kind: RoomSocket,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let members: Vec<_> = crate::db::rooms::active_members(&mut conn, room_id)
        .await?
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    drop(conn);
    let translate: Arc<dyn crate::transport::Translate> = match kind {
        RoomSocket::Drf => Arc::new(drf::socket::RoomFrames::new(room_id, &user, &members)),
        RoomSocket::Wasgo => Arc::new(wasgo::socket::ConversationFrames::new(
            room_id,
            user.id,
            wasgo::rest::usernames(&members),
        )),
    };
    let dialect = Dialect {
        translate,
        first_frames: drf::socket::first_frames(room_id),
    };
    ws::start(state, req, body, user, Some(dialect)).await
}

/// The user of a handshake: the header, or `?token=` (a browser's WebSocket sets no header).
pub async fn socket_user(state: &AppState, req: &HttpRequest) -> AppResult<AuthUser> {
    ws::authenticate_handshake(state, req).await
}

/// `/ws/direct/{user_id}/`: the caller's direct room with that user (created when missing), as
/// a per-room socket. The user id may be the platform's (a UUID or an integer).
async fn direct_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let other = crate::auth::claims::parse_user_id(&path).ok_or(AppError::NotFound)?;
    let user = socket_user(&state, &req).await?;
    let kind = RoomSocket::of(&req, &state.settings.dialects.room_socket)?;
    let mut conn = state.pool.get().await?;
    let direct = crate::commands::direct::open(&mut conn, &Caller::from_auth(&user), other).await?;
    drop(conn);
    open_room_socket(&state, &req, body, user, direct.room.id, kind).await
}

/// The socket routes every dialect shares.
pub fn configure_sockets(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/direct/{user_id}/", web::get().to(direct_socket))
        .route("/ws/direct/{user_id}", web::get().to(direct_socket));
}

/// The native frame `native` for the socket's room, with the seed frame's other fields.
pub fn room_frame(
    native: &str,
    room_id: Uuid,
    seed: serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut frame = serde_json::Map::new();
    frame.insert("type".into(), native.into());
    frame.insert("room_id".into(), room_id.to_string().into());
    for (k, v) in seed {
        frame.entry(k).or_insert(v);
    }
    serde_json::Value::Object(frame).to_string()
}

/// A native frame every dialect's socket passes on as it is, since seed clients ignore frame
/// types they do not know: `blocks` (whom the user blocks, so a client can collapse them).
pub fn as_is(text: &str) -> Option<bytestring::ByteString> {
    Some(bytestring::ByteString::from(text))
}

/// A frame type the socket does not speak: the session refuses it by its name.
pub fn not_a_frame(kind: &str) -> String {
    serde_json::json!({ "type": format!("{kind} (not a frame of this socket)") }).to_string()
}

/// A seed's client frame: its `type` and its other fields; Err(the text to hand on unchanged)
/// when it is not a JSON object (the session answers its parse error).
pub fn seed_frame(
    text: &str,
) -> Result<(Option<String>, serde_json::Map<String, serde_json::Value>), String> {
    let Ok(serde_json::Value::Object(mut seed)) = serde_json::from_str(text) else {
        return Err(text.to_owned());
    };
    let kind = seed
        .remove("type")
        .and_then(|t| t.as_str().map(str::to_owned));
    Ok((kind, seed))
}
