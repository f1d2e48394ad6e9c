//! Seed 003's `/chat/messages/…`: list (by conversation, DRF's page), send, get, edit, delete,
//! react (a toggle), per-message `mark_read` (`was_already_read`) and `mark_multiple_read`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::rest::{both, get_or_post_only, page_link, paging, wasgo_messages, write, WasgoResult};
use super::views::{WasgoPage, WasgoStatus};
use crate::auth::AuthUser;
use crate::commands::{
    access, Caller, Command, DeleteMessage, Draft, EditMessage, MarkRead, React, SendMessage,
};
use crate::db;
use crate::dialects::ids::AnyId;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/chat/messages/", || web::get().to(list));
    both(cfg, "/chat/messages/", || web::post().to(send));
    both(cfg, "/chat/messages/", || web::route().to(get_or_post_only));
    both(cfg, "/chat/messages/mark_multiple_read/", || {
        web::post().to(mark_multiple_read)
    });
    both(cfg, "/chat/messages/{id}/", || web::get().to(detail));
    both(cfg, "/chat/messages/{id}/{action}/", || {
        web::post().to(action)
    });
}

#[derive(Deserialize)]
struct ListQuery {
    /// 001 filters by `room`.
    #[serde(alias = "room")]
    conversation: Option<AnyId>,
    page: Option<i64>,
    page_size: Option<i64>,
}

/// `GET /chat/messages/?conversation=&page=&page_size=`: oldest first, DRF's page.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> WasgoResult {
    let (state, req, user) = (&state, &req, &user?);
    let q: ListQuery = super::rest::query(req)?;
    let asked = q.conversation.ok_or_else(|| {
        AppError::bad_request(
            "conversation",
            "the conversation query parameter is required",
        )
    })?;
    let room_id = asked.room(state, user, "conversation").await?;
    let extra = format!("conversation={room_id}&");
    room_page(state, req, user, room_id, (q.page, q.page_size), &extra).await
}

/// A room's messages, oldest first, as DRF's page (`?page=&page_size=`); `extra` goes into the
/// page links' query.
pub async fn room_page(
    state: &AppState,
    req: &HttpRequest,
    user: &AuthUser,
    room_id: Uuid,
    (page, page_size): (Option<i64>, Option<i64>),
    extra: &str,
) -> WasgoResult {
    let (page, size) = paging(state, page, page_size)?;
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &Caller::from_auth(user), room_id, Access::Read).await?;
    let (rows, count) =
        db::messages::numbered_page(&mut conn, room_id, (page - 1) * size, size).await?;
    if rows.is_empty() && page > 1 {
        return Err(AppError::NotFound.into());
    }
    let results = wasgo_messages(&mut conn, &rows).await?;
    Ok(HttpResponse::Ok().json(WasgoPage {
        count,
        next: (page * size < count).then(|| page_link(req, page + 1, size, extra)),
        previous: (page > 1).then(|| page_link(req, page - 1, size, extra)),
        results,
    }))
}

#[derive(Deserialize)]
struct SendBody {
    /// 001 names it `room`.
    #[serde(alias = "room")]
    conversation: AnyId,
    #[serde(default)]
    content: String,
    message_type: Option<String>,
    reply_to: Option<AnyId>,
    metadata: Option<serde_json::Value>,
    attachment_id: Option<Uuid>,
}

/// `POST /chat/messages/ {conversation, content, message_type, reply_to, metadata}`: 201.
async fn send(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let (state, user) = (&state, &user?);
    let body: SendBody = parse_json(&body)?;
    let room_id = body.conversation.room(state, user, "conversation").await?;
    let reply_to = match &body.reply_to {
        Some(id) => Some(id.message(state, user, "reply_to").await?),
        None => None,
    };
    let draft = Draft {
        content: &body.content,
        message_type: body.message_type.as_deref(),
        reply_to,
        attachment_id: body.attachment_id,
        metadata: body.metadata.as_ref(),
        client_id: None,
    };
    let message = post(state, user, room_id, &draft).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(message))
}

/// Sends `draft` to the room (every limit and rule of `SendMessage`); the message in 003's shape.
pub async fn post(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    draft: &Draft<'_>,
) -> AppResult<super::views::WasgoMessage> {
    let post = SendMessage::accept(&state.settings, &state.rates, user.id, draft)?;
    let out = write(state, user, room_id, Command::Send(post)).await?;
    let id = out
        .message
        .map(|m| m.id)
        .ok_or_else(|| AppError::internal("the room actor answered no message"))?;
    one(state, user, id).await
}

