//! The staging of `confab import django`: records are staged in temporary tables of the
//! import's two connections (nothing of the tenant's data changes while the file is read; each
//! connection holds the messages of its half of the rooms), then `db::import_move` moves them
//! into Confab's tables.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

use super::Conn;

const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS imp_users (id UUID PRIMARY KEY, username TEXT, email TEXT,
    display_name TEXT NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS imp_rooms (id UUID PRIMARY KEY, name TEXT NOT NULL,
    description TEXT NOT NULL, room_type TEXT NOT NULL, ref_kind TEXT, ref_id TEXT, direct_key TEXT,
    created_by UUID, created_at TIMESTAMPTZ, is_active BOOLEAN NOT NULL, max_participants INT,
    legacy TEXT NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS imp_members (room_id UUID, user_id UUID, role TEXT NOT NULL,
    joined_at TIMESTAMPTZ, active BOOLEAN NOT NULL, last_read_at TIMESTAMPTZ,
    PRIMARY KEY (room_id, user_id));
CREATE TEMP TABLE IF NOT EXISTS imp_messages (id UUID PRIMARY KEY, room_id UUID NOT NULL,
    sender_id UUID NOT NULL, ord TEXT NOT NULL, content TEXT NOT NULL, message_type TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, edited_at TIMESTAMPTZ, is_deleted BOOLEAN NOT NULL,
    reply_to UUID, legacy TEXT NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS imp_reactions (message_id UUID, user_id UUID, emoji TEXT,
    PRIMARY KEY (message_id, user_id, emoji));
CREATE TEMP TABLE IF NOT EXISTS imp_reads (message_id UUID, user_id UUID,
    PRIMARY KEY (message_id, user_id));
";

/// Creates the staging tables on this connection (they go with it).
pub async fn stage_tables(conn: &mut Conn) -> diesel::QueryResult<()> {
    conn.batch_execute(STAGING).await
}

/// Staged users, column by column.
#[derive(Default)]
pub struct Users {
    pub id: Vec<Uuid>,
    pub username: Vec<Option<String>>,
    pub email: Vec<Option<String>>,
    pub display_name: Vec<String>,
}

pub async fn stage_users(conn: &mut Conn, u: &Users) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO imp_users SELECT * FROM unnest($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&u.id)
    .bind::<Array<Nullable<Text>>, _>(&u.username)
    .bind::<Array<Nullable<Text>>, _>(&u.email)
    .bind::<Array<Text>, _>(&u.display_name)
    .execute(conn)
    .await
}

/// Staged rooms, column by column.
#[derive(Default)]
pub struct Rooms {
    pub id: Vec<Uuid>,
    pub name: Vec<String>,
    pub description: Vec<String>,
    pub room_type: Vec<String>,
    pub ref_kind: Vec<Option<String>>,
    pub ref_id: Vec<Option<String>>,
    pub created_by: Vec<Option<Uuid>>,
    pub created_at: Vec<Option<DateTime<Utc>>>,
    pub is_active: Vec<bool>,
    pub max_participants: Vec<Option<i32>>,
    pub legacy: Vec<String>,
}

pub async fn stage_rooms(conn: &mut Conn, r: &Rooms) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO imp_rooms (id, name, description, room_type, ref_kind, ref_id, created_by,
             created_at, is_active, max_participants, legacy)
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&r.id)
    .bind::<Array<Text>, _>(&r.name)
    .bind::<Array<Text>, _>(&r.description)
    .bind::<Array<Text>, _>(&r.room_type)
    .bind::<Array<Nullable<Text>>, _>(&r.ref_kind)
    .bind::<Array<Nullable<Text>>, _>(&r.ref_id)
    .bind::<Array<Nullable<SqlUuid>>, _>(&r.created_by)
    .bind::<Array<Nullable<Timestamptz>>, _>(&r.created_at)
    .bind::<Array<Bool>, _>(&r.is_active)
    .bind::<Array<Nullable<Int4>>, _>(&r.max_participants)
    .bind::<Array<Text>, _>(&r.legacy)
    .execute(conn)
    .await
}

/// Staged memberships, column by column.
#[derive(Default)]
pub struct Members {
    pub room_id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub role: Vec<String>,
    pub joined_at: Vec<Option<DateTime<Utc>>>,
    pub active: Vec<bool>,
    pub last_read_at: Vec<Option<DateTime<Utc>>>,
}

pub async fn stage_members(conn: &mut Conn, m: &Members) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO imp_members SELECT * FROM unnest($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&m.room_id)
    .bind::<Array<SqlUuid>, _>(&m.user_id)
    .bind::<Array<Text>, _>(&m.role)
    .bind::<Array<Nullable<Timestamptz>>, _>(&m.joined_at)
    .bind::<Array<Bool>, _>(&m.active)
    .bind::<Array<Nullable<Timestamptz>>, _>(&m.last_read_at)
    .execute(conn)
    .await
}

/// Staged messages, column by column.
#[derive(Default)]
pub struct Messages {
    pub id: Vec<Uuid>,
    pub room_id: Vec<Uuid>,
    pub sender_id: Vec<Uuid>,
    pub ord: Vec<String>,
    pub content: Vec<String>,
    pub message_type: Vec<String>,
    pub created_at: Vec<DateTime<Utc>>,
    pub edited_at: Vec<Option<DateTime<Utc>>>,
    pub is_deleted: Vec<bool>,
    pub reply_to: Vec<Option<Uuid>>,
    pub legacy: Vec<String>,
}

pub async fn stage_messages(conn: &mut Conn, m: &Messages) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO imp_messages
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&m.id)
    .bind::<Array<SqlUuid>, _>(&m.room_id)
    .bind::<Array<SqlUuid>, _>(&m.sender_id)
    .bind::<Array<Text>, _>(&m.ord)
    .bind::<Array<Text>, _>(&m.content)
    .bind::<Array<Text>, _>(&m.message_type)
    .bind::<Array<Timestamptz>, _>(&m.created_at)
    .bind::<Array<Nullable<Timestamptz>>, _>(&m.edited_at)
    .bind::<Array<Bool>, _>(&m.is_deleted)
    .bind::<Array<Nullable<SqlUuid>>, _>(&m.reply_to)
    .bind::<Array<Text>, _>(&m.legacy)
    .execute(conn)
    .await
}

/// Staged reactions (`emoji` set) or reads (`emoji` empty), column by column.
#[derive(Default)]
pub struct Marks {
    pub message_id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub emoji: Vec<String>,
}

pub async fn stage_reactions(conn: &mut Conn, r: &Marks) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO imp_reactions SELECT * FROM unnest($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&r.message_id)
    .bind::<Array<SqlUuid>, _>(&r.user_id)
    .bind::<Array<Text>, _>(&r.emoji)
    .execute(conn)
    .await
}

pub async fn stage_reads(conn: &mut Conn, r: &Marks) -> diesel::QueryResult<usize> {
    diesel::sql_query("INSERT INTO imp_reads SELECT * FROM unnest($1, $2) ON CONFLICT DO NOTHING")
        .bind::<Array<SqlUuid>, _>(&r.message_id)
        .bind::<Array<SqlUuid>, _>(&r.user_id)
        .execute(conn)
        .await
}
