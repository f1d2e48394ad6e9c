//! Search: messages of my rooms (full text), rooms I am in or may join.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::messages::views;
use crate::auth::AuthUser;
use crate::db;
use crate::db::search::MessageQuery;
use crate::error::{AppError, AppResult};
use crate::protocol::views::RoomView;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/chat/search/messages", web::get().to(messages))
        .route("/api/chat/search/rooms", web::get().to(rooms));
}

/// The query text: trimmed, not empty, at most `max_search_query_chars`.
fn query_text(state: &AppState, q: &str) -> AppResult<String> {
    let max = state.settings.limits.max_search_query_chars;
    let q = q.trim();
    if q.chars().count() > max {
        return Err(AppError::bad_request(
            "q",
            format!("q must be at most {max} characters"),
        ));
    }
    if q.is_empty() {
        return Err(AppError::bad_request("q", "q must not be empty"));
    }
    Ok(q.to_owned())
}

#[derive(Deserialize)]
struct MessageSearch {
    #[serde(default)]
    q: String,
    room_id: Option<Uuid>,
    sender_id: Option<Uuid>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    limit: Option<i64>,
}

async fn messages(
    state: web::Data<AppState>,
    user: AuthUser,
    p: web::Query<MessageSearch>,
) -> AppResult<HttpResponse> {
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
    let views = views(&mut conn, &rows).await?;
    let results: Vec<serde_json::Value> = hits
        .iter()
        .zip(views)
        .map(|(h, v)| serde_json::json!({ "message": v, "snippet": h.snippet, "rank": h.rank }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

#[derive(Deserialize)]
struct RoomSearch {
    #[serde(default)]
    q: String,
    limit: Option<i64>,
}

async fn rooms(
    state: web::Data<AppState>,
    user: AuthUser,
    p: web::Query<RoomSearch>,
) -> AppResult<HttpResponse> {
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}
