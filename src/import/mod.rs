//! `confab import django`: a seed system's chat history from its Django `dumpdata` export. A
//! thread streams the file (`dump`), recognises each record (`records`) and hands batches of rows
//! to the import's connection, which stages them; one transaction then moves them into the
//! tenant's rooms, members, messages, reactions and read positions (`db::import`).

pub mod dump;
pub mod records;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::db::import::{self as sql, Marks, Members, Messages, Moved, Rooms, Users};
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};
use dump::Item;
use records::{pk_text, recognise, Ids, Row};

/// Rows per staged batch.
const BATCH: usize = 5_000;
/// Bad records listed one by one in the report (all are counted).
const LISTED: usize = 100;

pub struct Options {
    pub file: PathBuf,
    /// The tenant's id or name; the default tenant when absent.
    pub tenant: Option<String>,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// Any bad record stops the run before anything is written.
    pub strict: bool,
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
    /// Reading and staging the file.
    pub staged_in: Duration,
    /// Staged messages and rooms that are not in the tenant after the move.
    pub messages_left_out: i64,
    pub rooms_left_out: i64,
    pub written: bool,
    pub elapsed: Duration,
}

/// Runs the import.
pub async fn run(pool: &DbPool, opts: Options) -> AppResult<Report> {
    let started = Instant::now();
    let mut conn = pool.get().await?;
    let key = opts.tenant.clone().unwrap_or_else(|| "default".into());
    let tenant = db::tenants::find(&mut conn, &key)
        .await?
        .ok_or_else(|| AppError::bad_request("tenant", format!("no tenant `{key}`")))?
        .id;
    sql::stage_tables(&mut conn).await?;
    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let file = opts.file.clone();
    let reader = std::thread::spawn(move || read_file(file, tenant, tx));
    while let Some(batch) = rx.recv().await {
        batch.stage(&mut conn).await?;
    }
    let tally = reader
        .join()
        .map_err(|_| AppError::internal("the reader thread panicked"))??;
    let mut report = Report {
        tenant,
        read: tally.read,
        skipped: tally.skipped,
        skipped_count: tally.skipped_count,
        ..Report::default()
    };
    if opts.dry_run || (opts.strict && report.skipped_count > 0) {
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    report.staged_in = started.elapsed();
    let moved: Vec<Moved> = sql::move_staged(&mut conn, tenant).await?;
    report.moved = moved
        .into_iter()
        .map(|m| (m.step.to_owned(), m.rows, m.took))
        .collect();
    report.messages_left_out = sql::not_moved(&mut conn, tenant, "messages").await?;
    report.rooms_left_out = sql::not_moved(&mut conn, tenant, "rooms").await?;
    report.written = true;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What the reader counted.
#[derive(Default)]
struct Tally {
    read: BTreeMap<String, u64>,
    skipped: Vec<Skipped>,
    skipped_count: u64,
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
}

/// Reads the file on this (blocking) thread and sends full batches.
fn read_file(file: PathBuf, tenant: Uuid, tx: mpsc::Sender<Batch>) -> AppResult<Tally> {
    let ids = Ids::new(tenant);
    let mut tally = Tally::default();
    let mut batch = Batch::default();
    let progress = std::io::stderr().is_terminal();
    let mut seen: u64 = 0;
    let mut open = true;
    dump::read(&file, |item| {
        seen += 1;
        if progress && seen % 100_000 == 0 {
            eprint!("\rimport: {seen} records read");
        }
        match item {
            Item::Malformed { index, why } => tally.skip(
                "?",
                format!("#{index}"),
                format!("not a dumpdata record: {why}"),
            ),
            Item::Record(r) => {
                *tally.read.entry(r.model.to_lowercase()).or_default() += 1;
                match recognise(&ids, &r) {
                    None => tally.skip(
                        &r.model,
                        pk_text(&r.pk),
                        "not a chat model Confab imports".into(),
                    ),
                    Some(Err(why)) => tally.skip(&r.model, pk_text(&r.pk), why),
                    Some(Ok(Row::Room(room))) if room.tenant.is_some_and(|t| t != tenant) => {
                        let why = format!(
                            "belongs to tenant {}: import it with --tenant",
                            room.tenant.unwrap_or_default()
                        );
                        tally.skip(&r.model, pk_text(&r.pk), why)
                    }
                    Some(Ok(row)) => batch.push(row),
                }
            }
        }
        if batch.len() >= BATCH {
            open = tx.blocking_send(std::mem::take(&mut batch)).is_ok();
        }
        open
    })
    .map_err(|e| AppError::bad_request("file", e))?;
    if progress {
        eprintln!("\rimport: {seen} records read");
    }
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
    messages: Messages,
    reactions: Marks,
    reads: Marks,
}

impl Batch {
    fn len(&self) -> usize {
        self.users.id.len()
            + self.rooms.id.len()
            + self.members.room_id.len()
            + self.messages.id.len()
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

    /// A message, and 004's reactions map as its reactions.
    fn push_message(&mut self, m: records::MessageRow) {
        for (emoji, user) in m.reactions {
            self.reactions.message_id.push(m.id);
            self.reactions.user_id.push(user);
            self.reactions.emoji.push(emoji);
        }
        let out = &mut self.messages;
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

    /// Stages the batch; users and rooms first, so nothing waits on a later batch.
    async fn stage(self, conn: &mut db::Conn) -> AppResult<()> {
        sql::stage_users(conn, &self.users).await?;
        sql::stage_rooms(conn, &self.rooms).await?;
        sql::stage_members(conn, &self.members).await?;
        sql::stage_messages(conn, &self.messages).await?;
        sql::stage_reactions(conn, &self.reactions).await?;
        sql::stage_reads(conn, &self.reads).await?;
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
                "written (file read and staged in {staged:.1} s):\n"
            ));
            for (step, n, took) in &self.moved {
                out.push_str(&format!("  {step}: {n} ({:.1} s)\n", took.as_secs_f64()));
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
