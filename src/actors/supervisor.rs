//! `RoomSupervisor`: the registry room id → `RoomActor`. Starts a room on first use (spread over
//! a few arbiters, each with its own `Committer`), forgets idle ones, and replaces one that died.

use std::collections::HashMap;

use actix::prelude::*;
use uuid::Uuid;

use super::committer::Committer;
use super::room::{Apply, CatchUp, Remote, RemoteEphemeral, RoomActor, RoomDeps};
use crate::commands::{Caller, Command, Outcome};
use crate::db;
use crate::domain::ids::RoomId;
use crate::error::{AppError, AppResult};

pub struct RoomSupervisor {
    deps: RoomDeps,
    rooms: HashMap<Uuid, Addr<RoomActor>>,
    threads: Vec<RoomThread>,
}

/// A thread of room actors and the committer they hand their writes to (on the same thread, so
/// a batch and its result never wait for another thread to wake).
struct RoomThread {
    arbiter: ArbiterHandle,
    committer: Addr<Committer>,
}

impl RoomSupervisor {
    /// `threads` arbiters carry the room actors (rooms are placed by id); each has a committer
    /// with `realtime.commit_parallel` connections of its own.
    pub fn new(deps: RoomDeps, threads: usize) -> Result<Self, String> {
        let realtime = &deps.settings.realtime;
        let (parallel, max_writes) = (realtime.commit_parallel, realtime.commit_max_writes);
        let mut all = Vec::new();
        for _ in 0..threads.max(1) {
            let arbiter = Arbiter::new().handle();
            let pool = db::pool::build_for_commits(&deps.settings.database, parallel)?;
            let metrics = deps.metrics.clone();
            let committer = Committer::start_in_arbiter(&arbiter, move |_| {
                Committer::new(pool, metrics, parallel, max_writes)
            });
            all.push(RoomThread { arbiter, committer });
        }
        Ok(RoomSupervisor {
            deps,
            rooms: HashMap::new(),
            threads: all,
        })
    }
}

impl Actor for RoomSupervisor {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        for t in &self.threads {
            t.arbiter.stop();
        }
    }
}

/// The actor of a room, started if it is not running.
#[derive(Message)]
#[rtype(result = "Addr<RoomActor>")]
pub struct GetRoom {
    pub room_id: Uuid,
}

/// A room actor stopping for lack of use.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoomIdle {
    pub room_id: Uuid,
    pub addr: Addr<RoomActor>,
}

/// The running room actors (for admin stats and DropUser broadcasts).
#[derive(Message)]
#[rtype(result = "Vec<Addr<RoomActor>>")]
pub struct RunningRooms;

impl Handler<GetRoom> for RoomSupervisor {
    type Result = MessageResult<GetRoom>;

    fn handle(&mut self, msg: GetRoom, ctx: &mut Self::Context) -> Self::Result {
        if let Some(addr) = self.rooms.get(&msg.room_id) {
            if addr.connected() {
                return MessageResult(addr.clone());
            }
            log::warn!("room actor {} had died; starting a new one", msg.room_id);
        }
        let thread = &self.threads[(msg.room_id.as_u128() % self.threads.len() as u128) as usize];
        let (deps, committer) = (self.deps.clone(), thread.committer.clone());
        let me = ctx.address();
        let room_id = msg.room_id;
        let addr = RoomActor::start_in_arbiter(&thread.arbiter, move |_| {
            RoomActor::new(room_id, deps, me, committer)
        });
        self.rooms.insert(msg.room_id, addr.clone());
        MessageResult(addr)
    }
}

impl Handler<RoomIdle> for RoomSupervisor {
    type Result = ();

    fn handle(&mut self, msg: RoomIdle, _: &mut Self::Context) {
        if self.rooms.get(&msg.room_id) == Some(&msg.addr) {
            self.rooms.remove(&msg.room_id);
        }
    }
}

impl Handler<RunningRooms> for RoomSupervisor {
    type Result = MessageResult<RunningRooms>;

    fn handle(&mut self, _: RunningRooms, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.rooms
                .values()
                .filter(|a| a.connected())
                .cloned()
                .collect(),
        )
    }
}

/// A committed event of a room, published by another node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RelayEvent {
    pub room_id: Uuid,
    pub seq: i64,
    pub frame: bytestring::ByteString,
}

/// A typing frame of a room, from another node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RelayEphemeral {
    pub room_id: Uuid,
    pub frame: bytestring::ByteString,
}

/// Every running room checks the event log for events it has not delivered (after the link
/// between nodes was down).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CatchUpAll;

impl Handler<RelayEvent> for RoomSupervisor {
    type Result = ();

    // Only rooms running here have subscribers here; others load from the database when used.
    fn handle(&mut self, msg: RelayEvent, _: &mut Self::Context) {
        if let Some(addr) = self.rooms.get(&msg.room_id) {
            addr.do_send(Remote {
                seq: msg.seq,
                frame: msg.frame,
            });
        }
    }
}

impl Handler<RelayEphemeral> for RoomSupervisor {
    type Result = ();

    fn handle(&mut self, msg: RelayEphemeral, _: &mut Self::Context) {
        if let Some(addr) = self.rooms.get(&msg.room_id) {
            addr.do_send(RemoteEphemeral { frame: msg.frame });
        }
    }
}

impl Handler<CatchUpAll> for RoomSupervisor {
    type Result = ();

    fn handle(&mut self, _: CatchUpAll, _: &mut Self::Context) {
        for addr in self.rooms.values() {
            addr.do_send(CatchUp);
        }
    }
}

/// The room's actor, from the supervisor.
pub async fn room(
    supervisor: &Addr<RoomSupervisor>,
    room_id: RoomId,
) -> AppResult<Addr<RoomActor>> {
    supervisor
        .send(GetRoom {
            room_id: room_id.uuid(),
        })
        .await
        .map_err(|e| AppError::internal(format!("room supervisor: {e}")))
}

/// Applies a command through the room's actor; once more with a fresh actor if that one had just
/// stopped (idle) when the write reached it.
pub async fn apply(
    supervisor: &Addr<RoomSupervisor>,
    room_id: RoomId,
    caller: Caller,
    command: Command,
) -> AppResult<Outcome> {
    apply_via(supervisor, None, room_id, caller, command).await
}

/// Like `apply`, trying first the room actor the caller already holds (a session's joined
/// rooms): one actor hop less on the hot path.
pub async fn apply_via(
    supervisor: &Addr<RoomSupervisor>,
    known: Option<Addr<RoomActor>>,
    room_id: RoomId,
    caller: Caller,
    command: Command,
) -> AppResult<Outcome> {
    let mut known = known.filter(|a| a.connected());
    for _ in 0..2 {
        let addr = match known.take() {
            Some(a) => a,
            None => room(supervisor, room_id).await?,
        };
        match addr
            .send(Apply {
                caller: caller.clone(),
                command: command.clone(),
            })
            .await
        {
            Ok(result) => return result,
            Err(MailboxError::Closed) => continue,
            Err(e) => return Err(AppError::internal(format!("room actor: {e}"))),
        }
    }
    Err(AppError::internal("room actor unavailable"))
}
