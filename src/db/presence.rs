//! Presence that outlives a connection: the chosen status, current room and last_seen.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::user_presence;
use super::Conn;

/// (user, manual status, current room, last seen)
pub type PresenceRow = (Uuid, Option<String>, Option<Uuid>, DateTime<Utc>);

pub async fn set_manual(
    conn: &mut Conn,
    user_id: Uuid,
    manual: Option<&str>,
    current_room: Option<Uuid>,
) -> QueryResult<()> {
    let now = Utc::now();
    diesel::insert_into(user_presence::table)
        .values((
            user_presence::user_id.eq(user_id),
            user_presence::manual_status.eq(manual),
            user_presence::current_room.eq(current_room),
            user_presence::last_seen.eq(now),
        ))
        .on_conflict(user_presence::user_id)
        .do_update()
        .set((
            user_presence::manual_status.eq(manual),
            user_presence::current_room.eq(current_room),
            user_presence::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch(conn: &mut Conn, user_id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(user_presence::table)
        .values((
            user_presence::user_id.eq(user_id),
            user_presence::last_seen.eq(at),
        ))
        .on_conflict(user_presence::user_id)
        .do_update()
        .set((
            user_presence::last_seen.eq(at),
            user_presence::updated_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn load(conn: &mut Conn, user_ids: &[Uuid]) -> QueryResult<Vec<PresenceRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    user_presence::table
        .filter(user_presence::user_id.eq_any(user_ids))
        .select((
            user_presence::user_id,
            user_presence::manual_status,
            user_presence::current_room,
            user_presence::last_seen,
        ))
        .load(conn)
        .await
}
