//! `RoomActor`: one per active room. It decides who may do what, commits every change with the
//! room's next seq (the writes that arrive together go into one transaction: group commit), and
//! only then fans the committed events out to the room's subscribers, in seq order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::commit::{BatchInput, Committed, MemberChange, MemberInfo, Members};
use super::committer::{Commit, Committer};
use super::presence::{NotifyUsers, PresenceActor};
use super::session::RoomLeft;
use super::supervisor::{RoomIdle, RoomSupervisor};
use super::{frame_text, Actor as Caller, Outbox};
use crate::broker::Broker;
use crate::config::Settings;
use crate::db::models::Room;
use crate::db::{self, DbPool};
use crate::domain::{self, role_rank};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::{MemberView, MessageView, RoomView};

/// What every room actor shares.
#[derive(Clone)]
pub struct RoomDeps {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub broker: Arc<dyn Broker>,
    pub presence: Addr<PresenceActor>,
}

/// A validated new message (the same rules for WebSocket and REST).
#[derive(Debug, Clone)]
pub struct NewPost {
    pub content: String,
    pub message_type: &'static str,
    pub reply_to: Option<Uuid>,
    pub attachment_id: Option<Uuid>,
    pub metadata: Option<serde_json::Value>,
    pub client_id: Option<String>,
}

impl NewPost {
    /// Checks a send's fields against the limits; errors name the field.
    pub fn parse(
        settings: &Settings,
        content: &str,
        message_type: Option<&str>,
        reply_to: Option<Uuid>,
        attachment_id: Option<Uuid>,
        metadata: Option<&serde_json::Value>,
        client_id: Option<&str>,
    ) -> AppResult<NewPost> {
        let message_type = domain::message_type("message_type", message_type.unwrap_or("text"))?;
        let content = domain::message_content(
            "content",
            content,
            settings.limits.max_message_chars,
            attachment_id.is_some() || message_type == "location",
        )?;
        let metadata = domain::metadata("metadata", metadata, message_type)?;
        let client_id = client_id
            .map(|c| domain::client_id("client_id", c))
            .transpose()?;
        Ok(NewPost {
            content,
            message_type,
            reply_to,
            attachment_id,
            metadata,
            client_id,
        })
    }
}

/// A change to a room. Every one that changes something takes the room's next seq.
#[derive(Debug, Clone)]
pub enum WriteOp {
    Send(NewPost),
    Edit {
        message_id: Uuid,
        content: String,
    },
    Delete {
        message_id: Uuid,
    },
    React {
        message_id: Uuid,
        emoji: String,
        add: bool,
    },
    MarkRead {
        seq: Option<i64>,
    },
    /// Add a member; a user adding themselves to a public room is a join.
    AddMember {
        user_id: Uuid,
        role: &'static str,
    },
    /// Remove a member; a user removing themselves leaves.
    RemoveMember {
        user_id: Uuid,
    },
    SetRole {
        user_id: Uuid,
        role: &'static str,
    },
    UpdateRoom {
        name: Option<String>,
        description: Option<String>,
        max_participants: Option<Option<i32>>,
        is_active: Option<bool>,
    },
}

/// What a committed (or idempotently repeated) write answers.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The seq of the event this write committed (None when it changed nothing).
    pub seq: Option<i64>,
    pub message: Option<MessageView>,
    /// A resend with a known client_id: `message` is the first one.
    pub duplicate: bool,
    pub last_read_seq: Option<i64>,
    pub unread_count: Option<i64>,
    pub mention_count: Option<i64>,
    /// The room's last seq after this write.
    pub last_seq: i64,
    pub member: Option<MemberView>,
    pub room: Option<RoomView>,
}

// ---- messages -------------------------------------------------------------------------------

/// Commit a change (after checking the caller may make it).
#[derive(Message)]
#[rtype(result = "AppResult<Outcome>")]
pub struct Apply {
    pub caller: Caller,
    pub op: WriteOp,
}

/// Subscribe a connection to the room's events; with `after_seq`, replay what it missed first.
#[derive(Message)]
#[rtype(result = "AppResult<RoomView>")]
pub struct Subscribe {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
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
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub is_typing: bool,
}

