//! Messages over REST: history, post, edit, delete, threads, reactions, read_by, edit history.
//! Writes go through the room's actor, so connected clients see them live with their seq.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::Json;
use super::rooms::member_room;
use crate::actors::room::{NewPost, Outcome, WriteOp};
use crate::actors::supervisor;
use crate::actors::Actor as Caller;
use crate::auth::AuthUser;
use crate::db;
use crate::db::messages::Cursor;
use crate::db::models::Message;
use crate::domain;
use crate::error::{AppError, AppResult};
use crate::protocol::views::{summarize_reactions, MessageView};
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

#[derive(Deserialize)]
struct HistoryQuery {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: Option<i64>,
}

async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    q: web::Query<HistoryQuery>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
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

#[derive(Deserialize)]
struct PostBody {
    #[serde(default)]
    content: String,
    message_type: Option<String>,
    reply_to: Option<Uuid>,
    attachment_id: Option<Uuid>,
    metadata: Option<serde_json::Value>,
    client_id: Option<String>,
}

async fn write(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    op: WriteOp,
) -> AppResult<Outcome> {
    supervisor::apply(&state.supervisor, room_id, Caller::from_auth(user), op).await
}

async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<PostBody>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    state.check_message_rate(user.id)?;
    let post = NewPost::parse(
        &state.settings,
        &body.content,
        body.message_type.as_deref(),
        body.reply_to,
        body.attachment_id,
        body.metadata.as_ref(),
        body.client_id.as_deref(),
    )?;
    let out = write(&state, &user, room_id, WriteOp::Send(post)).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    content: String,
}

async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<EditBody>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let content = domain::message_content(
        "content",
        &body.content,
        state.settings.limits.max_message_chars,
        true,
    )?;
    let out = write(
        &state,
        &user,
        room_id,
        WriteOp::Edit {
            message_id,
            content,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(out.message))
}

async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    write(&state, &user, room_id, WriteOp::Delete { message_id }).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<i64>,
}

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

async fn edit_history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let (_, role) = member_room(&mut conn, &user, room_id).await?;
    let m = db::messages::find_in_room(&mut conn, room_id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let moderator =
        user.is_admin_or_service() || role.as_deref().map(domain::role_rank).unwrap_or(0) >= 3;
    if m.sender_id != user.id && !moderator {
        return Err(AppError::Forbidden(
            "only the sender and moderators see the edit history".into(),
        ));
    }
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

#[derive(Deserialize)]
struct ReactBody {
    emoji: String,
}

async fn react(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<ReactBody>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let emoji = domain::emoji("emoji", &body.emoji)?;
    let out = write(
        &state,
        &user,
        room_id,
        WriteOp::React {
            message_id,
            emoji: emoji.clone(),
            add: true,
        },
    )
    .await?;
    let status = if out.seq.is_some() {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .json(serde_json::json!({ "message_id": message_id, "emoji": emoji, "seq": out.seq })))
}

async fn unreact(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid, String)>,
) -> AppResult<HttpResponse> {
    let (room_id, message_id, emoji) = path.into_inner();
    let emoji = domain::emoji("emoji", &emoji)?;
    write(
        &state,
        &user,
        room_id,
        WriteOp::React {
            message_id,
            emoji,
            add: false,
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
