//! `confab import django`: a seed system's chat history from its Django `dumpdata` export. A
//! thread streams the file (`dump`), recognises each record (`records`) and hands batches of rows
//! to the import's two connections, which stage them (each the messages of half the rooms).
//! Then users, rooms and members are moved in one transaction, the messages by both connections
//! at once in committed chunks of rooms (a killed run continues after the last one), and last
//! reactions and read positions (`db::import_move`).

pub mod dump;
pub mod progress;
pub mod records;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::db::import::{self as sql, Marks, Members, Messages, Rooms, Users};
use crate::db::import_move::{self as moving, Chunked, Moved};
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};
use dump::Item;
use progress::Bar;
use records::{pk_text, recognise, Ids, Row};

/// Rows per staged batch.
const BATCH: usize = 5_000;
/// Bad records listed one by one in the report (all are counted).
const LISTED: usize = 100;
/// Messages per committed chunk of rooms, by default.
pub const CHUNK: usize = 20_000;

pub struct Options {
    pub file: PathBuf,
    /// The tenant's id or name; the default tenant when absent.
    pub tenant: Option<String>,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// Any bad record stops the run before anything is written.
    pub strict: bool,
    /// Messages per committed chunk of rooms (whole rooms: a bigger room is a chunk alone).
    pub chunk: usize,
}

/// A record that was not imported: its model, pk and why.
pub struct Skipped {
    pub model: String,
    pub pk: String,
    pub why: String,
}

#[derive(Default)]
pub struct Report {
    pub tenant: Uuid,
    /// Records read, by model.
    pub read: BTreeMap<String, u64>,
    pub skipped: Vec<Skipped>,
    pub skipped_count: u64,
    /// Rows written and the time it took, by step (empty for a dry or refused run).
    pub moved: Vec<(String, usize, Duration)>,
    /// The messages' move, both connections together.
    pub chunked: Chunked,
    /// Reading and staging the file.
    pub staged_in: Duration,
    /// Messages staged (those of rooms an earlier run of the file moved are not).
    pub staged_messages: u64,
    /// From the start until every message was committed (and found by search, through the GIN
    /// pending list), and until that list was merged into the search index (searches fast again).
    pub messages_in: Duration,
    pub merged_in: Duration,
    /// Staged messages and rooms that are not in the tenant after the move.
    pub messages_left_out: i64,
    pub rooms_left_out: i64,
    pub written: bool,
    pub elapsed: Duration,
}

/// The import's two connections: `a` stages everything but the messages of the rooms `b` has.
struct Pair {
    a: Pooled,
    b: Pooled,
}

type Pooled = diesel_async::pooled_connection::deadpool::Object<diesel_async::AsyncPgConnection>;

/// Runs the import; the connections go back to the pool as they came (no staging tables, no
/// session settings).
pub async fn run(pool: &DbPool, opts: Options) -> AppResult<Report> {
    let mut pair = Pair {
        a: pool.get().await?,
        b: pool.get().await?,
    };
    let out = run_on(&mut pair, opts).await;
    for conn in [&mut pair.a, &mut pair.b] {
        moving::discard(conn).await?;
    }
    out
}

