//! Seeds 000/002's messages and reactions (`…/conversations/{id}/messages/…`,
//! `…/messages/{id}/reactions/`): Confab's messages, written by the same commands as the native
//! routes and read through the same access check.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::conversations::{answer, write};
use super::paging::{page_answer, page_of, path_id, seed, Answer};
use super::views::{ChatMessage, ChatReaction};
use super::{attachment_of, BASE};
use crate::auth::AuthUser;
use crate::commands::{access, Caller, Command, DeleteMessage, Draft, EditMessage};
use crate::commands::{React, SendMessage};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::routes::endpoint::Endpoint;
use crate::routes::extract::Json;
use crate::routes::messages::{signed, views};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let list = format!("{BASE}/conversations/{{cid}}/messages");
    cfg.service(Endpoint::new(&list).get(history).post(post).build())
        .service(
            Endpoint::new(&format!("{list}/{{id}}"))
                .get(get)
                .put(edit)
                .patch(edit)
                .delete(delete)
                .build(),
        )
        .service(
            Endpoint::new(&format!("{BASE}/messages/{{id}}/reactions"))
                .get(reactions)
                .post(react)
                .build(),
        );
}

/// Stored messages as 000's, their files signed for `user`.
async fn chat_messages(
    state: &AppState,
    conn: &mut db::Conn,
    user: &AuthUser,
    rows: &[db::models::Message],
) -> AppResult<Vec<ChatMessage>> {
    let views = signed(state, user, views(conn, rows).await?);
    Ok(views.into_iter().map(ChatMessage::from).collect())
}

/// `GET …/messages/`: the conversation's messages, oldest first, DRF pages.
async fn history(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> Answer {
    seed(async {
        let user = user?;
        let room_id = path_id(&path)?;
        let (page, size) = page_of(&req, state.settings.limits.max_page_size)?;
        let mut conn = state.pool.get().await?;
        access::room(&mut conn, &Caller::from_auth(&user), room_id, Access::Read).await?;
        let (rows, count) =
            db::messages::numbered_page(&mut conn, room_id, (page - 1) * size, size).await?;
        let results = chat_messages(&state, &mut conn, &user, &rows).await?;
        page_answer(&req, (page, size), count, results)
    })
    .await
}

/// 000's new message; `file_url` names a file uploaded with `…/upload/` (its `file_name` and
/// `file_size` are the upload's own, so the body's are not read).
#[derive(Deserialize)]
pub struct SendBody {
    #[serde(default)]
    content: String,
    message_type: Option<String>,
    reply_to: Option<Uuid>,
    file_url: Option<String>,
    /// Confab's names, for clients that have them.
    attachment_id: Option<Uuid>,
    metadata: Option<serde_json::Value>,
    client_id: Option<String>,
}

/// The upload `file_url` names, or a 400 naming `file_url`.
pub fn file_of(file_url: Option<&str>) -> AppResult<Option<Uuid>> {
    file_url
        .map(|url| {
            attachment_of(url).ok_or_else(|| {
                AppError::bad_request(
                    "file_url",
                    "file_url must be the file_url of a file uploaded with POST /api/notifications/chat/upload/",
                )
            })
        })
        .transpose()
}

/// `POST …/messages/`: sends (201; a resend of a known `client_id`: 200 with the first).
async fn post(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: Result<Json<SendBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let room_id = path_id(&path)?;
        let Json(b) = body?;
        let file = file_of(b.file_url.as_deref())?;
        let draft = Draft {
            content: &b.content,
            message_type: b.message_type.as_deref(),
            reply_to: b.reply_to,
            attachment_id: b.attachment_id.or(file),
            metadata: b.metadata.as_ref(),
            client_id: b.client_id.as_deref(),
        };
        let send = SendMessage::accept(&state.settings, &state.rates, user.id, &draft)?;
        let out = write(&state, &user, room_id, Command::Send(send)).await?;
        let view = out
            .message
            .ok_or_else(|| AppError::internal("the room actor answered no message"))?;
        let message = signed(&state, &user, vec![view])
            .pop()
            .map(ChatMessage::from);
        answer(if out.duplicate { 200 } else { 201 }, &message)
    })
    .await
}

