//! Notifications for members who are not looking: the rooms due for a decision, the unread
//! messages each member's settings ask to be told of, and each member's notify settings.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::Conn;

#[derive(Debug, QueryableByName)]
pub struct DueRoom {
    #[diesel(sql_type = SqlUuid)]
    pub room_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub room_name: String,
}

#[derive(QueryableByName)]
struct RoomId {
    #[diesel(sql_type = SqlUuid)]
    room_id: Uuid,
}

/// Up to `limit` rooms whose decision is due (oldest first); nothing is locked yet.
pub async fn due(conn: &mut Conn, limit: i64) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<RoomId> = diesel::sql_query(
        "SELECT room_id FROM notification_marks WHERE due_at <= now() ORDER BY due_at LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.room_id).collect())
}

/// Takes (deletes, inside the caller's transaction) the due mark of `room`, after locking the
/// room's row the way the committer does (room first, then its mark: no deadlock with a
/// commit); None when the mark is gone, not due, or the room is being committed right now (it
/// is taken on a later round).
pub async fn take(conn: &mut Conn, room: Uuid) -> QueryResult<Option<DueRoom>> {
    diesel::sql_query(
        "WITH r AS (SELECT id, name FROM rooms WHERE id = $1 FOR UPDATE SKIP LOCKED), \
         m AS (DELETE FROM notification_marks WHERE room_id IN (SELECT id FROM r) \
           AND due_at <= now() RETURNING room_id, tenant_id) \
         SELECT m.room_id, m.tenant_id, r.name AS room_name FROM m JOIN r ON r.id = m.room_id",
    )
    .bind::<SqlUuid, _>(room)
    .get_result(conn)
    .await
    .optional()
}

/// One unread message a member is to be told of.
#[derive(Debug, QueryableByName)]
pub struct Unread {
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub message_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = SqlUuid)]
    pub sender_id: Uuid,
    #[diesel(sql_type = Text)]
    pub sender_name: String,
    #[diesel(sql_type = Text)]
    pub content: String,
    #[diesel(sql_type = Text)]
    pub message_type: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub edited_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    pub mention: bool,
}

/// The room's newest seq now: what one decision covers.
pub async fn last_seq(conn: &mut Conn, room: Uuid) -> QueryResult<i64> {
    let cut: Cut = diesel::sql_query("SELECT max(seq) AS seq FROM messages WHERE room_id = $1")
        .bind::<SqlUuid, _>(room)
        .get_result(conn)
        .await?;
    Ok(cut.seq.unwrap_or(0))
}

