//! Pinned messages of a room.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::Message;
use super::schema::{messages, pins};
use super::Conn;

/// Pins `message_id` in `room_id`; answers false when it already was.
pub async fn pin(
    conn: &mut Conn,
    room_id: Uuid,
    message_id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::insert_into(pins::table)
        .values((
            pins::room_id.eq(room_id),
            pins::message_id.eq(message_id),
            pins::pinned_by.eq(by),
            pins::pinned_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Unpins; answers false when it was not pinned.
pub async fn unpin(conn: &mut Conn, room_id: Uuid, message_id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(
        pins::table.filter(
            pins::room_id
                .eq(room_id)
                .and(pins::message_id.eq(message_id)),
        ),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

pub async fn count(conn: &mut Conn, room_id: Uuid) -> QueryResult<i64> {
    pins::table
        .filter(pins::room_id.eq(room_id))
        .count()
        .get_result(conn)
        .await
}

/// The pinned messages of a room, most recently pinned first, with who pinned them and when.
pub async fn list(
    conn: &mut Conn,
    room_id: Uuid,
) -> QueryResult<Vec<(Message, Uuid, DateTime<Utc>)>> {
    pins::table
        .inner_join(messages::table)
        .filter(pins::room_id.eq(room_id))
        .order((pins::pinned_at.desc(), pins::message_id))
        .select((Message::as_select(), pins::pinned_by, pins::pinned_at))
        .load(conn)
        .await
}

/// Which of `ids` are pinned (in their rooms).
pub async fn pinned_among(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    pins::table
        .filter(pins::message_id.eq_any(ids))
        .select(pins::message_id)
        .load(conn)
        .await
}