/// `GET …/messages/{id}/`.
async fn get(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(String, String)>,
) -> Answer {
    seed(async {
        let user = user?;
        let (room_id, id) = (path_id(&path.0)?, path_id(&path.1)?);
        let mut conn = state.pool.get().await?;
        access::room(&mut conn, &Caller::from_auth(&user), room_id, Access::Read).await?;
        let m = db::messages::find_in_room(&mut conn, room_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let message = chat_messages(&state, &mut conn, &user, &[m]).await?.pop();
        answer(200, &message)
    })
    .await
}

#[derive(Deserialize)]
struct EditBody {
    content: String,
}

/// `PUT …/messages/{id}/ {content}` (PATCH alike): its sender, within the edit window.
async fn edit(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(String, String)>,
    body: Result<Json<EditBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let (room_id, id) = (path_id(&path.0)?, path_id(&path.1)?);
        let Json(b) = body?;
        let command = EditMessage::parse(&state.settings, id.into(), &b.content)?;
        let out = write(&state, &user, room_id, Command::Edit(command)).await?;
        let view = out
            .message
            .ok_or_else(|| AppError::internal("the room actor answered no message"))?;
        let message = signed(&state, &user, vec![view])
            .pop()
            .map(ChatMessage::from);
        answer(200, &message)
    })
    .await
}

/// `DELETE …/messages/{id}/`: its sender or a moderator; a tombstone stays (204).
async fn delete(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(String, String)>,
) -> Answer {
    seed(async {
        let user = user?;
        let (room_id, id) = (path_id(&path.0)?, path_id(&path.1)?);
        let command = DeleteMessage {
            message_id: id.into(),
        };
        write(&state, &user, room_id, Command::Delete(command)).await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// The room of a message the caller may read (404 otherwise, another tenant's too).
async fn readable_message(conn: &mut db::Conn, user: &AuthUser, id: Uuid) -> AppResult<Uuid> {
    let room_id = db::messages::room_of(conn, user.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    access::room(conn, &Caller::from_auth(user), room_id, Access::Read).await?;
    Ok(room_id)
}

/// `GET messages/{id}/reactions/`: one entry per (user, emoji), oldest first, DRF pages.
async fn reactions(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let paging = page_of(&req, state.settings.limits.max_page_size)?;
        let mut conn = state.pool.get().await?;
        readable_message(&mut conn, &user, id).await?;
        let rows = db::messages::reactions_of(&mut conn, &[id]).await?;
        let count = i64::try_from(rows.len()).map_err(AppError::internal)?;
        let all: Vec<ChatReaction> = rows.iter().map(ChatReaction::from).collect();
        page_answer(&req, paging, count, super::paging::cut(all, paging))
    })
    .await
}

#[derive(Deserialize)]
struct ReactBody {
    emoji: String,
}

/// `POST messages/{id}/reactions/ {emoji}`: the caller's reaction (201; 200 when it was there).
async fn react(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: Result<Json<ReactBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let Json(b) = body?;
        let command = React::parse(id.into(), &b.emoji, true)?;
        let emoji = command.emoji.clone();
        let room_id = {
            let mut conn = state.pool.get().await?;
            readable_message(&mut conn, &user, id).await?
        };
        let out = write(&state, &user, room_id, Command::React(command)).await?;
        let mut conn = state.pool.get().await?;
        let rows = db::messages::reactions_of(&mut conn, &[id]).await?;
        let mine = rows
            .iter()
            .find(|r| r.user_id == user.id && r.emoji == emoji)
            .ok_or(AppError::NotFound)?;
        answer(
            if out.seq.is_some() { 201 } else { 200 },
            &ChatReaction::from(mine),
        )
    })
    .await
}
