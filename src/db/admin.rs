//! Queries for the admin API: tenant-wide room lists and activity counts.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::Room;
use super::schema::{messages, rooms};
use super::Conn;

/// Rooms of a tenant, newest activity first, optionally matching `q` by name.
pub async fn rooms(
    conn: &mut Conn,
    tenant_id: Uuid,
    q: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Room>> {
    let mut query = rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .select(Room::as_select())
        .into_boxed();
    if let Some(q) = q {
        query = query.filter(rooms::name.ilike(format!("%{}%", super::users::escape_like(q))));
    }
    query
        .order((
            rooms::last_message_at.desc().nulls_last(),
            rooms::created_at.desc(),
            rooms::id,
        ))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await
}

/// (rooms, active rooms, messages in the last minute, messages in all) of a tenant.
pub async fn counts(conn: &mut Conn, tenant_id: Uuid) -> QueryResult<(i64, i64, i64, i64)> {
    let total_rooms = rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?;
    let active_rooms = rooms::table
        .filter(
            rooms::tenant_id
                .eq(tenant_id)
                .and(rooms::is_active.eq(true)),
        )
        .count()
        .get_result(conn)
        .await?;
    let minute_ago = Utc::now() - Duration::minutes(1);
    let last_minute = messages::table
        .filter(
            messages::tenant_id
                .eq(tenant_id)
                .and(messages::created_at.ge(minute_ago)),
        )
        .count()
        .get_result(conn)
        .await?;
    let all = messages::table
        .filter(messages::tenant_id.eq(tenant_id))
        .count()
        .get_result(conn)
        .await?;
    Ok((total_rooms, active_rooms, last_minute, all))
}
