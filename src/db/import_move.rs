//! The move of `confab import django`: staged rows (`db::import`) into the tenant's tables.
//! First one transaction writes users, rooms and members. Then each of the import's two
//! connections moves the messages of its half of the rooms, a chunk of rooms per transaction,
//! recording each moved room in `import_progress` in the same transaction: a killed run, run
//! again on the same file, skips those rooms. Last, reactions, read positions and the rooms' old
//! ids. Every insert skips what is already there, so a second run writes nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::Conn;

/// Session settings of the import's connections: a chunk's commit need not wait for the disk
/// (a crash loses at most the last chunks, and their progress rows with them), sorts of a chunk
/// stay in memory, and the GIN indexes (search, mentions) take the imported rows into pending
/// lists of up to 32 MB (8× PostgreSQL's default; a larger list measured ~15% faster but every
/// search of every tenant scans it while the import runs); `merge_search` merges what is left.
const SESSION: &str = "SET synchronous_commit = off; SET work_mem = '64MB';
    SET maintenance_work_mem = '256MB'; SET gin_pending_list_limit = '32MB'";

pub async fn session(conn: &mut Conn) -> diesel::QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(SESSION).await
}

/// Drops the staging tables and resets the session settings (the connection goes back to the
/// pool; not `DISCARD ALL`, which would drop the statements its cache holds).
pub async fn discard(conn: &mut Conn) -> diesel::QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(
        "DROP TABLE IF EXISTS imp_users, imp_rooms, imp_members, imp_messages, imp_reactions,
             imp_reads;
         RESET synchronous_commit; RESET work_mem; RESET maintenance_work_mem;
         RESET gin_pending_list_limit",
    )
    .await
}

