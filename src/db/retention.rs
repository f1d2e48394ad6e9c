//! Retention: the tenant's and rooms' policies, and the sweep that turns messages past them into
//! tombstones (in small batches that lock only the messages they take, never the room).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::{room_retention, tenant_retention};
use super::Conn;

/// The tenant's retention in days (None: forever).
pub async fn tenant_days(conn: &mut Conn, tenant_id: Uuid) -> QueryResult<Option<i32>> {
    Ok(tenant_retention::table
        .find(tenant_id)
        .select(tenant_retention::retention_days)
        .first(conn)
        .await
        .optional()?
        .flatten())
}

pub async fn set_tenant_days(
    conn: &mut Conn,
    tenant_id: Uuid,
    days: Option<i32>,
) -> QueryResult<()> {
    diesel::insert_into(tenant_retention::table)
        .values((
            tenant_retention::tenant_id.eq(tenant_id),
            tenant_retention::retention_days.eq(days),
        ))
        .on_conflict(tenant_retention::tenant_id)
        .do_update()
        .set(tenant_retention::retention_days.eq(days))
        .execute(conn)
        .await?;
    Ok(())
}

/// A room's policy: (retention days, max messages, retained from seq); all empty when unset.
pub async fn room(conn: &mut Conn, room_id: Uuid) -> QueryResult<(Option<i32>, Option<i32>, i64)> {
    Ok(room_retention::table
        .find(room_id)
        .select((
            room_retention::retention_days,
            room_retention::max_messages,
            room_retention::retained_from_seq,
        ))
        .first(conn)
        .await
        .optional()?
        .unwrap_or((None, None, 0)))
}

pub async fn set_room(
    conn: &mut Conn,
    room_id: Uuid,
    days: Option<i32>,
    max_messages: Option<i32>,
) -> QueryResult<()> {
    diesel::insert_into(room_retention::table)
        .values((
            room_retention::room_id.eq(room_id),
            room_retention::retention_days.eq(days),
            room_retention::max_messages.eq(max_messages),
        ))
        .on_conflict(room_retention::room_id)
        .do_update()
        .set((
            room_retention::retention_days.eq(days),
            room_retention::max_messages.eq(max_messages),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A room some policy applies to: its id, days (the room's, else the tenant's) and cap.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = SqlUuid)]
    pub room_id: Uuid,
    #[diesel(sql_type = Nullable<Int4>)]
    pub days: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub max_messages: Option<i32>,
}

/// Every room with a retention policy (its own or its tenant's).
pub async fn due(conn: &mut Conn) -> QueryResult<Vec<Due>> {
    diesel::sql_query(
        "SELECT r.id AS room_id, COALESCE(rr.retention_days, tr.retention_days) AS days,
                rr.max_messages
         FROM rooms r
         LEFT JOIN room_retention rr ON rr.room_id = r.id
         LEFT JOIN tenant_retention tr ON tr.tenant_id = r.tenant_id
         WHERE COALESCE(rr.retention_days, tr.retention_days) IS NOT NULL
            OR rr.max_messages IS NOT NULL",
    )
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// The highest seq past a cap of `keep` messages (None: the room holds no more than that).
pub async fn seq_past_cap(conn: &mut Conn, room_id: Uuid, keep: i32) -> QueryResult<Option<i64>> {
    let row: Option<Seq> = diesel::sql_query(
        "SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1",
    )
    .bind::<SqlUuid, _>(room_id)
    .bind::<BigInt, _>(i64::from(keep))
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|r| r.seq))
}

/// A seq below which every message of the room was sent before `at` (a message's time grows with
/// its seq): found by bisecting the seq index (a few point reads), so a room of young messages is
/// never scanned whole.
pub async fn seq_bound_before(
    conn: &mut Conn,
    room_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<i64> {
    use super::schema::messages;
    let last: Option<i64> = messages::table
        .filter(messages::room_id.eq(room_id))
        .select(diesel::dsl::max(messages::seq))
        .first(conn)
        .await?;
    let (mut lo, mut hi) = (1_i64, last.unwrap_or(0) + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // The first message at or after `mid` (there is one: `mid` < `hi` <= last + 1).
        let first: Option<DateTime<Utc>> = messages::table
            .filter(messages::room_id.eq(room_id).and(messages::seq.ge(mid)))
            .order(messages::seq.asc())
            .select(messages::created_at)
            .first(conn)
            .await
            .optional()?;
        match first {
            Some(created) if created < at => lo = mid + 1,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Swept {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
}

/// Turns at most `limit` messages of the room below seq `below` into tombstones (no text, file,
/// metadata, mentions, reactions, edits or pin), oldest first; messages another transaction
/// holds are left for the next batch.
pub async fn sweep_batch(
    conn: &mut Conn,
    room_id: Uuid,
    below: i64,
    limit: i64,
) -> QueryResult<Vec<Swept>> {
    diesel::sql_query(
        "WITH doomed AS (
             SELECT id FROM messages
             WHERE room_id = $1 AND seq < $2 AND NOT is_deleted
             ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED),
         r AS (DELETE FROM reactions WHERE message_id IN (SELECT id FROM doomed)),
         e AS (DELETE FROM message_edits WHERE message_id IN (SELECT id FROM doomed)),
         p AS (DELETE FROM pins WHERE message_id IN (SELECT id FROM doomed))
         UPDATE messages m SET content = '', attachment_id = NULL, metadata = NULL,
             mentions = '{}', is_deleted = true, deleted_at = now()
         FROM doomed WHERE m.id = doomed.id
         RETURNING m.id, m.seq",
    )
    .bind::<SqlUuid, _>(room_id)
    .bind::<BigInt, _>(below)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Rewrites the stored events that carry these swept messages (seqs `low..=high`) as their
/// tombstones, so no replay serves what retention removed: their `new_message` events (at their
/// own seqs) and any later `message_updated`.
pub async fn rewrite_swept(
    conn: &mut Conn,
    room_id: Uuid,
    (low, high): (i64, i64),
    ids: &[Uuid],
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE room_events e SET payload = jsonb_set(e.payload::jsonb, '{message}',
             (e.payload::jsonb -> 'message') || jsonb_build_object(
                 'content', '', 'mentions', '[]'::jsonb, 'metadata', 'null'::jsonb,
                 'is_deleted', true, 'attachment', 'null'::jsonb, 'reactions', '[]'::jsonb,
                 'link_preview', 'null'::jsonb))::text
         WHERE e.room_id = $1 AND e.seq >= $2
           AND ((e.kind = 'new_message' AND e.seq <= $4) OR e.kind = 'message_updated')
           AND (e.payload::jsonb -> 'message' ->> 'id') = ANY($3)",
    )
    .bind::<SqlUuid, _>(room_id)
    .bind::<BigInt, _>(low)
    .bind::<Array<diesel::sql_types::Text>, _>(ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
    .bind::<BigInt, _>(high)
    .execute(conn)
    .await
}

/// Records that messages below `seq` were removed (never moves back).
pub async fn advance(conn: &mut Conn, room_id: Uuid, seq: i64) -> QueryResult<()> {
    diesel::insert_into(room_retention::table)
        .values((
            room_retention::room_id.eq(room_id),
            room_retention::retained_from_seq.eq(seq),
        ))
        .on_conflict(room_retention::room_id)
        .do_update()
        .set(
            room_retention::retained_from_seq.eq(diesel::dsl::sql::<BigInt>(
                "GREATEST(room_retention.retained_from_seq, excluded.retained_from_seq)",
            )),
        )
        .execute(conn)
        .await?;
    Ok(())
}
