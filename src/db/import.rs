//! The SQL of `confab import django`: records are staged in temporary tables of the import's
//! connection (nothing of the tenant's data changes while the file is read), then moved into
//! Confab's tables by one transaction of set-based statements. Every insert skips what is
//! already there, so a second run, or a run after one that was killed, writes only what is
//! missing.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
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

/// Staging fixes made before the move: statistics for the planner (temporary tables get none by
/// themselves, and without them it joins 100,000 rows by nested loops), users named only by
/// reference, direct rooms that are not pairs (groups then), and a platform reference or pair
/// claimed twice (the first room keeps it).
const PREPARE: [&str; 6] = [
    "ANALYZE imp_users, imp_rooms, imp_members, imp_messages, imp_reactions, imp_reads",
    "INSERT INTO imp_users (id, display_name)
     SELECT DISTINCT u, 'User ' || left(u::text, 8) FROM (
         SELECT created_by AS u FROM imp_rooms WHERE created_by IS NOT NULL
         UNION SELECT user_id FROM imp_members UNION SELECT sender_id FROM imp_messages
         UNION SELECT user_id FROM imp_reactions UNION SELECT user_id FROM imp_reads) x
     ON CONFLICT DO NOTHING",
    "UPDATE imp_rooms r SET direct_key = p.users[1]::text || ':' || p.users[2]::text
     FROM (SELECT room_id, array_agg(user_id ORDER BY user_id) AS users FROM imp_members
           GROUP BY room_id) p
     WHERE p.room_id = r.id AND r.room_type = 'direct' AND cardinality(p.users) = 2",
    "UPDATE imp_rooms r SET room_type = 'group', direct_key = NULL
     WHERE r.room_type = 'direct' AND (r.direct_key IS NULL OR EXISTS (SELECT 1 FROM imp_rooms o
         WHERE o.direct_key = r.direct_key AND o.id < r.id))",
    "UPDATE imp_rooms r SET ref_kind = NULL, ref_id = NULL
     WHERE r.ref_kind IS NOT NULL AND EXISTS (SELECT 1 FROM imp_rooms o
         WHERE o.ref_kind = r.ref_kind AND o.ref_id = r.ref_id AND o.id < r.id)",
    "UPDATE imp_members m SET role = 'owner' FROM imp_rooms r
     WHERE r.id = m.room_id AND r.room_type = 'direct'",
];

