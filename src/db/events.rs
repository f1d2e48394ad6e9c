//! The per-room event log: every committed room change with its seq, replayed by `resume`.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::room_events;
use super::Conn;

/// The events with `after < seq <= upto`, in seq order: (seq, frame as sent).
pub async fn range(
    conn: &mut Conn,
    room_id: Uuid,
    after: i64,
    upto: i64,
) -> QueryResult<Vec<(i64, String)>> {
    room_events::table
        .filter(room_events::room_id.eq(room_id))
        .filter(room_events::seq.gt(after).and(room_events::seq.le(upto)))
        .order(room_events::seq.asc())
        .select((room_events::seq, room_events::payload))
        .load(conn)
        .await
}
