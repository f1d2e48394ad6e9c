//! Messages over REST: history, post, edit, delete, threads, reactions, read_by, edit history.
//! Writes go through the room's actor, so connected clients see them live with their seq.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::Json;
use super::openapi::{BadRequest, ErrorEnvelope, NotFound, RateLimited, TooLarge, Unauthorized};
use super::rooms::member_room;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::{
    self, Caller, Command, DeleteMessage, Draft, EditMessage, Outcome, React, SendMessage,
};
use crate::db;
use crate::db::messages::Cursor;
use crate::db::models::Message;
use crate::domain;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Access, Standing};
use crate::protocol::views::{summarize_reactions, MessageView, ReactionSummary};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/chat/rooms/{room_id}/messages", web::get().to(history))
        .route("/api/chat/rooms/{room_id}/messages", web::post().to(post))
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            web::get().to(get),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            web::patch().to(edit),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            web::delete().to(delete),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/thread",
            web::get().to(thread),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/history",
            web::get().to(edit_history),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/read_by",
            web::get().to(read_by),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
            web::get().to(reactions),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
            web::post().to(react),
        )
        .route(
            "/api/chat/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
            web::delete().to(unreact),
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
    Ok(rows
        .iter()
        .map(|m| {
            let rs = summarize_reactions(reactions.iter().filter(|r| r.message_id == m.id));
            let att = m
                .attachment_id
                .and_then(|id| attachments.iter().find(|a| a.id == id));
            MessageView::build(
                m,
                names.get(&m.sender_id).cloned().unwrap_or_default(),
                rs,
                att,
            )
        })
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// Messages before this seq (the newest when neither bound is given).
    before_seq: Option<i64>,
    /// Messages after this seq; not together with `before_seq`.
    after_seq: Option<i64>,
    /// Page size (default 50).
    limit: Option<i64>,
    /// Seed 004's page-number paging (docs/DIALECTS.md): the page, oldest messages first; the
    /// answer is then `{count, next, previous, results}` in 004's message shape.
    page: Option<i64>,
    /// Seed 004's page size (default 50, at most `limits.max_page_size`).
    page_size: Option<i64>,
}

// ---- answer shapes, for the OpenAPI document ---------------------------------------------------

/// A page of a room's messages in seq order.
#[derive(ToSchema)]
pub struct MessagePage {
    pub results: Vec<MessageView>,
    pub has_more: bool,
    /// The room's last seq.
    pub last_seq: i64,
}

/// A message and its replies.
#[derive(ToSchema)]
pub struct Thread {
    pub parent: Option<MessageView>,
    pub results: Vec<MessageView>,
}

/// One earlier version of an edited message.
#[derive(ToSchema)]
pub struct Edit {
    pub previous_content: String,
    pub edited_by: Uuid,
    pub edited_at: DateTime<Utc>,
}

/// A message's earlier versions, oldest first.
#[derive(ToSchema)]
pub struct EditHistory {
    pub message_id: Uuid,
    pub results: Vec<Edit>,
}

/// A member who has read up to a message or past it.
#[derive(ToSchema)]
pub struct Reader {
    pub user_id: Uuid,
    pub display_name: String,
    pub last_read_seq: i64,
}

/// Who has read a message (its sender left out).
#[derive(ToSchema)]
pub struct ReadBy {
    pub message_id: Uuid,
    pub seq: i64,
    pub results: Vec<Reader>,
}

/// A message's reactions by emoji.
#[derive(ToSchema)]
pub struct Reactions {
    pub message_id: Uuid,
    pub results: Vec<ReactionSummary>,
}

/// A reaction the caller added; `seq` is null when it was already there.
#[derive(ToSchema)]
pub struct Reacted {
    pub message_id: Uuid,
    pub emoji: String,
    pub seq: Option<i64>,
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
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    if q.page.is_some() || q.page_size.is_some() {
        let (page, size) = (q.page, q.page_size);
        return crate::dialects::drf::rest::messages_page(&state, &req, &user, room_id, page, size)
            .await;
    }
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    let cursor = match (q.before_seq, q.after_seq) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_request(
                "after_seq",
                "give before_seq or after_seq, not both",
            ))
        }
        (Some(b), None) if b < 0 => {
            return Err(AppError::bad_request(
                "before_seq",
                "before_seq must be >= 0",
            ))
        }
        (None, Some(a)) if a < 0 => {
            return Err(AppError::bad_request("after_seq", "after_seq must be >= 0"))
        }
        (None, Some(a)) => Cursor::After(a),
        (b, None) => Cursor::Before(b),
    };
    let mut conn = state.pool.get().await?;
    let (room, _) = member_room(&mut conn, &user, room_id).await?;
    let (rows, has_more) = db::messages::page(&mut conn, room_id, cursor, limit).await?;
    let results = views(&mut conn, &rows).await?;
    Ok(HttpResponse::Ok().json(
        serde_json::json!({ "results": results, "has_more": has_more, "last_seq": room.last_seq }),
    ))
}