/// A message of a conversation the caller may read, in 003's shape (404 otherwise).
pub async fn one(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<super::views::WasgoMessage> {
    let (_, row) = readable(state, user, id).await?;
    let mut conn = state.pool.get().await?;
    wasgo_messages(&mut conn, &[row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The message and its room, when the caller may read the room.
pub async fn readable(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<(Uuid, db::models::Message)> {
    let mut conn = state.pool.get().await?;
    let room_id = db::messages::room_of(&mut conn, user.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    access::room(&mut conn, &Caller::from_auth(user), room_id, Access::Read).await?;
    let row = db::messages::find_in_room(&mut conn, room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((room_id, row))
}

async fn detail(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::message(&state, &user, &path).await?;
    Ok(HttpResponse::Ok().json(one(&state, &user, id).await?))
}

#[derive(Deserialize)]
struct EditBody {
    content: String,
}

#[derive(Deserialize)]
struct ReactBody {
    emoji: String,
}

/// `POST /chat/messages/{id}/{edit|delete|react|mark_read}/`.
async fn action(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let (raw, action) = path.into_inner();
    let id = crate::dialects::ids::message(&state, &user, &raw).await?;
    let (room_id, _) = readable(&state, &user, id).await?;
    match action.as_str() {
        "edit" => {
            let body: EditBody = parse_json(&body)?;
            let edit = EditMessage::parse(&state.settings, id.into(), &body.content)?;
            write(&state, &user, room_id, Command::Edit(edit)).await?;
            Ok(HttpResponse::Ok().json(one(&state, &user, id).await?))
        }
        "delete" => {
            let delete = DeleteMessage {
                message_id: id.into(),
            };
            write(&state, &user, room_id, Command::Delete(delete)).await?;
            Ok(HttpResponse::Ok().json(WasgoStatus::new("message deleted")))
        }
        "react" => react(&state, &user, room_id, id, &body).await,
        "mark_read" => {
            let command = MarkRead::of_messages("message_id", vec![id])?;
            let out = write(&state, &user, room_id, Command::MarkRead(command)).await?;
            Ok(HttpResponse::Ok().json(WasgoStatus {
                was_already_read: Some(out.already_read),
                ..WasgoStatus::new("marked as read")
            }))
        }
        _ => Err(AppError::NotFound.into()),
    }
}

/// `react {emoji}`: a toggle; answers `action` (`added` or `removed`) and the reactions after.
async fn react(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    id: Uuid,
    body: &[u8],
) -> WasgoResult {
    let body: ReactBody = parse_json(body)?;
    let command = React::toggle(id.into(), &body.emoji)?;
    let emoji = command.emoji.clone();
    write(state, user, room_id, Command::React(command)).await?;
    let message = one(state, user, id).await?;
    let mine = message
        .reactions
        .iter()
        .any(|r| r.emoji == emoji && r.user_ids.contains(&user.id));
    Ok(HttpResponse::Ok().json(WasgoStatus {
        action: Some(if mine { "added" } else { "removed" }.into()),
        reactions: Some(message.reactions),
        ..WasgoStatus::new(if mine {
            "reaction added"
        } else {
            "reaction removed"
        })
    }))
}

#[derive(Deserialize)]
struct MultipleBody {
    message_ids: Vec<AnyId>,
}

/// `POST /chat/messages/mark_multiple_read/ {message_ids}`: each conversation read up to its
/// newest named message. Every id must be a message the caller may read (else 404, nothing
/// changed).
async fn mark_multiple_read(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let body: MultipleBody = parse_json(&body)?;
    let mut asked = body.message_ids;
    asked.sort_by_key(AnyId::text);
    asked.dedup_by_key(|id| id.text());
    // The command's rule on the list's size, before any id is looked up.
    let placeholders = (0..asked.len())
        .map(|n| Uuid::from_u128(n as u128))
        .collect();
    MarkRead::of_messages("message_ids", placeholders)?;
    let mut ids = Vec::with_capacity(asked.len());
    for id in &asked {
        ids.push(id.message(&state, &user, "message_ids").await?);
    }
    MarkRead::of_messages("message_ids", ids.clone())?;
    let mut by_room: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for id in &ids {
        let (room_id, _) = readable(&state, &user, *id).await?;
        by_room.entry(room_id).or_default().push(*id);
    }
    for (room_id, ids) in by_room {
        let command = MarkRead::of_messages("message_ids", ids)?;
        write(&state, &user, room_id, Command::MarkRead(command)).await?;
    }
    ids.sort();
    ids.dedup();
    Ok(HttpResponse::Ok().json(WasgoStatus {
        marked_count: Some(ids.len()),
        ..WasgoStatus::new("messages marked as read")
    }))
}
