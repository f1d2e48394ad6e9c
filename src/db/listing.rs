//! Room lists with what a room list shows: my role, unread and mention counts, last message.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::{Message, Room, User};
use super::schema::{room_members, users};
use super::Conn;

#[derive(Debug, QueryableByName)]
pub struct RoomRow {
    #[diesel(embed)]
    pub room: Room,
    #[diesel(sql_type = Text)]
    pub my_role: String,
    #[diesel(sql_type = Bool)]
    pub archived: bool,
    #[diesel(sql_type = Bool)]
    pub muted: bool,
    #[diesel(sql_type = BigInt)]
    pub last_read_seq: i64,
    #[diesel(sql_type = BigInt)]
    pub member_count: i64,
    #[diesel(sql_type = BigInt)]
    pub unread_count: i64,
    #[diesel(sql_type = BigInt)]
    pub mention_count: i64,
    #[diesel(sql_type = Timestamptz)]
    pub activity_at: DateTime<Utc>,
}

pub struct ListFilter {
    pub archived: Option<bool>,
    pub room_type: Option<String>,
    /// Rooms older (by activity) than this (activity time, id).
    pub cursor: Option<(DateTime<Utc>, Uuid)>,
    /// Only these rooms (for one room's view).
    pub room_id: Option<Uuid>,
    pub limit: i64,
    /// Rooms to skip first (page-number paging; 0 with a cursor).
    pub offset: i64,
}

