//! The committer's bulk statements (arrays unnested), each one round trip however many rooms and
//! rows it carries: the write of a transaction's messages, room events and rooms' seqs (of fixed
//! shape, so prepared once per connection), and the lookup of resent client_ids.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::Message;
use super::Conn;

/// One committed room event as stored: room, seq, wire name and the frame's JSON text.
pub struct EventRow<'a> {
    pub room_id: Uuid,
    pub seq: i64,
    pub kind: &'a str,
    pub json: &'a str,
}

/// A room's new last seq, and when its newest message came (None: unchanged).
pub struct RoomSeq {
    pub room_id: Uuid,
    pub last_seq: i64,
    pub last_message_at: Option<DateTime<Utc>>,
}

/// The ids of the messages sent with these (room, sender, client_id) keys.
pub async fn sent_with(conn: &mut Conn, keys: &[(Uuid, Uuid, &str)]) -> QueryResult<Vec<Uuid>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    SentWith {
        rooms: keys.iter().map(|k| k.0).collect(),
        senders: keys.iter().map(|k| k.1).collect(),
        client_ids: keys.iter().map(|k| k.2).collect(),
    }
    .load(conn)
    .await
}

struct SentWith<'a> {
    rooms: Vec<Uuid>,
    senders: Vec<Uuid>,
    client_ids: Vec<&'a str>,
}

impl QueryId for SentWith<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for SentWith<'_> {
    type SqlType = SqlUuid;
}

impl QueryFragment<Pg> for SentWith<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Rare (resends only), so planned each time for the table as it is now: a plan kept
        // from when the table was small could scan it whole once it is large.
        out.unsafe_to_cache_prepared();
        out.push_sql("SELECT m.id FROM unnest(");
        bind::<Array<SqlUuid>, _>(&mut out, &self.rooms, ", ")?;
        bind::<Array<SqlUuid>, _>(&mut out, &self.senders, ", ")?;
        bind::<Array<Text>, _>(
            &mut out,
            &self.client_ids,
            ") AS k(room_id, sender_id, client_id) JOIN messages m ON m.room_id = k.room_id \
             AND m.sender_id = k.sender_id AND m.client_id = k.client_id",
        )?;
        Ok(())
    }
}

/// Writes `messages`, `events` and `rooms` (any of them may be empty) in one statement. Answers
/// how many messages were written: a message whose (room, sender, client_id) is taken is not.
pub async fn write_all(
    conn: &mut Conn,
    messages: &[Message],
    events: &[EventRow<'_>],
    rooms: &[RoomSeq],
) -> QueryResult<usize> {
    if messages.is_empty() && events.is_empty() && rooms.is_empty() {
        return Ok(0);
    }
    let written: i64 = WriteAll::new(messages, events, rooms)
        .get_result(conn)
        .await?;
    Ok(written as usize)
}

/// The columns of the three writes, as arrays (one element per row).
struct WriteAll<'a> {
    m_id: Vec<Uuid>,
    m_room: Vec<Uuid>,
    m_tenant: Vec<Uuid>,
    m_seq: Vec<i64>,
    m_sender: Vec<Uuid>,
    m_type: Vec<&'a str>,
    m_content: Vec<&'a str>,
    m_attachment: Vec<Option<Uuid>>,
    m_reply_to: Vec<Option<Uuid>>,
    /// Each row's mentions as an array literal (`{id,id}`), cast back in SQL: unnest cannot
    /// take an array of arrays of different lengths.
    m_mentions: Vec<String>,
    m_metadata: Vec<Option<String>>,
    m_client_id: Vec<Option<&'a str>>,
    m_created_at: Vec<DateTime<Utc>>,
    e_room: Vec<Uuid>,
    e_seq: Vec<i64>,
    e_kind: Vec<&'a str>,
    e_json: Vec<&'a str>,
    r_id: Vec<Uuid>,
    r_seq: Vec<i64>,
    r_at: Vec<Option<DateTime<Utc>>>,
}

