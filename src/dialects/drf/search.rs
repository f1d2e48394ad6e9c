//! Seed 004's search at its slashed paths: bare arrays of 004's message and room objects (at
//! most 50), where the native routes answer `{results}` with snippets.

use std::collections::HashMap;

use actix_web::{guard, web, HttpResponse};
use serde::Deserialize;

use super::rest::DrfResult;
use super::rooms::drf_rooms;
use super::slashed::register;
use super::views::DrfMessage;
use crate::auth::AuthUser;
use crate::db;
use crate::db::search::MessageQuery;
use crate::error::AppError;
use crate::routes::messages::{signed, views};
use crate::routes::search::query_text;
use crate::state::AppState;

/// 004's search answers hold at most this many.
const MAX_RESULTS: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    register(
        cfg,
        "/api/chat/search/messages",
        guard::Get(),
        web::get().to(messages),
    );
    register(
        cfg,
        "/api/chat/search/rooms",
        guard::Get(),
        web::get().to(rooms),
    );
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

/// The query text, read here so a missing or bad one gets 004's error shape.
fn query(state: &AppState, raw: &str) -> Result<String, AppError> {
    let q = web::Query::<Search>::from_query(raw)
        .map_err(|_| AppError::bad_request("q", "Search query is required"))?;
    if q.q.trim().is_empty() {
        return Err(AppError::bad_request("q", "Search query is required"));
    }
    query_text(state, &q.q)
}

/// `GET /api/chat/search/messages/?q=`: messages of the caller's rooms, best matches first.
async fn messages(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    user: Result<AuthUser, AppError>,
) -> DrfResult {
    let user = user?;
    let q = query(&state, req.query_string())?;
    let f = MessageQuery {
        q: &q,
        room_id: None,
        sender_id: None,
        after: None,
        before: None,
        limit: MAX_RESULTS,
    };
    let mut conn = state.pool.get().await?;
    let hits = db::search::messages(&mut conn, user.tenant_id, user.id, &f).await?;
    let rows: Vec<_> = hits.into_iter().map(|h| h.message).collect();
    let found = signed(&state, &user, views(&mut conn, &rows).await?);
    let body: Vec<DrfMessage> = found
        .iter()
        .map(|m| DrfMessage::from_view(m, Vec::new()))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/chat/search/rooms/?q=`: the caller's rooms and public rooms matching by name,
/// description or a member's name.
async fn rooms(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    user: Result<AuthUser, AppError>,
) -> DrfResult {
    let user = user?;
    let q = query(&state, req.query_string())?;
    let mut conn = state.pool.get().await?;
    let found =
        db::listing::search_rooms(&mut conn, user.tenant_id, user.id, &q, MAX_RESULTS).await?;
    let unread: HashMap<_, _> = db::listing::unread_counts(&mut conn, user.id)
        .await?
        .into_iter()
        .map(|r| (r.room.id, r.unread_count))
        .collect();
    drop(conn);
    let rooms = found
        .into_iter()
        .map(|f| {
            let count = unread.get(&f.room.id).copied().unwrap_or(0);
            (f.room, count)
        })
        .collect();
    Ok(HttpResponse::Ok().json(drf_rooms(&state, &user, rooms).await?))
}