/// Staging fixes made before the move: statistics for the planner (temporary tables get none by
/// themselves, and without them it joins 100,000 rows by nested loops), users named only by
/// reference, direct rooms that are not pairs (groups then), and a platform reference or pair
/// claimed twice (the first room keeps it).
const PREPARE: [&str; 6] = [
    "ANALYZE imp_users, imp_rooms, imp_members, imp_reactions, imp_reads",
    "INSERT INTO imp_users (id, display_name)
     SELECT DISTINCT u, 'User ' || left(u::text, 8) FROM (
         SELECT created_by AS u FROM imp_rooms WHERE created_by IS NOT NULL
         UNION SELECT user_id FROM imp_members UNION SELECT sender_id FROM imp_messages
         UNION SELECT unnest($1::uuid[])
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

/// Each connection's staged messages: an index by room (a chunk reads its rooms only) and
/// statistics.
const PREPARE_MESSAGES: &str = "CREATE INDEX IF NOT EXISTS imp_messages_room
    ON imp_messages (room_id, created_at, ord); ANALYZE imp_messages";

/// Users, rooms and members; `$1` is the tenant.
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

/// One chunk in one statement: `$1` the tenant, `$2` its rooms, `$3` the file's key, `$4` each
/// room's staged messages. A message is numbered only among the messages that can be written, so
/// seqs have no gap; replies and reply counts are written with it; the rooms' last seq, the
/// messages' old ids and the progress rows come from what was inserted (no second read of
/// `messages`, which grows to the whole import).
const MOVE_CHUNK: &str = "WITH ok AS (
         SELECT m.* FROM imp_messages m
         JOIN rooms r ON r.id = m.room_id AND r.tenant_id = $1
         JOIN users u ON u.id = m.sender_id AND u.tenant_id = $1
         WHERE m.room_id = ANY($2)),
     answered AS (
         SELECT t.id, count(*) AS n FROM ok a JOIN ok t ON t.id = a.reply_to AND t.room_id = a.room_id
         GROUP BY t.id),
     ins AS (
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
         ON CONFLICT DO NOTHING
         RETURNING id, room_id, seq, created_at),
     seqs AS (
         UPDATE rooms r SET last_seq = GREATEST(r.last_seq, s.seq),
             last_message_at = GREATEST(r.last_message_at, s.at)
         FROM (SELECT room_id, max(seq) AS seq, max(created_at) AS at FROM ins GROUP BY room_id) s
         WHERE r.id = s.room_id AND r.tenant_id = $1),
     old AS (
         INSERT INTO legacy_ids (tenant_id, kind, legacy_pk, id)
         SELECT $1, 'message', m.legacy, m.id FROM ok m JOIN ins i ON i.id = m.id
         WHERE char_length(m.legacy) BETWEEN 1 AND 128 AND m.legacy <> m.id::text
         ON CONFLICT DO NOTHING),
     done AS (
         INSERT INTO import_progress (tenant_id, file_key, room_id, messages)
         SELECT $1, $3, p.room_id, p.n FROM unnest($2::uuid[], $4::int4[]) AS p(room_id, n)
         JOIN rooms r ON r.id = p.room_id AND r.tenant_id = $1
         ON CONFLICT DO NOTHING)
     SELECT count(*) AS n FROM ins";

/// After every room's messages: reactions, read positions and the rooms' old ids.
const MOVE_MARKS: [(&str, &str); 3] = [
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
    (
        "old room ids",
        "INSERT INTO legacy_ids (tenant_id, kind, legacy_pk, id)
     SELECT $1, 'room', r.legacy, r.id FROM imp_rooms r JOIN rooms x ON x.id = r.id AND x.tenant_id = $1
         WHERE char_length(r.legacy) BETWEEN 1 AND 128 AND r.legacy <> r.id::text
     ON CONFLICT DO NOTHING",
    ),
];

/// How many rows one step of the move wrote, and how long it took.
pub struct Moved {
    pub step: &'static str,
    pub rows: usize,
    pub took: Duration,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The distinct senders of this connection's staged messages (the other connection's prepare
/// names them as users).
pub async fn senders(conn: &mut Conn) -> diesel::QueryResult<Vec<Uuid>> {
    let rows: Vec<Id> = diesel::sql_query("SELECT DISTINCT sender_id AS id FROM imp_messages")
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Indexes and analyses this connection's staged messages.
pub async fn prepare_messages(conn: &mut Conn) -> diesel::QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(PREPARE_MESSAGES).await
}

/// Users, rooms and members in one transaction (`senders` are the other connection's).
pub async fn move_rooms(
    conn: &mut Conn,
    tenant: Uuid,
    senders: &[Uuid],
) -> diesel::QueryResult<Vec<Moved>> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let started = Instant::now();
        for (n, sql) in PREPARE.iter().enumerate() {
            let query = diesel::sql_query(*sql);
            if n == 1 {
                query.bind::<Array<SqlUuid>, _>(senders).execute(c).await?;
            } else {
                query.execute(c).await?;
            }
        }
        let mut moved = vec![Moved {
            step: "prepare",
            rows: 0,
            took: started.elapsed(),
        }];
        for (step, sql) in MOVE_ROOMS {
            moved.push(step_of(c, tenant, step, sql).await?);
        }
        diesel::sql_query(ANALYZE_MOVED).execute(c).await?;
        Ok(moved)
    })
    .await
}

/// Reactions, read positions and old room ids in one transaction.
pub async fn move_marks(conn: &mut Conn, tenant: Uuid) -> diesel::QueryResult<Vec<Moved>> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let mut moved = Vec::new();
        for (step, sql) in MOVE_MARKS {
            moved.push(step_of(c, tenant, step, sql).await?);
        }
        Ok(moved)
    })
    .await
}

async fn step_of(
    c: &mut Conn,
    tenant: Uuid,
    step: &'static str,
    sql: &str,
) -> diesel::QueryResult<Moved> {
    let started = Instant::now();
    let rows = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .execute(c)
        .await?;
    let took = started.elapsed();
    Ok(Moved { step, rows, took })
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = SqlUuid)]
    room_id: Uuid,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What one connection's messages move did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Chunked {
    /// Rooms an earlier run of the same file had moved (skipped now), and their messages.
    pub rooms_done_before: usize,
    pub messages_done_before: u64,
    /// Rooms and messages moved by this run, in how many transactions.
    pub rooms_moved: usize,
    pub messages_moved: usize,
    pub chunks: usize,
}

