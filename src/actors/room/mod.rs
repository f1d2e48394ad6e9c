//! `RoomActor`: one per active room. It asks the policy before a command is queued, hands the
//! commands that arrive together to its thread's committer (group commit), and only then fans the
//! committed events out to the room's subscribers, in seq order (`delivery`); a reconnecting
//! connection gets what it missed first (`replay`).

mod delivery;
mod replay;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::commit::{BatchInput, Committed};
use super::committer::{Commit, Committer};
use super::presence::{NotifyUsers, PresenceActor};
use super::supervisor::RoomSupervisor;
use super::Outbox;
use crate::broker::Broker;
use crate::commands::{self, Applied, Caller, Command, MemberChange, MemberInfo, Members, Outcome};
use crate::config::Settings;
use crate::db::models::Room;
use crate::db::{self, DbPool};
use crate::domain::ids::{TenantId, UserId};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::policy::Access;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::RoomView;

/// What every room actor shares.
#[derive(Clone)]
pub struct RoomDeps {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub broker: Arc<dyn Broker>,
    pub presence: Addr<PresenceActor>,
    /// Issue 14: the webhook subscriptions the committer asks.
    pub hooks: Arc<crate::db::webhooks::HookGate>,
    /// Issue 20: link previews of the messages this room commits.
    pub link_previews: Arc<crate::actors::link_previews::LinkPreviews>,
}

// ---- messages -------------------------------------------------------------------------------

/// Commit a command (after checking the caller may make it).
#[derive(Message)]
#[rtype(result = "AppResult<Outcome>")]
pub struct Apply {
    pub caller: Caller,
    pub command: Command,
}

/// Subscribe a connection to the room's events; with `after_seq`, replay what it missed first.
#[derive(Message)]
#[rtype(result = "AppResult<RoomView>")]
pub struct Subscribe {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub outbox: Outbox,
    pub after_seq: Option<i64>,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub session_id: Uuid,
}

#[derive(Message)]
#[rtype(result = "AppResult<()>")]
pub struct SetTyping {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub is_typing: bool,
}

/// The users typing now (for members).
#[derive(Message)]
#[rtype(result = "AppResult<Vec<Uuid>>")]
pub struct ListTyping {
    pub tenant_id: TenantId,
    pub user_id: UserId,
}

/// Drop a user's subscriptions (ban, logout): they stop getting the room's events at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DropUser {
    pub user_id: UserId,
}

/// An event another node committed (in any order; the room puts it in seq order).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Remote {
    pub seq: i64,
    pub frame: ByteString,
}

/// A typing frame from another node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoteEphemeral {
    pub frame: ByteString,
}

/// Check the event log for committed events not delivered yet.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CatchUp;

/// How many connections are subscribed (admin stats).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountSubscribers;

// ---- state ----------------------------------------------------------------------------------

enum Phase {
    Live,
    /// Replaying missed events; live ones wait here until the replay is out.
    CatchingUp(Vec<(i64, ByteString)>),
}

struct Subscriber {
    user_id: Uuid,
    outbox: Outbox,
    phase: Phase,
}

struct Pending {
    caller: Caller,
    command: Command,
    reply: oneshot::Sender<AppResult<Outcome>>,
}

pub struct RoomActor {
    room_id: Uuid,
    deps: RoomDeps,
    supervisor: Addr<RoomSupervisor>,
    /// Where this room's writes are committed (the committer of its thread).
    committer: Addr<Committer>,
    /// None until loaded, and for a room that does not exist.
    room: Option<Room>,
    /// Shared with the batch being committed; copied only when a member change is applied.
    members: Members,
    subscribers: HashMap<Uuid, Subscriber>,
    /// Typing users and when their typing ends by itself.
    typing: HashMap<Uuid, Instant>,
    pending: VecDeque<Pending>,
    committing: bool,
    last_activity: Instant,
    /// The last seq fanned out: every event up to it went to the subscribers, in order.
    delivered: i64,
    /// Events past a gap (from other nodes, or committed here after theirs), waiting for it.
    held: BTreeMap<i64, ByteString>,
    backfill_scheduled: bool,
}

impl RoomActor {
    pub fn new(
        room_id: Uuid,
        deps: RoomDeps,
        supervisor: Addr<RoomSupervisor>,
        committer: Addr<Committer>,
    ) -> Self {
        RoomActor {
            room_id,
            deps,
            supervisor,
            committer,
            room: None,
            members: Members::default(),
            subscribers: HashMap::new(),
            typing: HashMap::new(),
            pending: VecDeque::new(),
            committing: false,
            last_activity: Instant::now(),
            delivered: 0,
            held: BTreeMap::new(),
            backfill_scheduled: false,
        }
    }

    /// The room, if `tenant_id` may know it.
    fn room_for(&self, tenant_id: Uuid) -> AppResult<&Room> {
        match &self.room {
            Some(r) if r.tenant_id == tenant_id => Ok(r),
            _ => Err(AppError::NotFound),
        }
    }

