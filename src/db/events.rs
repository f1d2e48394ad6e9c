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

/// Rewrites the stored `new_message` and `message_updated` events of these messages so that the
/// `message` each carries is the message as it is now: its current text, mentions, metadata and
/// edit time, and for a deleted one the tombstone (no text, no file, no reactions). Run in the
/// transaction that edits or deletes them, after that transaction's own events are written, so
/// no replay serves text that was edited away or deleted. Answers how many events it rewrote.
///
/// The log has no message column: the events are found in the room's log from the message's
/// seq on, by the id in their text (a cheap text match first, then the parsed id).
pub async fn rewrite_messages(conn: &mut Conn, message_ids: &[Uuid]) -> QueryResult<usize> {
    if message_ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE room_events e SET payload = jsonb_set(e.payload::jsonb, '{message}',
             (e.payload::jsonb -> 'message') || jsonb_build_object(
                 'content', m.content,
                 'mentions', to_jsonb(m.mentions),
                 'metadata', COALESCE(m.metadata, 'null'::jsonb),
                 'is_deleted', m.is_deleted,
                 'edited_at', CASE WHEN m.edited_at IS NULL THEN 'null'::jsonb ELSE to_jsonb(
                     to_char(m.edited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))
                     END,
                 'attachment', CASE WHEN m.attachment_id IS NULL THEN 'null'::jsonb
                     ELSE e.payload::jsonb -> 'message' -> 'attachment' END,
                 'reactions', CASE WHEN m.is_deleted THEN '[]'::jsonb
                     ELSE e.payload::jsonb -> 'message' -> 'reactions' END,
                 'link_preview', CASE WHEN m.is_deleted THEN 'null'::jsonb
                     ELSE COALESCE(e.payload::jsonb -> 'message' -> 'link_preview', 'null'::jsonb)
                     END))::text
         FROM messages m
         WHERE m.id = ANY($1) AND e.room_id = m.room_id AND e.seq >= m.seq
           AND e.kind IN ('new_message', 'message_updated')
           AND strpos(e.payload, m.id::text) > 0
           AND e.payload::jsonb -> 'message' ->> 'id' = m.id::text",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(message_ids)
    .execute(conn)
    .await
}