/// My rooms, newest activity first, with the counts valid at each room's `last_seq`.
pub async fn my_rooms(conn: &mut Conn, user_id: Uuid, f: &ListFilter) -> QueryResult<Vec<RoomRow>> {
    // The counts and the room row are read in one statement, so they agree with `last_seq`.
    diesel::sql_query(
        "SELECT r.*, m.role AS my_role, m.archived, m.muted, m.last_read_seq,
            (SELECT count(*) FROM room_members x WHERE x.room_id = r.id AND x.left_at IS NULL) AS member_count,
            (SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.last_read_seq
                AND x.sender_id <> $1 AND NOT x.is_deleted) AS unread_count,
            (SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.seq > m.last_read_seq
                AND x.sender_id <> $1 AND NOT x.is_deleted AND x.mentions @> ARRAY[$1]
                AND NOT EXISTS (SELECT 1 FROM user_blocks b
                    WHERE b.blocker_id = $1 AND b.blocked_id = x.sender_id)) AS mention_count,
            COALESCE(r.last_message_at, r.created_at) AS activity_at
         FROM room_members m JOIN rooms r ON r.id = m.room_id
         WHERE m.user_id = $1 AND m.left_at IS NULL
           AND ($2::boolean IS NULL OR m.archived = $2)
           AND ($3::text IS NULL OR r.room_type = $3)
           AND ($4::timestamptz IS NULL OR (COALESCE(r.last_message_at, r.created_at), r.id) < ($4, $5))
           AND ($6::uuid IS NULL OR r.id = $6)
         ORDER BY activity_at DESC, r.id DESC
         LIMIT $7 OFFSET $8",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Nullable<Bool>, _>(f.archived)
    .bind::<Nullable<Text>, _>(f.room_type.as_deref())
    .bind::<Nullable<Timestamptz>, _>(f.cursor.map(|c| c.0))
    .bind::<SqlUuid, _>(f.cursor.map(|c| c.1).unwrap_or_default())
    .bind::<Nullable<SqlUuid>, _>(f.room_id)
    .bind::<BigInt, _>(f.limit)
    .bind::<BigInt, _>(f.offset)
    .load(conn)
    .await
}

/// How many rooms I am a member of.
pub async fn count_my_rooms(conn: &mut Conn, user_id: Uuid) -> QueryResult<i64> {
    room_members::table
        .filter(room_members::user_id.eq(user_id))
        .filter(room_members::left_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// The newest message of each room.
pub async fn last_messages(conn: &mut Conn, room_ids: &[Uuid]) -> QueryResult<Vec<Message>> {
    if room_ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT DISTINCT ON (room_id) * FROM messages WHERE room_id = ANY($1) ORDER BY room_id, seq DESC",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(room_ids)
    .load(conn)
    .await
}

/// For direct rooms: the member who is not `me`.
pub async fn other_members(
    conn: &mut Conn,
    room_ids: &[Uuid],
    me: Uuid,
) -> QueryResult<Vec<(Uuid, User)>> {
    if room_ids.is_empty() {
        return Ok(Vec::new());
    }
    room_members::table
        .inner_join(users::table.on(users::id.eq(room_members::user_id)))
        .filter(room_members::room_id.eq_any(room_ids))
        .filter(room_members::user_id.ne(me))
        .select((room_members::room_id, User::as_select()))
        .load(conn)
        .await
}

/// Per room: (room id, unread, mentions, last seq) for all my rooms.
pub async fn unread_counts(conn: &mut Conn, user_id: Uuid) -> QueryResult<Vec<RoomRow>> {
    my_rooms(
        conn,
        user_id,
        &ListFilter {
            archived: None,
            room_type: None,
            cursor: None,
            room_id: None,
            limit: 10_000,
            offset: 0,
        },
    )
    .await
}

#[derive(Debug, QueryableByName)]
pub struct FoundRoom {
    #[diesel(embed)]
    pub room: Room,
    #[diesel(sql_type = BigInt)]
    pub member_count: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub my_role: Option<String>,
}

/// Rooms I am in or that are public, matching `q` by name, description or a member's name.
pub async fn search_rooms(
    conn: &mut Conn,
    tenant_id: Uuid,
    user_id: Uuid,
    q: &str,
    limit: i64,
) -> QueryResult<Vec<FoundRoom>> {
    let pattern = format!("%{}%", super::users::escape_like(&q.to_lowercase()));
    diesel::sql_query(
        "SELECT r.*,
            (SELECT count(*) FROM room_members x WHERE x.room_id = r.id AND x.left_at IS NULL) AS member_count,
            (SELECT role FROM room_members x WHERE x.room_id = r.id AND x.user_id = $2 AND x.left_at IS NULL) AS my_role
         FROM rooms r
         WHERE r.tenant_id = $1 AND r.is_active
           AND (r.room_type = 'public' OR EXISTS (SELECT 1 FROM room_members x
                WHERE x.room_id = r.id AND x.user_id = $2 AND x.left_at IS NULL))
           AND (lower(r.name) LIKE $3 OR lower(r.description) LIKE $3 OR EXISTS (
                SELECT 1 FROM room_members x JOIN users u ON u.id = x.user_id
                WHERE x.room_id = r.id AND x.left_at IS NULL AND r.room_type <> 'direct'
                  AND (lower(u.display_name) LIKE $3 OR u.username LIKE $3))
                OR (r.room_type = 'direct' AND EXISTS (
                SELECT 1 FROM room_members x JOIN users u ON u.id = x.user_id
                WHERE x.room_id = r.id AND x.left_at IS NULL AND x.user_id <> $2
                  AND (lower(u.display_name) LIKE $3 OR u.username LIKE $3))))
         ORDER BY (lower(r.name) LIKE $3) DESC, COALESCE(r.last_message_at, r.created_at) DESC, r.id
         LIMIT $4",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(pattern)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Public rooms of a tenant (to browse and join).
pub async fn public_rooms(
    conn: &mut Conn,
    tenant_id: Uuid,
    user_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<FoundRoom>> {
    diesel::sql_query(
        "SELECT r.*,
            (SELECT count(*) FROM room_members x WHERE x.room_id = r.id AND x.left_at IS NULL) AS member_count,
            (SELECT role FROM room_members x WHERE x.room_id = r.id AND x.user_id = $2 AND x.left_at IS NULL) AS my_role
         FROM rooms r WHERE r.tenant_id = $1 AND r.room_type = 'public' AND r.is_active
         ORDER BY COALESCE(r.last_message_at, r.created_at) DESC, r.id LIMIT $3",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
