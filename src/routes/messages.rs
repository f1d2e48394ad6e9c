//! Messages over REST: history, post, edit, delete, threads, read_by, edit history (reactions
//! are in `reactions`).
//! Writes go through the room's actor, so connected clients see them live with their seq.

use actix_web::{web, Either, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{
    created, ok, BadRequest, NotFound, RateLimited, TooLarge, Unauthorized, WithStatus,
};
use super::endpoint::Endpoint;
use super::extract::Json;
use super::reactions;
use super::rooms::{member_room, write};
use super::schemas;
use crate::auth::AuthUser;
use crate::commands::{access, Caller, Command, DeleteMessage, Draft, EditMessage, SendMessage};
use crate::db;
use crate::db::messages::Cursor;
use crate::db::models::Message;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::policy::Access;
use crate::protocol::views::{summarize_reactions, MessageView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let message = "/api/chat/rooms/{room_id}/messages/{message_id}";
    cfg.service(
        Endpoint::new("/api/chat/rooms/{room_id}/messages")
            .get(history)
            .post(post)
            .build(),
    )
    .service(
        Endpoint::new(message)
            .get(get)
            .patch(edit)
            .put(put)
            .delete(delete)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{message}/thread"))
            .get(thread)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{message}/history"))
            .get(edit_history)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{message}/read_by"))
            .get(read_by)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{message}/reactions"))
            .get(reactions::reactions)
            .post(reactions::react)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{message}/reactions/{{emoji}}"))
            .delete(reactions::unreact)
            .build(),
    );
}

/// Views of stored messages, with sender names, reactions and attachments loaded in bulk.
pub async fn views(conn: &mut db::Conn, rows: &[Message]) -> AppResult<Vec<MessageView>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let senders: Vec<Uuid> = rows.iter().map(|m| m.sender_id).collect();
    let names = db::messages::display_names(conn, &senders).await?;
    let reactions = db::messages::reactions_of(conn, &ids).await?;
    let att_ids: Vec<Uuid> = rows.iter().filter_map(|m| m.attachment_id).collect();
    let attachments = db::messages::attachments_by_id(conn, &att_ids).await?;
    let pinned = db::pins::pinned_among(conn, &ids).await?;
    let mut previews = db::link_previews::of_messages(conn, &ids).await?;
    Ok(rows
        .iter()
        .map(|m| {
            let rs = summarize_reactions(reactions.iter().filter(|r| r.message_id == m.id));
            let att = m
                .attachment_id
                .and_then(|id| attachments.iter().find(|a| a.id == id));
            MessageView {
                pinned: pinned.contains(&m.id),
                link_preview: previews
                    .remove(&m.id)
                    .filter(|_| !m.is_deleted)
                    .and_then(|p| serde_json::from_value(p).ok()),
                ..MessageView::build(
                    m,
                    names.get(&m.sender_id).cloned().unwrap_or_default(),
                    rs,
                    att,
                )
            }
        })
        .collect())
}

/// Gives each attachment of `views` its signed URLs for `user`: every REST answer that carries
/// messages does (WebSocket events are shared by the room, so they carry none).
pub fn signed(state: &AppState, user: &AuthUser, mut views: Vec<MessageView>) -> Vec<MessageView> {
    let now = Utc::now();
    for a in views.iter_mut().filter_map(|v| v.attachment.as_mut()) {
        state.uploads.signer.stamp(a, user.id, now);
    }
    views
}

fn signed_one(state: &AppState, user: &AuthUser, view: Option<MessageView>) -> Option<MessageView> {
    signed(state, user, view.into_iter().collect()).pop()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// Messages before this seq (the newest of them unless `after_seq` is given too).
    #[param(minimum = 0)]
    before_seq: Option<i64>,
    /// Messages after this seq, oldest first (with `before_seq`: those between the two).
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// Page size (default 50).
    limit: Option<i64>,
    /// Seed 004's page-number paging (docs/DIALECTS.md): the page, oldest messages first; the
    /// answer is then `{count, next, previous, results}` in 004's message shape. A dialect's
    /// parameter, so not in the native API's document.
    #[param(ignore)]
    page: Option<i64>,
    /// Seed 004's page size (default 50, at most `limits.max_page_size`).
    #[param(ignore)]
    page_size: Option<i64>,
}

/// A page of a room's messages in seq order.
#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    pub results: Vec<MessageView>,
    pub has_more: bool,
    /// The room's last seq.
    pub last_seq: i64,
    /// Messages below this seq were removed by retention: paging further back finds only their
    /// tombstones (0: nothing was removed).
    pub retained_from_seq: i64,
}