/// The users typing now (for members).
#[derive(Message)]
#[rtype(result = "AppResult<Vec<Uuid>>")]
pub struct ListTyping {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
}

/// Drop a user's subscriptions (ban, logout): they stop getting the room's events at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DropUser {
    pub user_id: Uuid,
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
    op: WriteOp,
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

    /// A member's role, or the error a non-member gets (404, or 403 for a public room).
    fn member_role(&self, room: &Room, user_id: Uuid) -> AppResult<&str> {
        match self.members.get(&user_id) {
            Some(m) => Ok(&m.role),
            None if room.room_type == "public" => {
                Err(AppError::Forbidden("join the room first".into()))
            }
            None => Err(AppError::NotFound),
        }
    }

    /// What the cache can tell before anything is written: tenant, membership and role rules.
    fn authorize(&self, caller: &Caller, op: &WriteOp) -> AppResult<()> {
        let room = self.room_for(caller.tenant_id)?;
        let trusted = caller.is_trusted();
        let self_join = matches!(op, WriteOp::AddMember { user_id, .. } if *user_id == caller.user_id)
            && !self.members.contains_key(&caller.user_id);
        let rank = if trusted {
            6
        } else if self_join {
            0
        } else {
            role_rank(self.member_role(room, caller.user_id)?)
        };
        let writes = !matches!(op, WriteOp::MarkRead { .. });
        if !room.is_active && writes && !(trusted && matches!(op, WriteOp::UpdateRoom { .. })) {
            return Err(AppError::Forbidden("the room is deactivated".into()));
        }
        let forbid = |why: &str| Err(AppError::Forbidden(why.into()));
        let direct = room.room_type == "direct";
        match op {
            WriteOp::Send(p) => {
                if p.message_type == "system" {
                    return if trusted {
                        Ok(())
                    } else {
                        forbid("only service or admin tokens post system messages")
                    };
                }
                if rank <= 1 {
                    return forbid("observers cannot post");
                }
                if room.room_type == "channel" && rank < 3 {
                    return forbid("only moderators and admins post in a channel");
                }
            }
            WriteOp::React { .. } if rank <= 1 => return forbid("observers cannot react"),
            WriteOp::MarkRead { .. } if !self.members.contains_key(&caller.user_id) => {
                return Err(AppError::NotFound)
            }
            WriteOp::AddMember { role, .. } => {
                if self_join {
                    if room.room_type != "public" {
                        return Err(AppError::NotFound);
                    }
                } else {
                    if direct {
                        return forbid("the members of a direct room are fixed");
                    }
                    if rank < 3 {
                        return forbid("only moderators, admins and owners add members");
                    }
                    if role_rank(role) > rank {
                        return forbid("nobody grants a role above their own");
                    }
                }
            }
            WriteOp::RemoveMember { user_id } => {
                if direct {
                    return forbid("nobody leaves a direct room");
                }
                if *user_id != caller.user_id {
                    let target = self.members.get(user_id).ok_or(AppError::NotFound)?;
                    if rank < 4 {
                        return forbid("only admins and owners remove members");
                    }
                    if role_rank(&target.role) >= rank && rank < 5 {
                        return forbid("nobody removes a member of their own role or above");
                    }
                }
            }
            WriteOp::SetRole { user_id, role } => {
                let target = self.members.get(user_id).ok_or(AppError::NotFound)?;
                if rank < 4 {
                    return forbid("only admins and owners change roles");
                }
                if rank < 5 && (role_rank(&target.role) >= rank || role_rank(role) > rank) {
                    return forbid("nobody changes a role above their own");
                }
            }
            WriteOp::UpdateRoom { is_active, .. } => {
                let needed = if is_active.is_some() { 5 } else { 4 };
                if rank < needed {
                    return forbid(if needed == 5 {
                        "only the owner deactivates a room"
                    } else {
                        "only admins and owners change a room"
                    });
                }
            }
            _ => {}
        }
        Ok(())
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
            ops: batch
                .iter()
                .map(|p| (p.caller.clone(), p.op.clone()))
                .collect(),
            settings: self.deps.settings.clone(),
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
        // ---- issue 15: a room log that went back underneath (the database restored to an
        // older state) is a state this actor cannot continue from: it answers what was stored
        // and stops; the supervisor starts a fresh one and the sessions are told to resume.
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
        // ---- end issue 15
        self.room = Some(room);
        for (p, a) in batch.into_iter().zip(applied) {
            let a = match a {
                Ok(a) => a,
                Err(e) => {
                    let _ = p.reply.send(Err(e));
                    continue;
                }
            };
            match &a.member_change {
                Some(MemberChange::Joined(id, info)) => {
                    Arc::make_mut(&mut self.members).insert(*id, info.clone());
                    // The new member has not joined the room's stream yet: tell their
                    // connections (on every node), so their room list shows it at once.
                    if let Some(ev) = &a.event {
                        self.deps.presence.do_send(NotifyUsers {
                            user_ids: vec![*id],
                            frame: ev.text.clone(),
                            ephemeral: false,
                            relay: true,
                        });
                    }
                }
                Some(MemberChange::Role(id, role)) => {
                    if let Some(m) = Arc::make_mut(&mut self.members).get_mut(id) {
                        m.role = role.clone();
                    }
                }
                Some(MemberChange::Left(id)) => {
                    Arc::make_mut(&mut self.members).remove(id);
                }
                None => {}
            }
            if let Some(ev) = &a.event {
                self.deliver(ev.seq, ev.text.clone(), false, ctx);
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
                    if self.typing.remove(&p.caller.user_id).is_some() {
                        self.broadcast_typing(p.caller.user_id, false);
                    }
                }
            }
            if let Some(frame) = &a.mention_frame {
                if !a.mentions.is_empty() {
                    self.deps.presence.do_send(NotifyUsers {
                        user_ids: a.mentions.clone(),
                        frame: frame.clone(),
                        ephemeral: false,
                        relay: true,
                    });
                }
            }
            let _ = p.reply.send(Ok(a.outcome));
        }
    }

    /// Delivers a committed event (committed here or by another node) in seq order: the next one
    /// goes out at once, later ones wait for the gap to fill (from the event log if need be).
    fn deliver(&mut self, seq: i64, text: ByteString, remote: bool, ctx: &mut Context<Self>) {
        if seq <= self.delivered {
            return;
        }
        self.held.insert(seq, text);
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.delivered + 1 {
                break;
            }
            let (seq, text) = entry.remove_entry();
            self.fan_out(seq, &text);
            self.delivered = seq;
            self.after_delivery(&text, remote);
        }
        if let Some(room) = self.room.as_mut() {
            room.last_seq = room.last_seq.max(self.delivered);
        }
        if !self.held.is_empty() && !self.backfill_scheduled {
            // A moment for an event that is merely late, then the event log decides.
            self.backfill_scheduled = true;
            ctx.run_later(Duration::from_millis(100), |act, ctx| {
                act.backfill_scheduled = false;
                if let Some(first) = act.held.keys().next().copied() {
                    act.fetch(act.delivered, first - 1, ctx);
                }
            });
        }
    }

    /// Delivers the logged events with `after < seq <= upto`.
    fn fetch(&mut self, after: i64, upto: i64, ctx: &mut Context<Self>) {
        if upto <= after {
            return;
        }
        let pool = self.deps.pool.clone();
        let room_id = self.room_id;
        let load = async move {
            let mut conn = pool.get().await?;
            Ok::<_, AppError>(db::events::range(&mut conn, room_id, after, upto).await?)
        };
        ctx.spawn(load.into_actor(self).map(move |res, act, ctx| match res {
            Ok(rows) => {
                for (seq, payload) in rows {
                    act.deliver(seq, ByteString::from(payload), true, ctx);
                }
            }
            Err(e) => log::error!("backfill of room {room_id}: {e}"),
        }));
    }

    /// What an event changes here besides being sent: membership (and, for events from other
    /// nodes, the cached room and roles).
    fn after_delivery(&mut self, text: &ByteString, remote: bool) {
        // A cheap pre-filter (most frames are messages); what happens is decided by the parsed
        // top-level `type` below, so a `type` key inside message metadata changes nothing.
        let member_left = text.contains(r#""type":"member_left""#);
        let changes_cache = remote
            && (text.contains(r#""type":"member_"#) || text.contains(r#""type":"room_updated""#));
        if !member_left && !changes_cache {
            return;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        let id = |x: &serde_json::Value| x.as_str().and_then(|s| s.parse::<Uuid>().ok());
        match v["type"].as_str() {
            Some("member_left") => {
                if let Some(user) = id(&v["user_id"]) {
                    Arc::make_mut(&mut self.members).remove(&user);
                    self.drop_user(user);
                }
            }
            Some("member_joined") | Some("member_updated") => {
                let m = &v["member"];
                if let (Some(user), Some(role)) = (id(&m["user"]["id"]), m["role"].as_str()) {
                    let username = m["user"]["username"].as_str().map(str::to_owned);
                    Arc::make_mut(&mut self.members).insert(
                        user,
                        MemberInfo {
                            role: role.to_owned(),
                            username,
                        },
                    );
                }
            }
            Some("room_updated") => {
                if let Some(room) = self.room.as_mut() {
                    let r = &v["room"];
                    if let Some(n) = r["name"].as_str() {
                        room.name = n.to_owned();
                    }
                    if let Some(d) = r["description"].as_str() {
                        room.description = d.to_owned();
                    }
                    if let Some(a) = r["is_active"].as_bool() {
                        room.is_active = a;
                    }
                    room.max_participants = r["max_participants"].as_i64().map(|m| m as i32);
                }
            }
            _ => {}
        }
    }

    /// Sends a committed event to every subscriber (or holds it for those still catching up).
    fn fan_out(&mut self, seq: i64, text: &ByteString) {
        for sub in self.subscribers.values_mut() {
            match &mut sub.phase {
                Phase::Live => {
                    sub.outbox.push(text, false);
                }
                Phase::CatchingUp(held) => held.push((seq, text.clone())),
            }
        }
        self.subscribers.retain(|_, s| s.outbox.is_open());
    }

    fn broadcast_typing(&mut self, user_id: Uuid, is_typing: bool) {
        let text = frame_text(&ServerFrame::TypingIndicator {
            room_id: self.room_id,
            user_id,
            is_typing,
        });
        for sub in self.subscribers.values() {
            if sub.user_id != user_id && matches!(sub.phase, Phase::Live) {
                sub.outbox.push(&text, true);
            }
        }
        self.deps.broker.publish_ephemeral(self.room_id, &text);
    }

    fn drop_user(&mut self, user_id: Uuid) {
        let room_id = self.room_id;
        self.subscribers.retain(|_, s| {
            if s.user_id == user_id {
                s.outbox.session().do_send(RoomLeft { room_id });
                false
            } else {
                true
            }
        });
        if self.typing.remove(&user_id).is_some() {
            self.broadcast_typing(user_id, false);
        }
    }

    fn finish_replay(&mut self, session_id: Uuid, upto: i64, ok: bool) {
        let Some(sub) = self.subscribers.get_mut(&session_id) else {
            return;
        };
        if !ok {
            self.subscribers.remove(&session_id);
            return;
        }
        let held = match std::mem::replace(&mut sub.phase, Phase::Live) {
            Phase::CatchingUp(held) => held,
            Phase::Live => Vec::new(),
        };
        let mut last = upto;
        for (seq, text) in held {
            if seq > upto {
                sub.outbox.push(&text, false);
                last = seq;
            }
        }
        let done = frame_text(&ServerFrame::Resumed {
            room_id: self.room_id,
            last_seq: last,
        });
        sub.outbox.push(&done, false);
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let expired: Vec<Uuid> = self
            .typing
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(u, _)| *u)
            .collect();
        for user in expired {
            self.typing.remove(&user);
            self.broadcast_typing(user, false);
        }
        self.subscribers.retain(|_, s| s.outbox.is_open());
        let idle_for = Duration::from_secs(self.deps.settings.realtime.room_idle_secs);
        let idle = self.subscribers.is_empty() && self.pending.is_empty() && !self.committing;
        if idle && (self.room.is_none() || self.last_activity.elapsed() >= idle_for) {
            self.supervisor.do_send(RoomIdle {
                room_id: self.room_id,
                addr: ctx.address(),
            });
            ctx.stop();
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
                                m.user_id,
                                MemberInfo {
                                    role: m.role,
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
        if let Err(e) = self.authorize(&msg.caller, &msg.op) {
            return Box::pin(async move { Err(e) });
        }
        let (reply, answer) = oneshot::channel();
        self.pending.push_back(Pending {
            caller: msg.caller,
            op: msg.op,
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

impl Handler<Subscribe> for RoomActor {
    type Result = AppResult<RoomView>;

    fn handle(&mut self, msg: Subscribe, ctx: &mut Self::Context) -> Self::Result {
        self.last_activity = Instant::now();
        let room = self.room_for(msg.tenant_id)?;
        self.member_role(room, msg.user_id)?;
        let view = RoomView::build(room, self.members.len() as i64);
        let last = self.delivered;
        let session_id = msg.outbox.session_id;
        let mut sub = Subscriber {
            user_id: msg.user_id,
            outbox: msg.outbox,
            phase: Phase::Live,
        };
        match msg.after_seq {
            None => {}
            Some(after) if after < 0 => {
                return Err(AppError::bad_request("after_seq", "after_seq must be >= 0"))
            }
            Some(after) if after >= last => {
                sub.outbox.push(
                    &frame_text(&ServerFrame::Resumed {
                        room_id: self.room_id,
                        last_seq: last,
                    }),
                    false,
                );
            }
            Some(after) if last - after > self.deps.settings.limits.max_resume_events => {
                sub.outbox.push(
                    &frame_text(&ServerFrame::ResyncRequired {
                        room_id: self.room_id,
                        last_seq: last,
                    }),
                    false,
                );
            }
            Some(after) => {
                sub.phase = Phase::CatchingUp(Vec::new());
                let pool = self.deps.pool.clone();
                let outbox = sub.outbox.clone();
                let room_id = self.room_id;
                let replay = async move {
                    let rows = match pool.get().await {
                        Ok(mut conn) => db::events::range(&mut conn, room_id, after, last).await,
                        Err(e) => {
                            log::error!("resume of room {room_id}: {e}");
                            return false;
                        }
                    };
                    let rows = match rows {
                        Ok(r) => r,
                        Err(e) => {
                            log::error!("resume of room {room_id}: {e}");
                            return false;
                        }
                    };
                    for (_, payload) in rows {
                        if !outbox.send_wait(ByteString::from(payload)).await {
                            return false;
                        }
                    }
                    true
                };
                ctx.spawn(
                    replay
                        .into_actor(self)
                        .map(move |ok, act, _| act.finish_replay(session_id, last, ok)),
                );
            }
        }
        self.subscribers.insert(session_id, sub);
        Ok(view)
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
        let room = self.room_for(msg.tenant_id)?;
        if role_rank(self.member_role(room, msg.user_id)?) <= 1 {
            return Err(AppError::Forbidden("observers cannot post".into()));
        }
        if msg.is_typing {
            let until = Instant::now()
                + Duration::from_secs(self.deps.settings.realtime.typing_timeout_secs);
            if self.typing.insert(msg.user_id, until).is_none() {
                self.broadcast_typing(msg.user_id, true);
            }
        } else if self.typing.remove(&msg.user_id).is_some() {
            self.broadcast_typing(msg.user_id, false);
        }
        Ok(())
    }
}

impl Handler<ListTyping> for RoomActor {
    type Result = AppResult<Vec<Uuid>>;

    fn handle(&mut self, msg: ListTyping, _: &mut Self::Context) -> Self::Result {
        let room = self.room_for(msg.tenant_id)?;
        self.member_role(room, msg.user_id)?;
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
        self.drop_user(msg.user_id);
    }
}

impl Handler<Remote> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Remote, ctx: &mut Self::Context) {
        self.last_activity = Instant::now();
        self.deliver(msg.seq, msg.frame, true, ctx);
    }
}

impl Handler<RemoteEphemeral> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: RemoteEphemeral, _: &mut Self::Context) {
        let typist = serde_json::from_str::<serde_json::Value>(&msg.frame)
            .ok()
            .and_then(|v| v["user_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()));
        for sub in self.subscribers.values() {
            if Some(sub.user_id) != typist && matches!(sub.phase, Phase::Live) {
                sub.outbox.push(&msg.frame, true);
            }
        }
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