async fn run_on(pair: &mut Pair, opts: Options) -> AppResult<Report> {
    let started = Instant::now();
    let key = opts.tenant.clone().unwrap_or_else(|| "default".into());
    let tenant = db::tenants::find(&mut pair.a, &key)
        .await?
        .ok_or_else(|| AppError::bad_request("tenant", format!("no tenant `{key}`")))?
        .id;
    let file_key = file_key(&opts.file, tenant)?;
    let bar = std::sync::Arc::new(Bar::new());
    let done = moving::done_rooms(&mut pair.a, tenant, &file_key).await?;
    let skip: HashSet<Uuid> = done.iter().map(|(room, _)| *room).collect();
    let tally = stage(pair, &opts.file, tenant, skip, bar.clone()).await?;
    let mut report = Report {
        tenant,
        read: tally.read,
        skipped: tally.skipped,
        skipped_count: tally.skipped_count,
        staged_messages: tally.messages,
        ..Report::default()
    };
    if opts.dry_run || (opts.strict && report.skipped_count > 0) {
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    report.staged_in = started.elapsed();
    let plan = Plan {
        tenant,
        file_key: &file_key,
        chunk: opts.chunk.max(1),
        messages: tally.messages,
        began: started,
    };
    move_all(pair, &plan, &bar, &mut report).await?;
    report.chunked.rooms_done_before = done.len();
    report.chunked.messages_done_before = done.iter().map(|(_, n)| n).sum::<u64>();
    let checking = Instant::now();
    report.messages_left_out = moving::not_moved(&mut pair.a, tenant, "messages").await?
        + moving::not_moved(&mut pair.b, tenant, "messages").await?;
    report.rooms_left_out = moving::not_moved(&mut pair.a, tenant, "rooms").await?;
    report.moved.push(("check".into(), 0, checking.elapsed()));
    report.written = true;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The file's identity for `import_progress`: its path, size and modification time, and the
/// tenant (a changed or other file starts over; rows already there are skipped anyway).
fn file_key(file: &Path, tenant: Uuid) -> AppResult<String> {
    let meta = std::fs::metadata(file)
        .map_err(|e| AppError::bad_request("file", format!("{}: {e}", file.display())))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let identity = format!("{tenant}:{}:{}:{modified}", path.display(), meta.len());
    Ok(Uuid::new_v5(&Uuid::NAMESPACE_OID, identity.as_bytes()).to_string())
}

/// Reads the file on a thread and stages its batches on both connections.
async fn stage(
    pair: &mut Pair,
    file: &Path,
    tenant: Uuid,
    skip: HashSet<Uuid>,
    bar: std::sync::Arc<Bar>,
) -> AppResult<Tally> {
    for conn in [&mut pair.a, &mut pair.b] {
        sql::stage_tables(conn).await?;
        moving::session(conn).await?;
    }
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let file = file.to_path_buf();
    let reader = std::thread::spawn(move || read_file(file, tenant, &skip, tx, &bar));
    while let Some(batch) = rx.recv().await {
        batch.stage(&mut pair.a, &mut pair.b).await?;
    }
    reader
        .join()
        .map_err(|_| AppError::internal("the reader thread panicked"))?
}

/// What the move needs to know.
struct Plan<'a> {
    tenant: Uuid,
    file_key: &'a str,
    chunk: usize,
    /// Staged messages (the progress bar's total).
    messages: u64,
    /// When the run began.
    began: Instant,
}

/// Users, rooms and members; the messages on both connections at once; the marks.
async fn move_all(
    pair: &mut Pair,
    plan: &Plan<'_>,
    bar: &Bar,
    report: &mut Report,
) -> AppResult<()> {
    let tenant = plan.tenant;
    moving::prepare_messages(&mut pair.b).await?;
    let senders = moving::senders(&mut pair.b).await?;
    moving::prepare_messages(&mut pair.a).await?;
    let mut moved: Vec<Moved> = moving::move_rooms(&mut pair.a, tenant, &senders).await?;
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let both = async {
        tokio::try_join!(
            moving::move_messages(&mut pair.a, tenant, plan.file_key, plan.chunk, &done),
            moving::move_messages(&mut pair.b, tenant, plan.file_key, plan.chunk, &done),
        )
    };
    let ticker = async {
        loop {
            bar.show(
                "moving",
                done.load(Ordering::Relaxed),
                plan.messages,
                "messages",
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (x, y) = tokio::select! {
        both = both => both?,
        () = ticker => unreachable!("the ticker never ends"),
    };
    bar.done("moving", plan.messages, "messages");
    report.chunked = x.plus(y);
    moved.push(Moved {
        step: "messages",
        rows: report.chunked.messages_moved,
        took: started.elapsed(),
    });
    report.messages_in = plan.began.elapsed();
    let (marks, (merged, merged_at)) = tokio::try_join!(
        moving::move_marks(&mut pair.a, tenant),
        merge(&mut pair.b, plan.began)
    )?;
    report.merged_in = merged_at;
    moved.extend(marks);
    moved.push(merged);
    report.moved = moved
        .into_iter()
        .map(|m| (m.step.to_owned(), m.rows, m.took))
        .collect();
    Ok(())
}

/// Merges the search index's pending list (while the other connection moves the marks); answers
/// the step and when it ended since `began`.
async fn merge(conn: &mut db::Conn, began: Instant) -> diesel::QueryResult<(Moved, Duration)> {
    let started = Instant::now();
    let pages = moving::merge_search(conn).await?;
    let step = Moved {
        step: "search index merged (pages)",
        rows: usize::try_from(pages).unwrap_or(0),
        took: started.elapsed(),
    };
    Ok((step, began.elapsed()))
}

/// What the reader counted.
#[derive(Default)]
struct Tally {
    read: BTreeMap<String, u64>,
    skipped: Vec<Skipped>,
    skipped_count: u64,
    /// Messages recognised (staged).
    messages: u64,
}

impl Tally {
    fn skip(&mut self, model: &str, pk: String, why: String) {
        self.skipped_count += 1;
        if self.skipped.len() < LISTED {
            self.skipped.push(Skipped {
                model: model.to_owned(),
                pk,
                why,
            });
        }
    }

    /// Counts one item and hands back its row, if it is one to stage.
    fn take(&mut self, ids: &Ids, tenant: Uuid, item: Item) -> Option<Row> {
        let r = match item {
            Item::Malformed { index, why } => {
                let why = format!("not a dumpdata record: {why}");
                self.skip("?", format!("#{index}"), why);
                return None;
            }
            Item::Record(r) => r,
        };
        *self.read.entry(r.model.to_lowercase()).or_default() += 1;
        match recognise(ids, &r) {
            None => {
                let why = "not a chat model Confab imports".into();
                self.skip(&r.model, pk_text(&r.pk), why);
                None
            }
            Some(Err(why)) => {
                self.skip(&r.model, pk_text(&r.pk), why);
                None
            }
            Some(Ok(Row::Room(room))) if room.tenant.is_some_and(|t| t != tenant) => {
                let why = format!(
                    "belongs to tenant {}: import it with --tenant",
                    room.tenant.unwrap_or_default()
                );
                self.skip(&r.model, pk_text(&r.pk), why);
                None
            }
            Some(Ok(row)) => {
                self.messages += u64::from(matches!(row, Row::Message(_)));
                Some(row)
            }
        }
    }
}

/// Reads the file on this (blocking) thread and sends full batches; draws the reading bar.
/// Messages of the rooms in `skip` (moved by an earlier run of the file) are not staged again;
/// their reactions are (those are moved after all the messages).
fn read_file(
    file: PathBuf,
    tenant: Uuid,
    skip: &HashSet<Uuid>,
    tx: mpsc::Sender<Batch>,
    bar: &Bar,
) -> AppResult<Tally> {
    let ids = Ids::new(tenant);
    let mut tally = Tally::default();
    let mut batch = Batch::default();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let bytes = AtomicU64::new(0);
    let mut seen: u64 = 0;
    let mut open = true;
    dump::read(&file, &bytes, |item| {
        seen += 1;
        if seen % 10_000 == 0 {
            bar.show(
                "reading",
                bytes.load(Ordering::Relaxed) >> 20,
                size >> 20,
                "MiB",
            );
        }
        match tally.take(&ids, tenant, item) {
            Some(Row::Message(m)) if skip.contains(&m.room_id) => {
                tally.messages -= 1;
                batch.push_reactions(m.id, m.reactions);
            }
            Some(row) => batch.push(row),
            None => {}
        }
        if batch.len() >= BATCH {
            open = tx.blocking_send(std::mem::take(&mut batch)).is_ok();
        }
        open
    })
    .map_err(|e| AppError::bad_request("file", e))?;
    bar.done("reading", size >> 20, "MiB");
    if batch.len() > 0 {
        tx.blocking_send(batch)
            .map_err(|_| AppError::internal("the import's writer stopped"))?;
    }
    Ok(tally)
}

/// Rows waiting to be staged, by table.
#[derive(Default)]
struct Batch {
    users: Users,
    rooms: Rooms,
    members: Members,
    /// By connection: `a`'s rooms, `b`'s rooms.
    messages: [Messages; 2],
    reactions: Marks,
    reads: Marks,
}

impl Batch {
    fn len(&self) -> usize {
        self.users.id.len()
            + self.rooms.id.len()
            + self.members.room_id.len()
            + self.messages[0].id.len()
            + self.messages[1].id.len()
            + self.reactions.message_id.len()
            + self.reads.message_id.len()
    }

    fn push(&mut self, row: Row) {
        match row {
            Row::User(u) => {
                self.users.id.push(u.id);
                self.users.username.push(u.username);
                self.users.email.push(u.email);
                self.users.display_name.push(u.display_name);
            }
            Row::Room(r) => self.push_room(r),
            Row::Member(m) => self.push_member(
                m.room_id,
                m.user_id,
                m.role,
                m.joined_at,
                m.active,
                m.last_read_at,
            ),
            Row::Message(m) => self.push_message(m),
            Row::Reaction(r) => {
                self.reactions.message_id.push(r.message_id);
                self.reactions.user_id.push(r.user_id);
                self.reactions.emoji.push(r.emoji);
            }
            Row::Read(r) => {
                self.reads.message_id.push(r.message_id);
                self.reads.user_id.push(r.user_id);
            }
            Row::Ignored => {}
        }
    }

    fn push_member(
        &mut self,
        room_id: Uuid,
        user_id: Uuid,
        role: &str,
        joined_at: Option<chrono::DateTime<chrono::Utc>>,
        active: bool,
        last_read_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let m = &mut self.members;
        m.room_id.push(room_id);
        m.user_id.push(user_id);
        m.role.push(role.to_owned());
        m.joined_at.push(joined_at);
        m.active.push(active);
        m.last_read_at.push(last_read_at);
    }

    /// A room, and 004's participants as its members (the creator as owner).
    fn push_room(&mut self, r: records::RoomRow) {
        for user in &r.participants {
            let role = if Some(*user) == r.created_by {
                "owner"
            } else {
                "member"
            };
            self.push_member(r.id, *user, role, r.created_at, true, None);
        }
        let (kind, id) = r.reference.unzip();
        let rooms = &mut self.rooms;
        rooms.id.push(r.id);
        rooms.name.push(r.name);
        rooms.description.push(r.description);
        rooms.room_type.push(r.room_type.to_owned());
        rooms.ref_kind.push(kind);
        rooms.ref_id.push(id);
        rooms.created_by.push(r.created_by);
        rooms.created_at.push(r.created_at);
        rooms.is_active.push(r.is_active);
        rooms.max_participants.push(r.max_participants);
        rooms.legacy.push(r.legacy);
    }

    /// 004's reactions map of a message.
    fn push_reactions(&mut self, message: Uuid, reactions: Vec<(String, Uuid)>) {
        for (emoji, user) in reactions {
            self.reactions.message_id.push(message);
            self.reactions.user_id.push(user);
            self.reactions.emoji.push(emoji);
        }
    }

    /// A message, and 004's reactions map as its reactions.
    fn push_message(&mut self, mut m: records::MessageRow) {
        self.push_reactions(m.id, std::mem::take(&mut m.reactions));
        let out = &mut self.messages[usize::from(m.room_id.as_bytes()[15] & 1)];
        out.id.push(m.id);
        out.room_id.push(m.room_id);
        out.sender_id.push(m.sender_id);
        out.ord.push(m.order);
        out.content.push(m.content);
        out.message_type.push(m.message_type.to_owned());
        out.created_at.push(m.created_at);
        out.edited_at.push(m.edited_at);
        out.is_deleted.push(m.is_deleted);
        out.reply_to.push(m.reply_to);
        out.legacy.push(m.legacy);
    }

    /// Stages the batch: `b`'s messages while `a` takes the rest.
    async fn stage(self, a: &mut db::Conn, b: &mut db::Conn) -> AppResult<()> {
        let [mine, theirs] = &self.messages;
        let first = async {
            sql::stage_users(a, &self.users).await?;
            sql::stage_rooms(a, &self.rooms).await?;
            sql::stage_members(a, &self.members).await?;
            sql::stage_messages(a, mine).await?;
            sql::stage_reactions(a, &self.reactions).await?;
            sql::stage_reads(a, &self.reads).await
        };
        tokio::try_join!(first, sql::stage_messages(b, theirs))?;
        Ok(())
    }
}

impl Report {
    /// Bad records under `--strict`: nothing was written.
    pub fn refused(&self) -> bool {
        !self.written && self.skipped_count > 0
    }

    /// The summary printed at the end of a run.
    pub fn summary(&self) -> String {
        let mut out = format!("import into tenant {}\nread:\n", self.tenant);
        for (model, n) in &self.read {
            out.push_str(&format!("  {model}: {n}\n"));
        }
        if self.written {
            let staged = self.staged_in.as_secs_f64();
            out.push_str(&format!(
                "written (file read and {} messages staged in {staged:.1} s):\n",
                self.staged_messages
            ));
            for (step, n, took) in &self.moved {
                out.push_str(&format!("  {step}: {n} ({:.1} s)\n", took.as_secs_f64()));
            }
            let c = &self.chunked;
            out.push_str(&format!(
                "  messages of {} rooms in {} committed chunks on 2 connections\n",
                c.rooms_moved, c.chunks
            ));
            out.push_str(&format!(
                "messages committed and searchable after {:.1} s; search index merged after {:.1} s\n",
                self.messages_in.as_secs_f64(),
                self.merged_in.as_secs_f64()
            ));
            if c.rooms_done_before > 0 {
                out.push_str(&format!(
                    "resumed: {} rooms ({} messages) were moved by an earlier run of this file and skipped\n",
                    c.rooms_done_before, c.messages_done_before
                ));
            }
        } else {
            out.push_str("written: nothing (dry run or --strict)\n");
        }
        out.push_str(&format!("skipped: {}\n", self.skipped_count));
        for s in &self.skipped {
            out.push_str(&format!("  {} pk {}: {}\n", s.model, s.pk, s.why));
        }
        if self.messages_left_out > 0 || self.rooms_left_out > 0 {
            out.push_str(&format!(
                "left out: {} rooms, {} messages (a room or sender outside the tenant, or a seq already taken)\n",
                self.rooms_left_out, self.messages_left_out
            ));
        }
        out.push_str(&format!("time: {:.1} s\n", self.elapsed.as_secs_f64()));
        out
    }
}