/// The room's messages up to `cut`, per current member, that the member has not read (on any
/// device), did not send, were sent after they joined, are not deleted, and that their setting
/// asks for (`defaults`: direct rooms', others'), unless muted; with their current text.
pub async fn unread(
    conn: &mut Conn,
    room: Uuid,
    cut: i64,
    defaults: (&str, &str),
) -> QueryResult<Vec<Unread>> {
    diesel::sql_query(
        "SELECT m.user_id AS recipient_id, x.id AS message_id, x.seq, x.sender_id, \
           u.display_name AS sender_name, x.content, x.message_type, x.created_at, x.edited_at, \
           (m.user_id = ANY(x.mentions)) AS mention \
         FROM room_members m JOIN rooms r ON r.id = m.room_id \
         JOIN messages x ON x.room_id = m.room_id AND x.seq > GREATEST(m.last_read_seq, m.notified_seq) \
         JOIN users u ON u.id = x.sender_id \
         WHERE m.room_id = $1 AND m.left_at IS NULL AND NOT m.muted \
           AND (m.muted_until IS NULL OR m.muted_until <= now()) \
           AND x.seq <= $2 AND x.created_at >= m.joined_at \
           AND x.sender_id <> m.user_id AND NOT x.is_deleted \
           AND CASE notify_level(m.notify, r.tenant_id, r.room_type, $3, $4) \
               WHEN 'all' THEN true WHEN 'mentions' THEN m.user_id = ANY(x.mentions) ELSE false END \
         ORDER BY m.user_id, x.seq",
    )
    .bind::<SqlUuid, _>(room)
    .bind::<BigInt, _>(cut)
    .bind::<Text, _>(defaults.0)
    .bind::<Text, _>(defaults.1)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Cut {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Records that the room's messages up to `cut` are decided (members are not told of them
/// again), and marks the room again if a newer message is already there (due `delay_secs` after
/// the first of them).
pub async fn decided(
    conn: &mut Conn,
    room: Uuid,
    tenant: Uuid,
    cut: i64,
    delay_secs: f64,
) -> QueryResult<()> {
    diesel::sql_query(
        "WITH u AS (UPDATE room_members SET notified_seq = $2 WHERE room_id = $1 \
           AND left_at IS NULL AND notified_seq < $2) \
         INSERT INTO notification_marks (room_id, tenant_id, due_at) \
         SELECT $1, $3, min(created_at) + make_interval(secs => $4) FROM messages \
         WHERE room_id = $1 AND seq > $2 HAVING count(*) > 0 \
         ON CONFLICT (room_id) DO UPDATE SET due_at = LEAST(notification_marks.due_at, EXCLUDED.due_at)",
    )
    .bind::<SqlUuid, _>(room)
    .bind::<BigInt, _>(cut)
    .bind::<SqlUuid, _>(tenant)
    .bind::<Double, _>(delay_secs)
    .execute(conn)
    .await?;
    Ok(())
}

/// A member's notification settings.
#[derive(Debug, QueryableByName)]
pub struct NotifySettings {
    #[diesel(sql_type = Nullable<Text>)]
    pub notify: Option<String>,
    #[diesel(sql_type = Bool)]
    pub muted: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub muted_until: Option<DateTime<Utc>>,
    /// What the member is notified of: their choice, else the tenant's or the server's default.
    #[diesel(sql_type = Text)]
    pub level: String,
}

/// The server's defaults (`notifications.default_direct`, `default_other`), for `notify_level`.
pub type Defaults<'a> = (&'a str, &'a str);

/// What a member asks to change (None: unchanged; `muted_until` Some(None) clears it).
#[derive(Debug, Clone)]
pub struct NotifyChange {
    pub notify: Option<String>,
    pub muted: Option<bool>,
    pub muted_until: Option<Option<DateTime<Utc>>>,
}

/// Changes a current member's settings; None when `user` is not a member of `room`.
pub async fn set(
    conn: &mut Conn,
    room: Uuid,
    user: Uuid,
    c: &NotifyChange,
    defaults: Defaults<'_>,
) -> QueryResult<Option<NotifySettings>> {
    diesel::sql_query(
        "UPDATE room_members m SET notify = COALESCE($3, m.notify), muted = COALESCE($4, m.muted), \
         muted_until = CASE WHEN $5 THEN $6 ELSE m.muted_until END FROM rooms r \
         WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2 AND m.left_at IS NULL \
         RETURNING m.notify, m.muted, m.muted_until, \
           notify_level(m.notify, r.tenant_id, r.room_type, $7, $8) AS level",
    )
    .bind::<SqlUuid, _>(room)
    .bind::<SqlUuid, _>(user)
    .bind::<Nullable<Text>, _>(c.notify.as_deref())
    .bind::<Nullable<Bool>, _>(c.muted)
    .bind::<Bool, _>(c.muted_until.is_some())
    .bind::<Nullable<Timestamptz>, _>(c.muted_until.flatten())
    .bind::<Text, _>(defaults.0)
    .bind::<Text, _>(defaults.1)
    .get_result(conn)
    .await
    .optional()
}

/// A current member's settings; None when not a member.
pub async fn get(
    conn: &mut Conn,
    room: Uuid,
    user: Uuid,
    defaults: Defaults<'_>,
) -> QueryResult<Option<NotifySettings>> {
    let mut found = levels(conn, user, &[room], defaults).await?;
    Ok(found.pop().map(|r| r.settings))
}

/// A member's settings in one of `rooms`.
#[derive(Debug, QueryableByName)]
pub struct RoomSettings {
    #[diesel(sql_type = SqlUuid)]
    pub room_id: Uuid,
    #[diesel(embed)]
    pub settings: NotifySettings,
}

/// `user`'s settings in those of `rooms` they are a current member of (for room lists).
pub async fn levels(
    conn: &mut Conn,
    user: Uuid,
    rooms: &[Uuid],
    defaults: Defaults<'_>,
) -> QueryResult<Vec<RoomSettings>> {
    diesel::sql_query(
        "SELECT m.room_id, m.notify, m.muted, m.muted_until, \
           notify_level(m.notify, r.tenant_id, r.room_type, $3, $4) AS level \
         FROM room_members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.room_id = ANY($1) AND m.user_id = $2 AND m.left_at IS NULL",
    )
    .bind::<Array<SqlUuid>, _>(rooms)
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(defaults.0)
    .bind::<Text, _>(defaults.1)
    .load(conn)
    .await
}
