//! The per-room event log: every committed room change with its seq, replayed by `resume`.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::room_events;
use super::Conn;

pub async fn insert(
    conn: &mut Conn,
    rows: &[(Uuid, i64, &str, &serde_json::Value)],
) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = rows
        .iter()
        .map(|(room, seq, kind, payload)| {
            (
                room_events::room_id.eq(*room),
                room_events::seq.eq(*seq),
                room_events::kind.eq(*kind),
                room_events::payload.eq(*payload),
            )
        })
        .collect();
    diesel::insert_into(room_events::table)
        .values(values)
        .execute(conn)
        .await?;
    Ok(())
}

/// The events with `after < seq <= upto`, in seq order: (seq, frame as sent).
pub async fn range(
    conn: &mut Conn,
    room_id: Uuid,
    after: i64,
    upto: i64,
) -> QueryResult<Vec<(i64, serde_json::Value)>> {
    room_events::table
        .filter(room_events::room_id.eq(room_id))
        .filter(room_events::seq.gt(after).and(room_events::seq.le(upto)))
        .order(room_events::seq.asc())
        .select((room_events::seq, room_events::payload))
        .load(conn)
        .await
}
