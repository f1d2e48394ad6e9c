//! Search: messages of my rooms (full text), rooms I am in or may join.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{BadRequest, Results, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::check_q;
use super::messages::views;
use crate::auth::AuthUser;
use crate::db;
use crate::db::search::MessageQuery;
use crate::error::{AppError, AppResult};
use crate::protocol::views::{MessageView, RoomView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/chat/search/messages")
            .get(messages)
            .build(),
    )
    .service(Endpoint::new("/api/chat/search/rooms").get(rooms).build());
}

/// The query text: trimmed, not empty, at most `max_search_query_chars`.
pub fn query_text(state: &AppState, q: &str) -> AppResult<String> {
    let q = q.trim();
    check_q(q, state.settings.limits.max_search_query_chars)?;
    if q.is_empty() {
        return Err(AppError::bad_request("q", "q must not be empty"));
    }
    Ok(q.to_owned())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MessageSearch {
    /// The words to find: not blank, `limits.max_search_query_chars` at most.
    #[param(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00]*[^\x00\x09-\x0D\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    q: String,
    /// Only in this room.
    room_id: Option<Uuid>,
    /// Only by this sender.
    sender_id: Option<Uuid>,
    /// Only messages after this time (RFC 3339).
    after: Option<DateTime<Utc>>,
    /// Only messages before this time (RFC 3339).
    before: Option<DateTime<Utc>>,
    /// At most this many (default 20).
    limit: Option<i64>,
}

/// A message that matches, best first.
#[derive(Serialize, ToSchema)]
pub struct MessageHit {
    pub message: MessageView,
    /// The matching words in context.
    pub snippet: String,
    pub rank: f32,
}

/// Full-text search of the messages of the caller's rooms.
#[utoipa::path(
    get,
    path = "/api/chat/search/messages",
    operation_id = "search_messages",
    params(MessageSearch),
    tag = "search",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching messages, best first", body = Results<MessageHit>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn messages(
    state: web::Data<AppState>,
    user: AuthUser,
    p: web::Query<MessageSearch>,
) -> AppResult<web::Json<Results<MessageHit>>> {
    let q = query_text(&state, &p.q)?;
    let f = MessageQuery {
        q: &q,
        room_id: p.room_id,
        sender_id: p.sender_id,
        after: p.after,
        before: p.before,
        limit: p
            .limit
            .unwrap_or(20)
            .clamp(1, state.settings.limits.max_page_size),
    };
    let mut conn = state.pool.get().await?;
    let hits = db::search::messages(&mut conn, user.tenant_id, user.id, &f).await?;
    let rows: Vec<_> = hits.iter().map(|h| h.message.clone()).collect();
    let views = super::messages::signed(&state, &user, views(&mut conn, &rows).await?);
    let results = hits
        .into_iter()
        .zip(views)
        .map(|(h, message)| MessageHit {
            message,
            snippet: h.snippet,
            rank: h.rank,
        })
        .collect();
    Ok(web::Json(Results::new(results)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RoomSearch {
    /// Part of a room's name: not blank, `limits.max_search_query_chars` at most.
    #[param(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00]*[^\x00\x09-\x0D\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    q: String,
    /// At most this many (default 20).
    limit: Option<i64>,
}

/// Rooms the caller is in or may join, by name.
#[utoipa::path(
    get,
    path = "/api/chat/search/rooms",
    operation_id = "search_rooms",
    params(RoomSearch),
    tag = "search",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching rooms", body = Results<RoomView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn rooms(
    state: web::Data<AppState>,
    user: AuthUser,
    p: web::Query<RoomSearch>,
) -> AppResult<web::Json<Results<RoomView>>> {
    let q = query_text(&state, &p.q)?;
    let limit = p
        .limit
        .unwrap_or(20)
        .clamp(1, state.settings.limits.max_page_size);
    let mut conn = state.pool.get().await?;
    let found = db::listing::search_rooms(&mut conn, user.tenant_id, user.id, &q, limit).await?;
    let results: Vec<RoomView> = found
        .iter()
        .map(|f| {
            let mut v = RoomView::build(&f.room, f.member_count);
            v.my_role = f.my_role.clone();
            v
        })
        .collect();
    Ok(web::Json(Results::new(results)))
}