    /// The policy's answer for a user of `tenant_id` acting for themselves (a connection).
    fn may(&self, tenant_id: TenantId, user_id: UserId, access: Access) -> AppResult<&Room> {
        let room = self.room_for(tenant_id.uuid())?;
        let who = crate::policy::Standing {
            trusted: false,
            role: self.members.get(&user_id).map(|m| m.role),
        };
        crate::policy::may(who, commands::facts(room), access)?;
        Ok(room)
    }

    fn maybe_commit(&mut self, ctx: &mut Context<Self>) {
        if self.committing || self.pending.is_empty() {
            return;
        }
        let Some(room) = self.room.clone() else {
            for p in self.pending.drain(..) {
                let _ = p.reply.send(Err(AppError::NotFound));
            }
            return;
        };
        self.committing = true;
        let take = self
            .pending
            .len()
            .min(self.deps.settings.realtime.group_commit_max);
        let batch: Vec<Pending> = self.pending.drain(..take).collect();
        let input = BatchInput {
            room,
            members: Arc::clone(&self.members),
            commands: batch
                .iter()
                .map(|p| (p.caller.clone(), p.command.clone()))
                .collect(),
            settings: self.deps.settings.clone(),
            hooks: self.deps.hooks.clone(),
        };
        let (reply, answer) = oneshot::channel();
        self.committer.do_send(Commit { input, reply });
        let fut = async move {
            answer
                .await
                .unwrap_or_else(|_| Err(AppError::internal("the committer stopped")))
        };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            act.finish_batch(batch, result, ctx);
            act.committing = false;
            act.maybe_commit(ctx);
        }));
    }

    fn finish_batch(
        &mut self,
        batch: Vec<Pending>,
        result: AppResult<Committed>,
        ctx: &mut Context<Self>,
    ) {
        self.last_activity = Instant::now();
        let (applied, room) = match result {
            Ok(r) => r,
            Err(e) => {
                for p in batch {
                    let _ = p.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        // A room log that went back underneath (the database restored to an older state) is a
        // state this actor cannot continue from: it answers what was stored and stops; the
        // supervisor starts a fresh one and the sessions are told to resume.
        if room.last_seq < self.delivered {
            log::error!(
                "room {}: its seq went back from {} to {}; restarting the room",
                self.room_id,
                self.delivered,
                room.last_seq
            );
            for (p, a) in batch.into_iter().zip(applied) {
                let _ = p.reply.send(a.map(|a| a.outcome));
            }
            ctx.stop();
            return;
        }
        self.room = Some(room);
        for (p, a) in batch.into_iter().zip(applied) {
            match a {
                Ok(a) => {
                    self.committed(&a, p.caller.user_id.uuid(), ctx);
                    let _ = p.reply.send(Ok(a.outcome));
                }
                Err(e) => {
                    let _ = p.reply.send(Err(e));
                }
            }
        }
    }

    /// What one committed command changes here: the member cache, then its event goes out (here
    /// and to the other nodes), then the mentioned users hear of it.
    fn committed(&mut self, a: &Applied, sender: Uuid, ctx: &mut Context<Self>) {
        if let Some(change) = &a.member_change {
            self.change_members(change, a);
        }
        for ev in a.event.iter().chain(a.notice.iter()) {
            self.deliver(ev.seq, ev.text.clone(), ctx);
            self.deps
                .broker
                .publish_event(self.room_id, ev.seq, &ev.text);
            self.deps
                .metrics
                .room_events_total
                .fetch_add(1, Ordering::Relaxed);
            if ev.kind == "new_message" {
                self.deps
                    .metrics
                    .messages_total
                    .fetch_add(1, Ordering::Relaxed);
                // A message ends its sender's typing.
                if self.typing.remove(&sender).is_some() {
                    self.broadcast_typing(sender, false);
                }
                if let (Some(m), Some(room)) = (&a.outcome.message, &self.room) {
                    self.deps.link_previews.consider(room, m, ctx.address());
                }
            }
        }
        if let (Some(frame), false) = (&a.mention_frame, a.mentions.is_empty()) {
            self.deps.presence.do_send(NotifyUsers {
                user_ids: a.mentions.clone(),
                frame: frame.clone(),
                ephemeral: false,
                relay: true,
            });
        }
    }

    fn change_members(&mut self, change: &MemberChange, a: &Applied) {
        match change {
            MemberChange::Joined(id, info) => {
                Arc::make_mut(&mut self.members).insert(*id, info.clone());
                // The new member has not joined the room's stream yet: tell their
                // connections (on every node), so their room list shows it at once.
                if let Some(ev) = &a.event {
                    self.deps.presence.do_send(NotifyUsers {
                        user_ids: vec![id.uuid()],
                        frame: ev.text.clone(),
                        ephemeral: false,
                        relay: true,
                    });
                }
            }
            MemberChange::Role(id, role) => {
                if let Some(m) = Arc::make_mut(&mut self.members).get_mut(id) {
                    m.role = *role;
                }
            }
            MemberChange::Left(id) => {
                Arc::make_mut(&mut self.members).remove(id);
            }
        }
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.deps
            .metrics
            .room_actors
            .fetch_add(1, Ordering::Relaxed);
        let pool = self.deps.pool.clone();
        let room_id = self.room_id;
        let load = async move {
            let mut conn = pool.get().await?;
            let room = db::rooms::find_any(&mut conn, room_id).await?;
            let members = match &room {
                Some(_) => db::rooms::active_members(&mut conn, room_id).await?,
                None => Vec::new(),
            };
            Ok::<_, AppError>((room, members))
        };
        // Nothing is handled before the room is loaded.
        ctx.wait(load.into_actor(self).map(|res, act, ctx| match res {
            Ok((room, members)) => {
                act.delivered = room.as_ref().map(|r| r.last_seq).unwrap_or(0);
                act.room = room;
                act.members = Arc::new(
                    members
                        .into_iter()
                        .map(|(m, u)| {
                            (
                                UserId(m.user_id),
                                MemberInfo {
                                    role: Role::from_store(&m.role),
                                    username: u.username,
                                },
                            )
                        })
                        .collect(),
                );
            }
            Err(e) => {
                log::error!("loading room {}: {e}", act.room_id);
                ctx.stop();
            }
        }));
        ctx.run_interval(Duration::from_secs(1), |act, ctx| act.tick(ctx));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.deps
            .metrics
            .room_actors
            .fetch_sub(1, Ordering::Relaxed);
        for p in self.pending.drain(..) {
            let _ = p.reply.send(Err(AppError::internal("room stopped")));
        }
    }
}

impl Handler<Apply> for RoomActor {
    type Result = ResponseFuture<AppResult<Outcome>>;

    fn handle(&mut self, msg: Apply, ctx: &mut Self::Context) -> Self::Result {
        self.last_activity = Instant::now();
        let checked = self
            .room_for(msg.caller.tenant_id.uuid())
            .and_then(|room| msg.command.check(room, &self.members, &msg.caller));
        if let Err(e) = checked {
            return Box::pin(async move { Err(e) });
        }
        let (reply, answer) = oneshot::channel();
        self.pending.push_back(Pending {
            caller: msg.caller,
            command: msg.command,
            reply,
        });
        self.maybe_commit(ctx);
        Box::pin(async move {
            answer
                .await
                .unwrap_or_else(|_| Err(AppError::internal("room stopped")))
        })
    }
}

impl Handler<Unsubscribe> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        if let Some(sub) = self.subscribers.remove(&msg.session_id) {
            let still_here = self.subscribers.values().any(|s| s.user_id == sub.user_id);
            if !still_here && self.typing.remove(&sub.user_id).is_some() {
                self.broadcast_typing(sub.user_id, false);
            }
        }
    }
}