impl Chunked {
    /// Both connections' together.
    pub fn plus(self, o: Chunked) -> Chunked {
        Chunked {
            rooms_done_before: self.rooms_done_before + o.rooms_done_before,
            messages_done_before: self.messages_done_before + o.messages_done_before,
            rooms_moved: self.rooms_moved + o.rooms_moved,
            messages_moved: self.messages_moved + o.messages_moved,
            chunks: self.chunks + o.chunks,
        }
    }
}

/// Moves this connection's staged messages, `chunk` messages (whole rooms) per transaction;
/// adds each chunk's staged messages to `progress` once it is committed. (Rooms an earlier run
/// of the file moved are not staged: the reader skips them, see `done_rooms`.)
pub async fn move_messages(
    conn: &mut Conn,
    tenant: Uuid,
    file_key: &str,
    chunk: usize,
    progress: &AtomicU64,
) -> diesel::QueryResult<Chunked> {
    let rooms: Vec<Pending> = diesel::sql_query(
        "SELECT room_id, count(*) AS n FROM imp_messages GROUP BY room_id ORDER BY room_id",
    )
    .load(conn)
    .await?;
    let mut out = Chunked::default();
    let mut batch: Vec<Uuid> = Vec::new();
    let mut counts: Vec<i32> = Vec::new();
    let mut staged: u64 = 0;
    for (i, room) in rooms.iter().enumerate() {
        batch.push(room.room_id);
        counts.push(i32::try_from(room.n).unwrap_or(i32::MAX));
        staged += u64::try_from(room.n).unwrap_or(0);
        if staged >= chunk as u64 || i + 1 == rooms.len() {
            out.messages_moved += move_chunk(conn, tenant, file_key, &batch, &counts).await?;
            out.rooms_moved += batch.len();
            out.chunks += 1;
            progress.fetch_add(staged, Ordering::Relaxed);
            (batch, counts, staged) = (Vec::new(), Vec::new(), 0);
        }
    }
    Ok(out)
}

/// One chunk of rooms in one transaction: their messages, seqs, old ids and progress rows.
async fn move_chunk(
    conn: &mut Conn,
    tenant: Uuid,
    file_key: &str,
    rooms: &[Uuid],
    counts: &[i32],
) -> diesel::QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let written: Left = diesel::sql_query(MOVE_CHUNK)
            .bind::<SqlUuid, _>(tenant)
            .bind::<Array<SqlUuid>, _>(rooms)
            .bind::<Text, _>(file_key)
            .bind::<Array<diesel::sql_types::Integer>, _>(counts)
            .get_result(c)
            .await?;
        Ok(usize::try_from(written.n).unwrap_or(0))
    })
    .await
}

#[derive(QueryableByName)]
struct Left {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Staged rows of `table` on this connection that are not in the tenant after the move (their
/// reason: a sender or room outside the tenant, a seq already taken by live traffic).
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

#[derive(QueryableByName)]
struct Merged {
    #[diesel(sql_type = BigInt)]
    pages: i64,
}

/// Merges the pending lists of the messages' GIN indexes (search, mentions) into the indexes in
/// one pass; answers the pending pages merged. Before it, the imported messages are already
/// found by search (a GIN scan reads its pending list too), only more slowly.
pub async fn merge_search(conn: &mut Conn) -> diesel::QueryResult<i64> {
    let merged: Merged = diesel::sql_query(
        "SELECT gin_clean_pending_list('messages_search'::regclass)
             + gin_clean_pending_list('messages_mentions'::regclass) AS pages",
    )
    .get_result(conn)
    .await?;
    Ok(merged.pages)
}

#[derive(QueryableByName)]
struct DoneRoom {
    #[diesel(sql_type = SqlUuid)]
    room_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    messages: i32,
}

/// The rooms an earlier run of the same file (`file_key`) moved, with their messages: a resumed
/// run does not stage their messages again.
pub async fn done_rooms(
    conn: &mut Conn,
    tenant: Uuid,
    file_key: &str,
) -> diesel::QueryResult<Vec<(Uuid, u64)>> {
    let rows: Vec<DoneRoom> = diesel::sql_query(
        "SELECT room_id, messages FROM import_progress WHERE tenant_id = $1 AND file_key = $2",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<Text, _>(file_key)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.room_id, u64::try_from(r.messages).unwrap_or(0)))
        .collect())
}
