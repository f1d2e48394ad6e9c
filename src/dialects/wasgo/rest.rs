//! What seed 003's endpoints share: the conversation object as the caller sees it, the caller's
//! writes through the room's actor, page-number paging, and the `ws/notifications/` socket.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use super::socket::NotificationFrames;
use super::views::{
    conversation_type, related, WasgoConversation, WasgoMessage, WasgoParticipant, WasgoUser,
};
use crate::auth::AuthUser;
use crate::commands::SupportConversation;
use crate::db::{self, models::Room};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::routes::ws::{self, Dialect};
use crate::state::AppState;

pub use crate::dialects::drf::rest::DrfError as WasgoError;

pub type WasgoResult = Result<HttpResponse, WasgoError>;

/// Registers `path` with and without its trailing slash (as DRF's routers write them).
pub fn both(cfg: &mut web::ServiceConfig, path: &str, route: fn() -> actix_web::Route) {
    cfg.route(path, route())
        .route(path.trim_end_matches('/'), route());
}

/// The request's query as `T` (400 naming the problem otherwise).
pub fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> AppResult<T> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| AppError::bad_request_plain(format!("invalid query: {e}")))
}

/// A list-and-create path asked with another method: 405 in DRF's shape.
pub async fn get_or_post_only() -> WasgoResult {
    Err(AppError::MethodNotAllowed {
        allow: "GET, POST".into(),
    }
    .into())
}

/// The usernames (else display names) of a room's participants, by id.
pub fn usernames(members: &[db::models::User]) -> HashMap<Uuid, String> {
    members
        .iter()
        .map(|u| (u.id, WasgoUser::from(u).username))
        .collect()
}

/// Messages in 003's shape, with their senders' usernames.
pub async fn wasgo_messages(
    conn: &mut db::Conn,
    rows: &[db::models::Message],
) -> AppResult<Vec<WasgoMessage>> {
    let views = crate::routes::messages::views(conn, rows).await?;
    let ids: Vec<Uuid> = views.iter().map(|v| v.sender.id).collect();
    let mut names = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id) {
            if let Some(u) = db::users::find(conn, id).await? {
                e.insert(WasgoUser::from(&u).username);
            }
        }
    }
    Ok(views
        .iter()
        .map(|v| WasgoMessage::from_view(v, names.get(&v.sender.id).map(String::as_str)))
        .collect())
}

/// 003's conversation object of `room` as `user` sees it.
pub async fn conversation(
    conn: &mut db::Conn,
    user: &AuthUser,
    room: &Room,
) -> AppResult<WasgoConversation> {
    let members = db::rooms::active_members(conn, room.id).await?;
    let mine = members.iter().find(|(m, _)| m.user_id == user.id);
    let unread = match mine {
        Some((m, _)) => {
            db::messages::unread(conn, room.id, user.id, m.last_read_seq)
                .await?
                .0
        }
        None => 0,
    };
    let last = db::listing::last_messages(conn, &[room.id]).await?;
    let last = wasgo_messages(conn, &last).await?.pop();
    let participants: Vec<WasgoParticipant> = members
        .iter()
        .map(|(m, u)| WasgoParticipant {
            user: WasgoUser::from(u),
            role: seed_role(&m.role).into(),
            joined_at: time::format(&m.joined_at),
            last_read_seq: m.last_read_seq,
        })
        .collect();
    Ok(WasgoConversation {
        id: room.id,
        conversation_type: conversation_type(room),
        title: room.name.clone(),
        description: room.description.clone(),
        support_type: SupportConversation::type_of(room).map(str::to_owned),
        related_object: related(room),
        participant_count: participants.len(),
        participants,
        created_by: room.created_by,
        created_at: time::format(&room.created_at),
        updated_at: time::format(&room.updated_at),
        is_active: room.is_active,
        is_archived: mine.is_some_and(|(m, _)| m.archived),
        unread_count: unread,
        last_message: last,
    })
}

/// 003's participant roles: Confab's `member` is its `participant`, `owner` its `admin`.
pub fn seed_role(role: &str) -> &str {
    match role {
        "member" => "participant",
        "owner" => "admin",
        other => other,
    }
}

/// Confab's role of 003's: `participant` is `member`.
pub fn confab_role(role: &str) -> &str {
    match role {
        "participant" => "member",
        other => other,
    }
}

/// Writes go through the one path every entry point uses.
pub use crate::routes::rooms::write;

/// `?page=&page_size=` of a DRF list: (page, size) with the page 1 or more.
pub fn paging(
    state: &AppState,
    page: Option<i64>,
    page_size: Option<i64>,
) -> AppResult<(i64, i64)> {
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::bad_request("page", "page must be >= 1"));
    }
    let size = page_size
        .unwrap_or(20)
        .clamp(1, state.settings.limits.max_page_size);
    Ok((page, size))
}

/// The URL of another page of this list.
pub fn page_link(req: &HttpRequest, page: i64, size: i64, extra: &str) -> String {
    let info = req.connection_info();
    format!(
        "{}://{}{}?{extra}page={page}&page_size={size}",
        info.scheme(),
        info.host(),
        req.path()
    )
}

/// `ws/notifications/`: subscribed to the caller's rooms (its newest `limits.max_page_size`),
/// their events rendered as 003's notifications.
async fn notifications_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> AppResult<HttpResponse> {
    let user = crate::dialects::socket_user(&state, &req).await?;
    let mut conn = state.pool.get().await?;
    let rows = db::listing::unread_counts(&mut conn, user.id).await?;
    drop(conn);
    let first_frames = rows
        .iter()
        .take(usize::try_from(state.settings.limits.max_page_size).unwrap_or(0))
        .map(|r| json!({"type": "join_room", "room_id": r.room.id}).to_string())
        .collect();
    let dialect = Dialect {
        translate: Arc::new(NotificationFrames::new(user.id)),
        first_frames,
    };
    ws::start(&state, &req, body, user, Some(dialect)).await
}

pub fn configure_sockets(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/notifications/", web::get().to(notifications_socket))
        .route("/ws/notifications", web::get().to(notifications_socket));
}

/// Tells a new room's other members that they are in it (`room_added`, on every node).
pub async fn announce(
    state: &AppState,
    conn: &mut db::Conn,
    room: &Room,
    creator: Uuid,
) -> AppResult<()> {
    let members = db::rooms::active_members(conn, room.id).await?;
    let ids = members.iter().map(|(m, _)| m.user_id).collect();
    crate::routes::rooms::announce(state, room, ids, creator);
    Ok(())
}