impl Handler<SetTyping> for RoomActor {
    type Result = AppResult<()>;

    fn handle(&mut self, msg: SetTyping, _: &mut Self::Context) -> Self::Result {
        self.may(msg.tenant_id, msg.user_id, Access::Type)?;
        let user_id = msg.user_id.uuid();
        if msg.is_typing {
            let until = Instant::now() + self.deps.settings.realtime.typing_timeout();
            if self.typing.insert(user_id, until).is_none() {
                self.broadcast_typing(user_id, true);
            }
        } else if self.typing.remove(&user_id).is_some() {
            self.broadcast_typing(user_id, false);
        }
        Ok(())
    }
}

impl Handler<ListTyping> for RoomActor {
    type Result = AppResult<Vec<Uuid>>;

    fn handle(&mut self, msg: ListTyping, _: &mut Self::Context) -> Self::Result {
        self.may(msg.tenant_id, msg.user_id, Access::Listen)?;
        let now = Instant::now();
        Ok(self
            .typing
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(u, _)| *u)
            .collect())
    }
}

impl Handler<DropUser> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: DropUser, _: &mut Self::Context) {
        self.drop_user(msg.user_id.uuid());
    }
}

impl Handler<Remote> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Remote, ctx: &mut Self::Context) {
        self.last_activity = Instant::now();
        self.deliver(msg.seq, msg.frame, ctx);
    }
}

impl Handler<RemoteEphemeral> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: RemoteEphemeral, _: &mut Self::Context) {
        let typist = match serde_json::from_str::<ServerFrame>(&msg.frame) {
            Ok(ServerFrame::TypingIndicator { user_id, .. }) => Some(user_id),
            _ => None,
        };
        self.push_typing(&msg.frame, typist);
    }
}

impl Handler<CatchUp> for RoomActor {
    type Result = ();

    fn handle(&mut self, _: CatchUp, ctx: &mut Self::Context) {
        let pool = self.deps.pool.clone();
        let room_id = self.room_id;
        let check = async move {
            let mut conn = pool.get().await?;
            Ok::<_, AppError>(
                db::rooms::find_any(&mut conn, room_id)
                    .await?
                    .map(|r| r.last_seq),
            )
        };
        ctx.spawn(check.into_actor(self).map(|res, act, ctx| {
            if let Ok(Some(last)) = res {
                let after = act.delivered;
                act.fetch(after, last, ctx);
            }
        }));
    }
}

impl Handler<CountSubscribers> for RoomActor {
    type Result = usize;

    fn handle(&mut self, _: CountSubscribers, _: &mut Self::Context) -> usize {
        self.subscribers.len()
    }
}
