//! The commit path: the writes of many rooms applied in one transaction (each room locked, each
//! change given its room's next seq), with the rows of plain sends written in bulk at the end.

use std::collections::HashMap;
use std::sync::Arc;

use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::commands::{all_written, Applied, Batch, Caller, Command, Known, Members, Shared};
use crate::config::Settings;
use crate::db::models::Room;
use crate::db::webhooks::HookGate;
use crate::db::writes::{EventRow, RoomSeq};
use crate::db::{self, DbPool};
use crate::error::{is_unique_violation, AppResult};

/// One room's commands, as its actor hands them over.
pub struct BatchInput {
    pub room: Room,
    pub members: Members,
    pub commands: Vec<(Caller, Command)>,
    pub settings: Arc<Settings>,
    /// Issue 14: which event types each tenant's webhook endpoints want.
    pub hooks: Arc<HookGate>,
}

/// What a room's batch came to: each command's result, and the room after it.
pub type Committed = (Vec<AppResult<Applied>>, Room);

/// Commits the batches of several rooms (each room at most once) in one transaction: all of them
/// or none. The first try assumes no client_id was sent before (the database says when one was:
/// the transaction is then rolled back and tried again with the client_ids looked up). Retried
/// once more when another node raced it to a unique key.
pub(super) async fn commit(pool: &DbPool, inputs: &[&BatchInput]) -> AppResult<Vec<Committed>> {
    let mut attempt = 0;
    let mut look_up = false;
    loop {
        let mut conn = pool.get().await?;
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                apply_all(c, inputs, look_up).await
            })
            .await;
        match result {
            Ok(r) => {
                super::hook_outbox::hint(inputs, &r);
                return Ok(r);
            }
            Err(diesel::result::Error::RollbackTransaction) if !look_up => look_up = true,
            Err(e) if attempt == 0 && is_unique_violation(&e) => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

async fn apply_all(
    c: &mut db::Conn,
    inputs: &[&BatchInput],
    look_up: bool,
) -> diesel::QueryResult<Vec<Committed>> {
    // Rooms are locked in id order, so two transactions never wait for each other in a circle.
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].room.id);
    let ids: Vec<Uuid> = order.iter().map(|&i| inputs[i].room.id).collect();
    let locked: HashMap<Uuid, (i64, bool)> = db::rooms::lock_many(c, &ids)
        .await?
        .into_iter()
        .map(|(id, seq, active)| (id, (seq, active)))
        .collect();
    // Resends are rare: only when asked, one lookup of every key, and the messages of those found.
    let found = if look_up {
        db::writes::sent_with(c, &client_ids(inputs)).await?
    } else {
        Vec::new()
    };
    let known = if found.is_empty() {
        HashMap::new()
    } else {
        db::messages::by_ids(c, &found)
            .await?
            .into_iter()
            .filter_map(|m| {
                let cid = m.client_id.clone()?;
                Some(((m.room_id, m.sender_id, cid), Known::Stored(Box::new(m))))
            })
            .collect()
    };
    let mut shared = Shared {
        known,
        ..Default::default()
    };
    let mut done: Vec<Option<Committed>> = (0..inputs.len()).map(|_| None).collect();
    let mut seqs = Vec::new();
    for &i in &order {
        let input = inputs[i];
        let Some(&(base, active)) = locked.get(&input.room.id) else {
            return Err(diesel::result::Error::NotFound);
        };
        let (out, room, moved) = apply_batch(c, input, base, active, &mut shared).await?;
        if moved {
            seqs.push(RoomSeq {
                room_id: room.id,
                last_seq: room.last_seq,
                last_message_at: room.last_message_at,
            });
        }
        done[i] = Some((out, room));
    }
    let events: Vec<EventRow<'_>> = done
        .iter()
        .flatten()
        .flat_map(|(out, room)| {
            out.iter()
                .filter_map(|a| a.as_ref().ok())
                .flat_map(|a| a.event.iter().chain(a.notice.iter()))
                .map(move |e| EventRow {
                    room_id: room.id,
                    seq: e.seq,
                    kind: e.kind,
                    json: &e.text,
                })
        })
        .collect();
    // The new messages, the events and the rooms' seqs: one statement.
    let written = db::writes::write_all(c, shared.unsaved(), &events, &seqs).await?;
    all_written(written, shared.unsaved().len())?;
    db::events::rewrite_messages(c, &shared.rewrite).await?;
    // Issue 14: the rooms whose notifications are to be decided (one statement, or none).
    super::hook_outbox::enqueue(c, inputs, &done).await?;
    Ok(done.into_iter().flatten().collect())
}

/// The (room, sender, client_id) of every send in `inputs` that carries a client_id.
fn client_ids<'a>(inputs: &[&'a BatchInput]) -> Vec<(Uuid, Uuid, &'a str)> {
    inputs
        .iter()
        .flat_map(|input| {
            input.commands.iter().filter_map(|(caller, cmd)| {
                cmd.client_id()
                    .map(|cid| (input.room.id, caller.user_id.uuid(), cid))
            })
        })
        .collect()
}

/// Applies one room's commands; answers what each came to, the room after them, and whether its
/// seq moved (the event rows and the room's new seq are written by the caller).
async fn apply_batch(
    c: &mut db::Conn,
    input: &BatchInput,
    base: i64,
    active: bool,
    shared: &mut Shared,
) -> diesel::QueryResult<(Vec<AppResult<Applied>>, Room, bool)> {
    let mut b = Batch {
        room: Room {
            last_seq: base,
            is_active: active,
            ..input.room.clone()
        },
        members: Arc::clone(&input.members),
        seq: base,
        last_message_at: None,
        settings: &input.settings,
    };
    let mut out = Vec::with_capacity(input.commands.len());
    for (caller, cmd) in &input.commands {
        let mut applied = cmd.apply(c, &mut b, shared, caller).await?;
        if let Ok(a) = &mut applied {
            a.outcome.last_seq = b.seq;
            if a.outcome.seq.is_none() {
                a.outcome.seq = a.event.as_ref().map(|e| e.seq);
            }
        }
        out.push(applied);
    }
    let moved = b.seq > base;
    b.room.last_seq = b.seq;
    if let Some(at) = b.last_message_at {
        b.room.last_message_at = Some(at);
    }
    Ok((out, b.room, moved))
}
