//! The caller's rooms: a page at a time, unread counts, and the tenant's public rooms.

use std::collections::HashMap;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::decorate;
use crate::auth::AuthUser;
use crate::db;
use crate::db::listing::ListFilter;
use crate::error::{AppError, AppResult};
use crate::protocol::views::RoomView;
use crate::routes::answers::{BadRequest, Results, Unauthorized};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only archived (true) or only unarchived (false) rooms.
    archived: Option<bool>,
    /// Only rooms of this type.
    #[param(schema_with = crate::routes::schemas::room_type_filter)]
    room_type: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = r"^[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    cursor: Option<String>,
    /// Page size (default 50).
    limit: Option<i64>,
}

/// A page of the caller's rooms, most recently active first.
#[derive(Serialize, ToSchema)]
pub struct RoomPage {
    pub results: Vec<RoomView>,
    /// Give as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Unread counts of one room.
#[derive(Serialize, ToSchema)]
pub struct RoomUnread {
    pub unread: i64,
    pub mentions: i64,
    pub last_seq: i64,
}

/// Unread counts summed over the caller's rooms.
#[derive(Serialize, ToSchema, Default)]
pub struct UnreadTotal {
    pub unread: i64,
    pub mentions: i64,
}

/// The caller's unread counts, by room id and in total. `rooms` is a map (its keys are the
/// caller's room ids, so its shape is dynamic by nature).
#[derive(Serialize, ToSchema)]
pub struct UnreadCounts {
    pub rooms: HashMap<Uuid, RoomUnread>,
    pub total: UnreadTotal,
}

/// A page's cursor: the last room's activity (unix microseconds) and id, `{micros}_{uuid}`.
fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", at.timestamp_micros().max(0), id)
}

fn decode_cursor(raw: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let bad = || AppError::bad_request("cursor", "cursor is not one this server gave out");
    let (micros, id) = raw.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// The caller's rooms, a page at a time.
#[utoipa::path(
    get,
    path = "/api/chat/rooms",
    operation_id = "rooms_list",
    params(ListQuery),
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of rooms", body = RoomPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
pub(super) async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<web::Json<RoomPage>> {
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    if let Some(t) = &q.room_type {
        if !["direct", "group", "channel", "public"].contains(&t.as_str()) {
            return Err(AppError::bad_request(
                "room_type",
                "room_type must be direct, group, channel or public",
            ));
        }
    }
    let filter = ListFilter {
        archived: q.archived,
        room_type: q.room_type.clone(),
        cursor: q.cursor.as_deref().map(decode_cursor).transpose()?,
        room_id: None,
        limit: limit + 1,
        offset: 0,
    };
    let mut conn = state.pool.get().await?;
    let mut rows = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(r.activity_at, r.room.id))
    } else {
        None
    };
    let results = decorate(&mut conn, &state.settings, user.id, rows).await?;
    Ok(web::Json(RoomPage {
        results,
        next_cursor: next,
    }))
}

/// The caller's unread and mention counts.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/unread_counts",
    operation_id = "rooms_unread_counts",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts by room and in total", body = UnreadCounts),
        (status = 401, response = Unauthorized)
    )
)]
pub(super) async fn unread_counts(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<web::Json<UnreadCounts>> {
    let mut conn = state.pool.get().await?;
    let rows = db::listing::unread_counts(&mut conn, user.id).await?;
    let mut total = UnreadTotal::default();
    let mut rooms = HashMap::new();
    for r in rows {
        total.unread += r.unread_count;
        total.mentions += r.mention_count;
        let counts = RoomUnread {
            unread: r.unread_count,
            mentions: r.mention_count,
            last_seq: r.room.last_seq,
        };
        rooms.insert(r.room.id, counts);
    }
    Ok(web::Json(UnreadCounts { rooms, total }))
}

/// Public rooms of the tenant.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/public",
    operation_id = "rooms_public",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Public rooms", body = Results<RoomView>),
        (status = 401, response = Unauthorized)
    )
)]
pub(super) async fn public(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<web::Json<Results<RoomView>>> {
    let mut conn = state.pool.get().await?;
    let rows = db::listing::public_rooms(
        &mut conn,
        user.tenant_id,
        user.id,
        state.settings.limits.max_page_size,
    )
    .await?;
    let results: Vec<RoomView> = rows
        .iter()
        .map(|r| {
            let mut v = RoomView::build(&r.room, r.member_count);
            v.my_role = r.my_role.clone();
            v
        })
        .collect();
    Ok(web::Json(Results::new(results)))
}