/// A message and its replies.
#[derive(Serialize, ToSchema)]
pub struct Thread {
    pub parent: Option<MessageView>,
    pub results: Vec<MessageView>,
}

/// One earlier version of an edited message.
#[derive(Serialize, ToSchema)]
pub struct Edit {
    pub previous_content: String,
    pub edited_by: Uuid,
    #[serde(with = "crate::domain::time::millis")]
    pub edited_at: DateTime<Utc>,
}

/// A message's earlier versions, oldest first.
#[derive(Serialize, ToSchema)]
pub struct EditHistory {
    pub message_id: Uuid,
    pub results: Vec<Edit>,
}

/// A member who has read up to a message or past it.
#[derive(Serialize, ToSchema)]
pub struct Reader {
    pub user_id: Uuid,
    pub display_name: String,
    pub last_read_seq: i64,
}

/// Who has read a message (its sender left out).
#[derive(Serialize, ToSchema)]
pub struct ReadBy {
    pub message_id: Uuid,
    pub seq: i64,
    pub results: Vec<Reader>,
}

/// A room's messages, a page at a time.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages",
    operation_id = "messages_history",
    params(HistoryQuery),
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn history(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    user: AuthUser,
    path: web::Path<Uuid>,
    q: web::Query<HistoryQuery>,
) -> AppResult<Either<web::Json<MessagePage>, HttpResponse>> {
    let room_id = path.into_inner();
    if q.page.is_some() || q.page_size.is_some() {
        let paging = crate::dialects::drf::rest::Paging::new(q.page, q.page_size);
        let drf =
            crate::dialects::drf::messages::messages_page(&state, &req, &user, room_id, paging);
        return Ok(Either::Right(drf.await?));
    }
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    if q.before_seq.is_some_and(|b| b < 0) {
        return Err(AppError::bad_request(
            "before_seq",
            "before_seq must be >= 0",
        ));
    }
    if q.after_seq.is_some_and(|a| a < 0) {
        return Err(AppError::bad_request("after_seq", "after_seq must be >= 0"));
    }
    let cursor = match q.after_seq {
        Some(a) => Cursor::After(a, q.before_seq),
        None => Cursor::Before(q.before_seq),
    };
    let mut conn = state.pool.get().await?;
    let (room, _) = member_room(&mut conn, &user, room_id).await?;
    let (rows, has_more) = db::messages::page(&mut conn, room_id, cursor, limit).await?;
    let results = signed(&state, &user, views(&mut conn, &rows).await?);
    let (_, _, retained_from_seq) = db::retention::room(&mut conn, room_id).await?;
    Ok(Either::Left(web::Json(MessagePage {
        results,
        has_more,
        last_seq: room.last_seq,
        retained_from_seq,
    })))
}

#[derive(Deserialize, ToSchema)]
struct PostBody {
    /// `limits.max_message_chars` at most (413 past it); may be empty with an attachment or a
    /// location.
    #[serde(default)]
    #[schema(schema_with = schemas::message_content)]
    content: String,
    /// `text` by default; `system` is for admin and service tokens.
    #[schema(schema_with = schemas::message_type)]
    message_type: Option<String>,
    /// The message this one replies to (a thread): a message of this room, else 404.
    reply_to: Option<Uuid>,
    /// A file the caller uploaded, else 404.
    attachment_id: Option<Uuid>,
    #[schema(schema_with = schemas::metadata)]
    metadata: Option<serde_json::Value>,
    /// The client's own id: a resend with the same one answers the first message.
    #[schema(schema_with = schemas::client_id)]
    client_id: Option<String>,
}

/// Post a message to a room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/messages",
    operation_id = "messages_post",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A resend of a known client_id: the first message", body = MessageView),
        (status = 201, description = "The new message", body = MessageView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "client_id was already used for a different message", body = ErrorEnvelope),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited)
    )
)]
async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<PostBody>,
) -> AppResult<WithStatus<MessageView>> {
    let room_id = path.into_inner();
    let draft = Draft {
        content: &body.content,
        message_type: body.message_type.as_deref(),
        reply_to: body.reply_to,
        attachment_id: body.attachment_id,
        metadata: body.metadata.as_ref(),
        client_id: body.client_id.as_deref(),
    };
    let post = SendMessage::accept(&state.settings, &state.rates, user.id, &draft)?;
    let out = write(&state, &user, room_id, Command::Send(post)).await?;
    let message = answered_message(signed_one(&state, &user, out.message))?;
    Ok(if out.duplicate {
        ok(message)
    } else {
        created(message)
    })
}