/// The move, in order; `$1` is the tenant. Rows already there (an earlier run) are skipped; a
/// message is numbered only among the messages that can be written, so seqs have no gap.
const MOVE_ROOMS: [(&str, &str); 3] = [
    ("users", "INSERT INTO users (id, tenant_id, username, email, display_name)
     SELECT i.id, $1,
         CASE WHEN i.first_username AND NOT EXISTS (SELECT 1 FROM users x
             WHERE x.tenant_id = $1 AND x.username = i.username) THEN i.username END,
         CASE WHEN i.first_email AND NOT EXISTS (SELECT 1 FROM users x
             WHERE x.tenant_id = $1 AND lower(x.email) = lower(i.email)) THEN i.email END,
         i.display_name
     FROM (SELECT *,
               row_number() OVER (PARTITION BY username ORDER BY id) = 1 AS first_username,
               row_number() OVER (PARTITION BY lower(email) ORDER BY id) = 1 AS first_email
           FROM imp_users) i
     ON CONFLICT DO NOTHING"),
    ("rooms", "INSERT INTO rooms (id, tenant_id, name, description, room_type, external_ref_kind,
         external_ref_id, direct_key, created_by, created_at, updated_at, is_active, max_participants)
     SELECT r.id, $1, r.name, r.description, r.room_type,
         CASE WHEN taken.id IS NULL THEN r.ref_kind END, CASE WHEN taken.id IS NULL THEN r.ref_id END,
         r.direct_key, u.id, COALESCE(r.created_at, now()), COALESCE(r.created_at, now()), r.is_active,
         CASE WHEN r.room_type = 'direct' THEN 2 ELSE r.max_participants END
     FROM imp_rooms r
     LEFT JOIN users u ON u.id = r.created_by AND u.tenant_id = $1
     LEFT JOIN rooms taken ON taken.tenant_id = $1 AND taken.external_ref_kind = r.ref_kind
         AND taken.external_ref_id = r.ref_id AND taken.id <> r.id
     ON CONFLICT DO NOTHING"),
    ("members", "INSERT INTO room_members (room_id, user_id, tenant_id, role, joined_at, left_at)
     SELECT m.room_id, m.user_id, $1, m.role, COALESCE(m.joined_at, r.created_at),
         CASE WHEN m.active THEN NULL ELSE COALESCE(m.joined_at, r.created_at) END
     FROM imp_members m
     JOIN rooms r ON r.id = m.room_id AND r.tenant_id = $1
     JOIN users u ON u.id = m.user_id AND u.tenant_id = $1
     ON CONFLICT DO NOTHING"),
];

/// Fresh statistics of what the messages are joined with: a new database's planner would
/// otherwise take the just-filled rooms and users for empty and join by nested loops.
const ANALYZE_MOVED: &str = "ANALYZE users, rooms, room_members";

const MOVE_MESSAGES: [(&str, &str); 4] = [
    (
        "messages",
        "WITH ok AS (
         SELECT m.* FROM imp_messages m
         JOIN rooms r ON r.id = m.room_id AND r.tenant_id = $1
         JOIN users u ON u.id = m.sender_id AND u.tenant_id = $1),
     answered AS (
         SELECT t.id, count(*) AS n FROM ok a JOIN ok t ON t.id = a.reply_to AND t.room_id = a.room_id
         GROUP BY t.id)
     INSERT INTO messages (id, room_id, tenant_id, seq, sender_id, message_type, content,
         created_at, edited_at, is_deleted, deleted_at, reply_to, reply_count)
     SELECT m.id, m.room_id, $1,
         row_number() OVER (PARTITION BY m.room_id ORDER BY m.created_at, m.ord),
         m.sender_id, m.message_type, m.content, m.created_at, m.edited_at, m.is_deleted,
         CASE WHEN m.is_deleted THEN COALESCE(m.edited_at, m.created_at) END,
         t.id, COALESCE(c.n, 0)
     FROM ok m
     LEFT JOIN ok t ON t.id = m.reply_to AND t.room_id = m.room_id
     LEFT JOIN answered c ON c.id = m.id
     ON CONFLICT DO NOTHING",
    ),
    (
        "room seqs",
        "UPDATE rooms r SET last_seq = GREATEST(r.last_seq, s.seq),
         last_message_at = GREATEST(r.last_message_at, s.at)
     FROM (SELECT room_id, max(seq) AS seq, max(created_at) AS at FROM messages
           WHERE room_id IN (SELECT id FROM imp_rooms) GROUP BY room_id) s
     WHERE r.id = s.room_id AND r.tenant_id = $1",
    ),
    (
        "reactions",
        "INSERT INTO reactions (message_id, user_id, emoji, created_at)
     SELECT i.message_id, i.user_id, i.emoji, m.created_at
     FROM imp_reactions i
     JOIN messages m ON m.id = i.message_id AND m.tenant_id = $1 AND NOT m.is_deleted
     JOIN users u ON u.id = i.user_id AND u.tenant_id = $1
     ON CONFLICT DO NOTHING",
    ),
    (
        "read positions",
        "UPDATE room_members rm SET last_read_seq = GREATEST(rm.last_read_seq, r.seq)
     FROM (SELECT room_id, user_id, max(seq) AS seq FROM (
               SELECT m.room_id, i.user_id, m.seq FROM imp_reads i
               JOIN messages m ON m.id = i.message_id AND m.tenant_id = $1
               UNION ALL
               SELECT im.room_id, im.user_id,
                   (SELECT max(x.seq) FROM messages x
                    WHERE x.room_id = im.room_id AND x.created_at <= im.last_read_at)
               FROM imp_members im WHERE im.last_read_at IS NOT NULL) all_reads
           GROUP BY room_id, user_id) r
     WHERE rm.room_id = r.room_id AND rm.user_id = r.user_id AND r.seq IS NOT NULL
         AND rm.tenant_id = $1",
    ),
];

/// The old pks of what was imported, so a seed's routes can answer them (a UUID pk is its own
/// id and needs no row).
const LEGACY: &str = "INSERT INTO legacy_ids (tenant_id, kind, legacy_pk, id)
     SELECT $1, 'room', r.legacy, r.id FROM imp_rooms r JOIN rooms x ON x.id = r.id AND x.tenant_id = $1
         WHERE char_length(r.legacy) BETWEEN 1 AND 128 AND r.legacy <> r.id::text
     UNION ALL
     SELECT $1, 'message', m.legacy, m.id FROM imp_messages m
         JOIN messages x ON x.id = m.id AND x.tenant_id = $1
         WHERE char_length(m.legacy) BETWEEN 1 AND 128 AND m.legacy <> m.id::text
     ON CONFLICT DO NOTHING";

/// How many rows one step of the move wrote, and how long it took.
pub struct Moved {
    pub step: &'static str,
    pub rows: usize,
    pub took: std::time::Duration,
}

/// Moves the staged rows into the tenant's tables in one transaction.
pub async fn move_staged(conn: &mut Conn, tenant: Uuid) -> diesel::QueryResult<Vec<Moved>> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let started = std::time::Instant::now();
        for sql in PREPARE {
            diesel::sql_query(sql).execute(c).await?;
        }
        let took = started.elapsed();
        let mut moved = vec![Moved {
            step: "prepare",
            rows: 0,
            took,
        }];
        for (step, sql) in MOVE_ROOMS {
            moved.push(move_step(c, tenant, step, sql).await?);
        }
        diesel::sql_query(ANALYZE_MOVED).execute(c).await?;
        for (step, sql) in MOVE_MESSAGES {
            moved.push(move_step(c, tenant, step, sql).await?);
        }
        moved.push(move_step(c, tenant, "old ids", LEGACY).await?);
        Ok(moved)
    })
    .await
}

async fn move_step(
    c: &mut Conn,
    tenant: Uuid,
    step: &'static str,
    sql: &str,
) -> diesel::QueryResult<Moved> {
    let started = std::time::Instant::now();
    let rows = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .execute(c)
        .await?;
    let took = started.elapsed();
    Ok(Moved { step, rows, took })
}

#[derive(QueryableByName)]
struct Left {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Staged rows of `table` that did not make it into the tenant (their reason: a sender or room
/// outside the tenant, a seq already taken by live traffic).
pub async fn not_moved(conn: &mut Conn, tenant: Uuid, what: &str) -> diesel::QueryResult<i64> {
    let sql = match what {
        "messages" => {
            "SELECT count(*) AS n FROM imp_messages i
             WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = i.id AND m.tenant_id = $1)"
        }
        _ => {
            "SELECT count(*) AS n FROM imp_rooms i
             WHERE NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = i.id AND r.tenant_id = $1)"
        }
    };
    let left: Left = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .get_result(conn)
        .await?;
    Ok(left.n)
}
