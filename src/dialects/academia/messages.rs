//! Seed 001's message endpoints that 003 does not share: `PUT` and `DELETE /chat/messages/{id}/`,
//! `GET …/{id}/reactions/`, `POST …/{id}/reply/`. (`GET`/`POST /chat/messages/`, `GET …/{id}/`
//! and `POST …/{id}/react/` are the same paths as 003's and served there, in one shape.)

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::views::AcademiaReaction;
use crate::auth::AuthUser;
use crate::commands::{Command, DeleteMessage, Draft, EditMessage};
use crate::dialects::wasgo::messages::{one, post, readable};
use crate::dialects::wasgo::rest::{both, write, WasgoResult};
use crate::error::AppError;
use crate::protocol::json::parse_json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/chat/messages/{id}/", || web::put().to(edit));
    both(cfg, "/chat/messages/{id}/", || web::delete().to(delete));
    both(cfg, "/chat/messages/{id}/reactions/", || {
        web::get().to(reactions)
    });
    both(cfg, "/chat/messages/{id}/reply/", || web::post().to(reply));
}

#[derive(Deserialize)]
struct EditBody {
    content: String,
}

/// `PUT /chat/messages/{id}/ {content}`: `EditMessage` (the sender, within
/// `limits.edit_window_secs`); the message.
async fn edit(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::message(&state, &user, &path).await?;
    let body: EditBody = parse_json(&body)?;
    let (room_id, _) = readable(&state, &user, id).await?;
    let edit = EditMessage::parse(&state.settings, id.into(), &body.content)?;
    write(&state, &user, room_id, Command::Edit(edit)).await?;
    Ok(HttpResponse::Ok().json(one(&state, &user, id).await?))
}

/// `DELETE /chat/messages/{id}/`: `DeleteMessage` (the sender within
/// `limits.delete_window_secs`, or a moderator); 204.
async fn delete(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::message(&state, &user, &path).await?;
    let (room_id, _) = readable(&state, &user, id).await?;
    let delete = DeleteMessage {
        message_id: id.into(),
    };
    write(&state, &user, room_id, Command::Delete(delete)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /chat/messages/{id}/reactions/`: `[{emoji, count, users}]`.
async fn reactions(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::message(&state, &user, &path).await?;
    let message = one(&state, &user, id).await?;
    let body: Vec<AcademiaReaction> = message
        .reactions
        .into_iter()
        .map(|r| AcademiaReaction {
            emoji: r.emoji,
            count: r.count,
            users: r.user_ids,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct ReplyBody {
    #[serde(default)]
    content: String,
    message_type: Option<String>,
}

/// `POST /chat/messages/{id}/reply/ {content, message_type}`: a message in the same room
/// replying to this one; 201.
async fn reply(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::message(&state, &user, &path).await?;
    let body: ReplyBody = parse_json(&body)?;
    let (room_id, _) = readable(&state, &user, id).await?;
    let draft = Draft {
        content: &body.content,
        message_type: body.message_type.as_deref(),
        reply_to: Some(id),
        attachment_id: None,
        metadata: None,
        client_id: None,
    };
    let message = post(&state, &user, room_id, &draft).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(message))
}