impl<'a> WriteAll<'a> {
    fn new(messages: &'a [Message], events: &'a [EventRow<'a>], rooms: &[RoomSeq]) -> Self {
        let mentions = |m: &Message| {
            let ids: Vec<String> = m.mentions.iter().flatten().map(|u| u.to_string()).collect();
            format!("{{{}}}", ids.join(","))
        };
        WriteAll {
            m_id: messages.iter().map(|m| m.id).collect(),
            m_room: messages.iter().map(|m| m.room_id).collect(),
            m_tenant: messages.iter().map(|m| m.tenant_id).collect(),
            m_seq: messages.iter().map(|m| m.seq).collect(),
            m_sender: messages.iter().map(|m| m.sender_id).collect(),
            m_type: messages.iter().map(|m| m.message_type.as_str()).collect(),
            m_content: messages.iter().map(|m| m.content.as_str()).collect(),
            m_attachment: messages.iter().map(|m| m.attachment_id).collect(),
            m_reply_to: messages.iter().map(|m| m.reply_to).collect(),
            m_mentions: messages.iter().map(mentions).collect(),
            m_metadata: messages
                .iter()
                .map(|m| m.metadata.as_ref().map(|v| v.to_string()))
                .collect(),
            m_client_id: messages.iter().map(|m| m.client_id.as_deref()).collect(),
            m_created_at: messages.iter().map(|m| m.created_at).collect(),
            e_room: events.iter().map(|e| e.room_id).collect(),
            e_seq: events.iter().map(|e| e.seq).collect(),
            e_kind: events.iter().map(|e| e.kind).collect(),
            e_json: events.iter().map(|e| e.json).collect(),
            r_id: rooms.iter().map(|r| r.room_id).collect(),
            r_seq: rooms.iter().map(|r| r.last_seq).collect(),
            r_at: rooms.iter().map(|r| r.last_message_at).collect(),
        }
    }
}

/// The statement's shape never changes, so it is cached as a prepared statement.
struct WriteAllQuery;

impl QueryId for WriteAll<'_> {
    type QueryId = WriteAllQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for WriteAll<'_> {
    type SqlType = BigInt;
}

impl QueryFragment<Pg> for WriteAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = &mut out;
        o.push_sql(
            "WITH m AS (INSERT INTO messages (id, room_id, tenant_id, seq, sender_id, \
             message_type, content, attachment_id, reply_to, mentions, metadata, client_id, \
             created_at) SELECT id, room_id, tenant_id, seq, sender_id, message_type, content, \
             attachment_id, reply_to, mentions::uuid[], metadata::jsonb, client_id, created_at \
             FROM unnest(",
        );
        bind::<Array<SqlUuid>, _>(o, &self.m_id, ", ")?;
        bind::<Array<SqlUuid>, _>(o, &self.m_room, ", ")?;
        bind::<Array<SqlUuid>, _>(o, &self.m_tenant, ", ")?;
        bind::<Array<BigInt>, _>(o, &self.m_seq, ", ")?;
        bind::<Array<SqlUuid>, _>(o, &self.m_sender, ", ")?;
        bind::<Array<Text>, _>(o, &self.m_type, ", ")?;
        bind::<Array<Text>, _>(o, &self.m_content, ", ")?;
        bind::<Array<Nullable<SqlUuid>>, _>(o, &self.m_attachment, ", ")?;
        bind::<Array<Nullable<SqlUuid>>, _>(o, &self.m_reply_to, ", ")?;
        bind::<Array<Text>, _>(o, &self.m_mentions, ", ")?;
        bind::<Array<Nullable<Text>>, _>(o, &self.m_metadata, ", ")?;
        bind::<Array<Nullable<Text>>, _>(o, &self.m_client_id, ", ")?;
        bind::<Array<Timestamptz>, _>(
            o,
            &self.m_created_at,
            ") AS t(id, room_id, tenant_id, seq, sender_id, message_type, content, \
             attachment_id, reply_to, mentions, metadata, client_id, created_at) \
             ON CONFLICT (room_id, sender_id, client_id) DO NOTHING RETURNING 1), \
             e AS (INSERT INTO room_events (room_id, seq, kind, payload) \
             SELECT room_id, seq, kind, payload FROM unnest(",
        )?;
        bind::<Array<SqlUuid>, _>(o, &self.e_room, ", ")?;
        bind::<Array<BigInt>, _>(o, &self.e_seq, ", ")?;
        bind::<Array<Text>, _>(o, &self.e_kind, ", ")?;
        bind::<Array<Text>, _>(
            o,
            &self.e_json,
            ") AS t(room_id, seq, kind, payload)), \
             r AS (UPDATE rooms SET last_seq = u.seq, \
             last_message_at = COALESCE(u.at, rooms.last_message_at) FROM unnest(",
        )?;
        bind::<Array<SqlUuid>, _>(o, &self.r_id, ", ")?;
        bind::<Array<BigInt>, _>(o, &self.r_seq, ", ")?;
        bind::<Array<Nullable<Timestamptz>>, _>(
            o,
            &self.r_at,
            ") AS u(id, seq, at) WHERE rooms.id = u.id) SELECT count(*) FROM m",
        )
    }
}

/// Pushes `values` as a typed bind parameter (its type fixes the placeholder's), then `then`.
pub(super) fn bind<'b, ST, U>(
    out: &mut AstPass<'_, 'b, Pg>,
    values: &'b U,
    then: &str,
) -> QueryResult<()>
where
    Pg: HasSqlType<ST>,
    U: ToSql<ST, Pg>,
{
    out.push_bind_param::<ST, U>(values)?;
    out.push_sql(then);
    Ok(())
}