/// The message a write answers with (every send and edit has one).
fn answered_message(message: Option<MessageView>) -> AppResult<MessageView> {
    message.ok_or_else(|| AppError::internal("the room actor answered no message"))
}

/// A message of a room the caller is a member of.
pub(super) async fn load(
    conn: &mut db::Conn,
    user: &AuthUser,
    room_id: Uuid,
    message_id: Uuid,
) -> AppResult<Message> {
    member_room(conn, user, room_id).await?;
    db::messages::find_in_room(conn, room_id, message_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// One message.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}",
    operation_id = "messages_get",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The message", body = MessageView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<MessageView>> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let m = load(&mut conn, &user, room_id, message_id).await?;
    let view = signed(&state, &user, views(&mut conn, &[m]).await?)
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    /// `limits.max_message_chars` at most (413 past it); may be blank only for a message that
    /// carries a file.
    #[schema(schema_with = schemas::message_content)]
    content: String,
}

/// Change a message's content (its sender, within the edit window).
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}",
    operation_id = "messages_edit",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited message", body = MessageView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the sender, or the edit window has passed", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<EditBody>,
) -> AppResult<web::Json<MessageView>> {
    let (room_id, message_id) = path.into_inner();
    let edit = EditMessage::parse(&state.settings, message_id.into(), &body.content)?;
    let out = write(&state, &user, room_id, Command::Edit(edit)).await?;
    Ok(web::Json(answered_message(signed_one(
        &state,
        &user,
        out.message,
    ))?))
}

/// Change a message's content (the same as PATCH), for clients that edit with PUT.
#[utoipa::path(
    put,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}",
    operation_id = "messages_put",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited message", body = MessageView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not the sender, or the edit window has passed", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn put(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<EditBody>,
) -> AppResult<web::Json<MessageView>> {
    edit(state, user, path, body).await
}

/// Delete a message (its sender or a moderator).
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}",
    operation_id = "messages_delete",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound)
    )
)]
async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let delete = DeleteMessage {
        message_id: message_id.into(),
    };
    write(&state, &user, room_id, Command::Delete(delete)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LimitQuery {
    /// At most this many replies (default 100, at most 500).
    limit: Option<i64>,
}

/// A message and its replies.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/thread",
    operation_id = "messages_thread",
    params(LimitQuery),
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The thread", body = Thread),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn thread(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    q: web::Query<LimitQuery>,
) -> AppResult<web::Json<Thread>> {
    let (room_id, message_id) = path.into_inner();
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = state.pool.get().await?;
    let parent = load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::thread(&mut conn, room_id, message_id, limit).await?;
    let mut all = signed(&state, &user, views(&mut conn, &[parent]).await?);
    let replies = signed(&state, &user, views(&mut conn, &rows).await?);
    let parent = all.pop();
    Ok(web::Json(Thread {
        parent,
        results: replies,
    }))
}

/// A message's earlier versions (its sender and moderators).
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/history",
    operation_id = "messages_edit_history",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edits", body = EditHistory),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Only the sender and moderators see the edit history", body = ErrorEnvelope),
        (status = 404, response = NotFound)
    )
)]
async fn edit_history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<EditHistory>> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let (room, role) = access::room(&mut conn, &caller, room_id, Access::Read).await?;
    let m = db::messages::find_in_room(&mut conn, room_id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = m.sender_id == user.id;
    access::may(&caller, &room, role, Access::EditHistory { own })?;
    let edits = db::messages::edits(&mut conn, message_id).await?;
    let results = edits
        .into_iter()
        .map(|(previous_content, edited_by, edited_at)| Edit {
            previous_content,
            edited_by,
            edited_at,
        })
        .collect();
    Ok(web::Json(EditHistory {
        message_id,
        results,
    }))
}

/// Who has read a message.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/read_by",
    operation_id = "messages_read_by",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The readers", body = ReadBy),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn read_by(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<ReadBy>> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let m = load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::read_by(&mut conn, room_id, m.seq).await?;
    let results = rows
        .into_iter()
        .filter(|(id, _, _)| *id != m.sender_id)
        .map(|(user_id, display_name, last_read_seq)| Reader {
            user_id,
            display_name,
            last_read_seq,
        })
        .collect();
    Ok(web::Json(ReadBy {
        message_id,
        seq: m.seq,
        results,
    }))
}