#[derive(Deserialize, ToSchema)]
struct PostBody {
    #[serde(default)]
    content: String,
    /// `text` by default.
    message_type: Option<String>,
    /// The message this one replies to (a thread).
    reply_to: Option<Uuid>,
    attachment_id: Option<Uuid>,
    metadata: Option<serde_json::Value>,
    /// The client's own id: a resend with the same one answers the first message.
    client_id: Option<String>,
}

async fn write(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    command: Command,
) -> AppResult<Outcome> {
    let caller = Caller::from_auth(user);
    supervisor::apply(&state.supervisor, room_id.into(), caller, command).await
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
) -> AppResult<HttpResponse> {
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
    let status = if out.duplicate {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::CREATED
    };
    Ok(HttpResponse::build(status).json(out.message))
}

/// A message of a room the caller is a member of.
async fn load(
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
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let m = load(&mut conn, &user, room_id, message_id).await?;
    let view = views(&mut conn, &[m])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
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
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let edit = EditMessage::parse(&state.settings, message_id.into(), &body.content)?;
    let out = write(&state, &user, room_id, Command::Edit(edit)).await?;
    Ok(HttpResponse::Ok().json(out.message))
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
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = state.pool.get().await?;
    let parent = load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::thread(&mut conn, room_id, message_id, limit).await?;
    let mut all = views(&mut conn, &[parent]).await?;
    let replies = views(&mut conn, &rows).await?;
    let parent = all.pop();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "parent": parent, "results": replies })))
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
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let (room, role) = member_room(&mut conn, &user, room_id).await?;
    let m = db::messages::find_in_room(&mut conn, room_id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let who = Standing {
        trusted: user.is_admin_or_service(),
        role: role.as_deref().map(Role::from_store),
    };
    let own = m.sender_id == user.id;
    policy::may(who, commands::facts(&room), Access::EditHistory { own })?;
    let edits = db::messages::edits(&mut conn, message_id).await?;
    let results: Vec<serde_json::Value> = edits
        .into_iter()
        .map(|(content, by, at)| serde_json::json!({ "previous_content": content, "edited_by": by, "edited_at": domain::time::format(&at) }))
        .collect();
    Ok(
        HttpResponse::Ok()
            .json(serde_json::json!({ "message_id": message_id, "results": results })),
    )
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
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let m = load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::read_by(&mut conn, room_id, m.seq).await?;
    let results: Vec<serde_json::Value> = rows
        .into_iter()
        .filter(|(id, _, _)| *id != m.sender_id)
        .map(|(id, name, seq)| serde_json::json!({ "user_id": id, "display_name": name, "last_read_seq": seq }))
        .collect();
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "message_id": message_id, "seq": m.seq, "results": results })))
}

/// A message's reactions.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    operation_id = "messages_reactions",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reactions", body = Reactions),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn reactions(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::reactions_of(&mut conn, &[message_id]).await?;
    Ok(HttpResponse::Ok().json(
        serde_json::json!({ "message_id": message_id, "results": summarize_reactions(&rows) }),
    ))
}

#[derive(Deserialize, ToSchema)]
struct ReactBody {
    emoji: String,
}

/// Add the caller's reaction to a message.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    operation_id = "messages_react",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller had already reacted so", body = Reacted),
        (status = 201, description = "Added", body = Reacted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn react(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<ReactBody>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let react = React::parse(message_id.into(), &body.emoji, true)?;
    let emoji = react.emoji.clone();
    let out = write(&state, &user, room_id, Command::React(react)).await?;
    let status = if out.seq.is_some() {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .json(serde_json::json!({ "message_id": message_id, "emoji": emoji, "seq": out.seq })))
}

/// Remove the caller's reaction from a message.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
    operation_id = "messages_unreact",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed (also when there was none)"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope)
    )
)]
async fn unreact(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid, String)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id, emoji) = path.into_inner();
    let react = React::parse(message_id.into(), &emoji, false)?;
    write(&state, &user, room_id, Command::React(react)).await?;
    Ok(HttpResponse::NoContent().finish())
}
