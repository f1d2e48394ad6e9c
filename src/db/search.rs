//! Full-text search over messages (Postgres `websearch_to_tsquery`, ranked, highlighted).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Float, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::Message;
use super::Conn;

#[derive(Debug, QueryableByName)]
pub struct Hit {
    #[diesel(embed)]
    pub message: Message,
    #[diesel(sql_type = Float)]
    pub rank: f32,
    #[diesel(sql_type = Text)]
    pub snippet: String,
}

pub struct MessageQuery<'a> {
    pub q: &'a str,
    pub room_id: Option<Uuid>,
    pub sender_id: Option<Uuid>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// Messages of the rooms `user_id` is a member of now, best matches first. The snippet is HTML:
/// the text is escaped and the matches are wrapped in `<mark>`.
pub async fn messages(
    conn: &mut Conn,
    tenant_id: Uuid,
    user_id: Uuid,
    f: &MessageQuery<'_>,
) -> QueryResult<Vec<Hit>> {
    diesel::sql_query(
        "SELECT m.*, ts_rank(m.search, q) AS rank,
            ts_headline('english',
                replace(replace(replace(m.content, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                q, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2') AS snippet
         FROM messages m, websearch_to_tsquery('english', $3) q
         WHERE m.tenant_id = $1 AND NOT m.is_deleted AND m.search @@ q
           AND m.room_id IN (SELECT x.room_id FROM room_members x JOIN rooms r ON r.id = x.room_id
                             WHERE x.user_id = $2 AND x.left_at IS NULL AND r.tenant_id = $1)
           AND ($4::uuid IS NULL OR m.room_id = $4)
           AND ($5::uuid IS NULL OR m.sender_id = $5)
           AND ($6::timestamptz IS NULL OR m.created_at >= $6)
           AND ($7::timestamptz IS NULL OR m.created_at < $7)
         ORDER BY rank DESC, m.created_at DESC, m.id
         LIMIT $8",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(f.q)
    .bind::<Nullable<SqlUuid>, _>(f.room_id)
    .bind::<Nullable<SqlUuid>, _>(f.sender_id)
    .bind::<Nullable<Timestamptz>, _>(f.after)
    .bind::<Nullable<Timestamptz>, _>(f.before)
    .bind::<BigInt, _>(f.limit)
    .load(conn)
    .await
}
