//! Seed 004's messages at their slashed paths: the page-numbered history, send (JSON, or a form
//! with the file) and edit in 004's message object (delete is the native route: 204 either way).

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::rest::{page_answer, DrfResult, Paging};
use super::slashed::register;
use super::views::{DrfMessage, DrfUser};
use crate::auth::AuthUser;
use crate::commands::{access, Caller, Command, Draft, EditMessage, SendMessage};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::protocol::views::MessageView;
use crate::routes::messages::{signed, views};
use crate::routes::rooms::write;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let messages = "/api/chat/rooms/{room_id}/messages";
    let message = "/api/chat/rooms/{room_id}/messages/{message_id}";
    register(cfg, messages, guard::Get(), web::get().to(list));
    let multipart = guard::All(guard::Post()).and(guard::fn_guard(is_form));
    register(cfg, messages, multipart, web::post().to(send_form));
    register(cfg, messages, guard::Post(), web::post().to(send));
    register(cfg, message, guard::Patch(), web::patch().to(edit));
    register(cfg, message, guard::Put(), web::put().to(edit));
}

/// 004's messages with their readers (members whose read pointer reached them, sender aside).
async fn drf_messages(
    conn: &mut db::Conn,
    room_id: Uuid,
    views: &[MessageView],
) -> AppResult<Vec<DrfMessage>> {
    let members = db::rooms::active_members(conn, room_id).await?;
    Ok(views
        .iter()
        .map(|m| {
            let read_by = members
                .iter()
                .filter(|(mem, u)| mem.last_read_seq >= m.seq && u.id != m.sender.id)
                .map(|(_, u)| DrfUser::from(u))
                .collect();
            DrfMessage::from_view(m, read_by)
        })
        .collect())
}

/// 004's page-number paging of a room's messages, oldest first (also what the native history
/// route hands over to when `page` or `page_size` is given).
pub async fn messages_page(
    state: &AppState,
    req: &HttpRequest,
    user: &AuthUser,
    room_id: Uuid,
    paging: Paging,
) -> AppResult<HttpResponse> {
    let (page, size) = paging.resolve(state.settings.limits.max_page_size)?;
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &Caller::from_auth(user), room_id, Access::Read).await?;
    let (rows, count) =
        db::messages::numbered_page(&mut conn, room_id, (page - 1) * size, size).await?;
    let views = signed(state, user, views(&mut conn, &rows).await?);
    let results = drf_messages(&mut conn, room_id, &views).await?;
    page_answer(req, (page, size), count, results)
}

/// `GET /api/chat/rooms/{id}/messages/?page=&page_size=`.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
) -> DrfResult {
    let user = user?;
    let paging = Paging::of(&req)?;
    Ok(messages_page(&state, &req, &user, path.into_inner(), paging).await?)
}

/// 004's send body. A file goes up with `POST /api/chat/uploads` first (`file_attachment` as
/// anything but null is refused: a JSON body cannot carry a file).
#[derive(Deserialize)]
struct SendBody {
    #[serde(default)]
    content: String,
    message_type: Option<String>,
    reply_to: Option<Uuid>,
    #[serde(default)]
    file_attachment: Option<serde_json::Value>,
    attachment_id: Option<Uuid>,
}

/// `POST /api/chat/rooms/{id}/messages/`: 201 and 004's message object.
async fn send(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let body: SendBody = parse_json(&body)?;
    if body.file_attachment.is_some() {
        return Err(AppError::bad_request(
            "file_attachment",
            "upload the file with POST /api/chat/uploads and send its id as attachment_id",
        )
        .into());
    }
    let draft = Draft {
        content: &body.content,
        message_type: body.message_type.as_deref(),
        reply_to: body.reply_to,
        attachment_id: body.attachment_id,
        metadata: None,
        client_id: None,
    };
    let post = SendMessage::accept(&state.settings, &state.rates, user.id, &draft)?;
    let message = written(&state, &user, path.into_inner(), Command::Send(post)).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(message))
}

/// A `multipart/form-data` request (004's send with a file).
fn is_form(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// `POST /api/chat/rooms/{id}/messages/` as a form: `content`, `message_type`, `reply_to` and
/// the file as `file_attachment` (stored as an upload of the sender's, then sent with it).
async fn send_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
    form: actix_multipart::Multipart,
) -> DrfResult {
    let user = user?;
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &Caller::from_auth(&user), room_id, Access::Read).await?;
    drop(conn);
    let (file, fields) =
        crate::routes::uploads::store_form(&state, &user, &req, form, "file_attachment").await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let reply_to = field("reply_to")
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<Uuid>())
        .transpose()
        .map_err(|_| AppError::bad_request("reply_to", "reply_to must be a message id"))?;
    let draft = Draft {
        content: field("content").unwrap_or_default(),
        message_type: field("message_type").filter(|t| !t.is_empty()),
        reply_to,
        attachment_id: Some(file.id),
        metadata: None,
        client_id: None,
    };
    let post = SendMessage::accept(&state.settings, &state.rates, user.id, &draft)?;
    let message = written(&state, &user, room_id, Command::Send(post)).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(message))
}

#[derive(Deserialize)]
struct EditBody {
    content: String,
}

/// `PATCH` or `PUT …/messages/{mid}/ {content}`: the edited message (its sender only).
async fn edit(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let (room_id, message_id) = path.into_inner();
    let body: EditBody = parse_json(&body)?;
    let edit = EditMessage::parse(&state.settings, message_id.into(), &body.content)?;
    let message = written(&state, &user, room_id, Command::Edit(edit)).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Applies a send or an edit and answers the message in 004's shape, with its readers.
async fn written(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    command: Command,
) -> AppResult<DrfMessage> {
    let out = write(state, user, room_id, command).await?;
    let view = out
        .message
        .ok_or_else(|| AppError::internal("the room actor answered no message"))?;
    let views = signed(state, user, vec![view]);
    let mut conn = state.pool.get().await?;
    let mut drf = drf_messages(&mut conn, room_id, &views).await?;
    drf.pop()
        .ok_or_else(|| AppError::internal("no message object was built"))
}
