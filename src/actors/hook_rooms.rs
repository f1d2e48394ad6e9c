//! An endpoint's room events, sent from `room_events` past its cursors: each room's in seq
//! order, the rooms interleaved by commit time. Progress is written once a second (or every
//! `FLUSH_EVERY` sends), not per event; the first failure hands its event over to the
//! deliveries table (retries, the operator's list) and stops the endpoint until it is retried.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use super::hook_send::{next_attempt, send, Outcome};
use super::webhooks::{lease_secs, Drain, WorkerDeps};
use crate::db::hook_cursors::{self, HandOver, LoggedEvent, Target};
use crate::db::webhooks::Endpoint;
use crate::domain::webhook::{event_for_kind, room_event_id, room_kinds, RoomEventBody};
use crate::error::AppResult;

/// Rooms one round reads, and seqs per room.
pub(super) const ROOMS_PER_ROUND: i64 = 100;
pub(super) const SEQS_PER_ROOM: i64 = 200;
/// Room events sent in a round that make the next round start at once.
const FULL_ROUND: usize = 500;
/// Sends between two writes of the cursors (and at most a second apart).
const FLUSH_EVERY: usize = 500;
const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// Sends the events of `targets` (read before the endpoint's outbox was drained, so a room's
/// `room.created` went first); answers whether more may be waiting, and whether the next round
/// should start at once: when a room is a whole window behind or `FULL_ROUND` events went (a
/// steady stream then goes in rounds of hundreds of events, each round costing a few queries,
/// rather than a few each).
pub(super) async fn serve(
    deps: &WorkerDeps,
    endpoint: &Endpoint,
    targets: &[Target],
) -> AppResult<Drain> {
    let kinds = room_kinds(&endpoint.events);
    let events = if kinds.is_empty() {
        Vec::new()
    } else {
        let mut conn = deps.pool.get().await?;
        in_room_order(hook_cursors::events(&mut conn, targets, &kinds).await?)
    };
    let mut progress = Progress::new();
    let mut sent = 0;
    for ev in &events {
        if progress.due() {
            progress.flush(deps, endpoint.id).await?;
        }
        let Some(kind) = event_for_kind(&ev.kind) else {
            continue;
        };
        let msg_id = room_event_id(ev.room_id, ev.seq);
        let body = RoomEventBody {
            kind,
            tenant: endpoint.tenant_id,
            room: ev.room_id,
            seq: ev.seq,
            at: ev.created_at,
            event_json: &ev.payload,
        }
        .render();
        match send(deps, endpoint, &msg_id, &body).await {
            Outcome::Delivered(_) => {
                progress.sent(ev.room_id, ev.seq);
                sent += 1;
            }
            Outcome::Failed(status, error) => {
                // Its retries are the deliveries table's from now on, its first attempt counted.
                progress.flush(deps, endpoint.id).await?;
                let h = HandOver {
                    endpoint: endpoint.id,
                    tenant: endpoint.tenant_id,
                    room: ev.room_id,
                    seq: ev.seq,
                    msg_id: &msg_id,
                    kind,
                    body: &body,
                    status: status.map(i32::from),
                    error: &error,
                    next: next_attempt(deps, 0, Utc::now()),
                };
                let mut conn = deps.pool.get().await?;
                hook_cursors::hand_over(&mut conn, &h).await?;
                return Ok(Drain::Blocked);
            }
        }
    }
    for t in targets {
        progress.positions.insert(t.room_id, t.upto);
    }
    progress.flush(deps, endpoint.id).await?;
    let behind = targets.iter().any(|t| t.upto < t.last_seq);
    let rooms_left = targets.len() as i64 == ROOMS_PER_ROUND;
    Ok(if behind || (rooms_left && sent >= FULL_ROUND) {
        Drain::More
    } else if rooms_left {
        Drain::Soon
    } else {
        Drain::Clear
    })
}

/// `events` (oldest first by commit time) with each room's events in seq order: two commits of a
/// room on two nodes may have started in the other order.
fn in_room_order(events: Vec<LoggedEvent>) -> Vec<LoggedEvent> {
    let order: Vec<Uuid> = events.iter().map(|e| e.room_id).collect();
    let mut by_room: HashMap<Uuid, Vec<LoggedEvent>> = HashMap::new();
    for ev in events {
        by_room.entry(ev.room_id).or_default().push(ev);
    }
    for list in by_room.values_mut() {
        // Newest first, so `pop` takes the oldest.
        list.sort_unstable_by_key(|e| std::cmp::Reverse(e.seq));
    }
    order
        .into_iter()
        .filter_map(|room| by_room.get_mut(&room)?.pop())
        .collect()
}

/// What was sent since the cursors were last written.
struct Progress {
    positions: HashMap<Uuid, i64>,
    unflushed: usize,
    delivered: bool,
    flushed_at: Instant,
}

impl Progress {
    fn new() -> Self {
        Progress {
            positions: HashMap::new(),
            unflushed: 0,
            delivered: false,
            flushed_at: Instant::now(),
        }
    }

    fn sent(&mut self, room: Uuid, seq: i64) {
        self.positions.insert(room, seq);
        self.unflushed += 1;
        self.delivered = true;
    }

    /// Time to write the cursors (and renew the lease, which lasts an attempt's timeout and five
    /// seconds more: a send that starts within a second of a renewal ends inside it).
    fn due(&self) -> bool {
        self.unflushed >= FLUSH_EVERY || self.flushed_at.elapsed() >= FLUSH_AFTER
    }

    async fn flush(&mut self, deps: &WorkerDeps, endpoint: Uuid) -> AppResult<()> {
        let positions: Vec<(Uuid, i64)> = self.positions.drain().collect();
        let mut conn = deps.pool.get().await?;
        hook_cursors::advance(
            &mut conn,
            endpoint,
            &positions,
            self.delivered,
            lease_secs(deps),
        )
        .await?;
        self.unflushed = 0;
        self.delivered = false;
        self.flushed_at = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(room: Uuid, seq: i64) -> LoggedEvent {
        LoggedEvent {
            room_id: room,
            seq,
            kind: "new_message".into(),
            payload: "{}".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn each_rooms_events_keep_seq_order_in_the_places_its_events_had() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let got = in_room_order(vec![ev(a, 6), ev(b, 1), ev(a, 5), ev(b, 2), ev(a, 7)]);
        let order: Vec<(Uuid, i64)> = got.iter().map(|e| (e.room_id, e.seq)).collect();
        assert_eq!(order, vec![(a, 5), (b, 1), (a, 6), (b, 2), (a, 7)]);
    }
}
