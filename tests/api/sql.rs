//! The one place where tests read or write the database directly (to prove what is stored, or to
//! hold a lock); everything else talks to the server as a client does.

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::helpers::TestApp;

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct S {
    #[diesel(sql_type = Text)]
    s: String,
}

/// A query answering one number as `n`.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.db.conn().await;
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .await
        .expect(sql)
        .n
}

/// A query answering one number as `n`, on a connection the test holds.
pub async fn count_on(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .await
        .expect(sql)
        .n
}

/// A query answering one text as `s`.
pub async fn text(conn: &mut AsyncPgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<S>(conn)
        .await
        .expect(sql)
        .s
}

/// Runs a statement on a connection the test holds (a transaction, a lock).
pub async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).await.expect(sql);
}

/// Everything a refused request could have changed, as one string.
pub async fn snapshot(app: &TestApp) -> String {
    let mut conn = app.db.conn().await;
    text(
        &mut conn,
        "SELECT concat_ws('|',
            (SELECT string_agg(concat(id, name, description, is_active, last_seq, max_participants), ',' ORDER BY id) FROM rooms),
            (SELECT string_agg(concat(room_id, user_id, role, left_at, last_read_seq, archived), ',' ORDER BY room_id, user_id) FROM room_members),
            (SELECT string_agg(concat(id, content, is_deleted, edited_at), ',' ORDER BY id) FROM messages),
            (SELECT count(*) FROM reactions), (SELECT count(*) FROM room_events), (SELECT count(*) FROM message_edits)) AS s",
    )
    .await
}

#[derive(diesel::QueryableByName)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub message_id: Option<String>,
}

/// The room's event log: (seq, kind, message id of a new_message).
pub async fn events(app: &TestApp, room: Uuid) -> Vec<EventRow> {
    let mut conn = app.db.conn().await;
    diesel::sql_query(
        "SELECT seq, kind, payload::jsonb->'message'->>'id' AS message_id FROM room_events \
         WHERE room_id = $1 ORDER BY seq",
    )
    .bind::<SqlUuid, _>(room)
    .load(&mut conn)
    .await
    .expect("event log")
}

#[derive(diesel::QueryableByName)]
pub struct MessageRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub id: String,
}

/// The room's stored messages, in seq order.
pub async fn messages(app: &TestApp, room: Uuid) -> Vec<MessageRow> {
    let mut conn = app.db.conn().await;
    diesel::sql_query("SELECT seq, id::text AS id FROM messages WHERE room_id = $1 ORDER BY seq")
        .bind::<SqlUuid, _>(room)
        .load(&mut conn)
        .await
        .expect("messages")
}

/// The room's stored last seq.
pub async fn last_seq(app: &TestApp, room: Uuid) -> i64 {
    count(
        app,
        &format!("SELECT last_seq AS n FROM rooms WHERE id = '{room}'"),
    )
    .await
}
