//! The seed systems' dialects: their URLs, frames and JSON, translated into Confab's commands and
//! reads, and Confab's outcomes and events rendered back in their shapes (docs/DIALECTS.md).
//! A dialect holds no rule of its own: permissions, limits and validation are the commands'.

pub mod drf;
// Seeds 000 and 002 (issue 13).
pub mod notifications;

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
}

/// Which frames a per-room socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomSocket {
    /// Seed 004 (DRF + Channels).
    Drf,
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
            other => Err(AppError::bad_request(
                "dialect",
                format!("unknown dialect `{other}` (this server speaks: drf)"),
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
    let translate = match kind {
        RoomSocket::Drf => Arc::new(drf::socket::RoomFrames::new(room_id, &user, &members)),
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
