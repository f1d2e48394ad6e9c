//! Delivery: committed events (from this node or another) go to the room's subscribers once each,
//! in seq order; a gap is waited for, then filled from the event log. Typing frames go out here too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

use super::{Phase, RoomActor};
use crate::actors::session::RoomLeft;
use crate::actors::supervisor::RoomIdle;
use crate::commands::MemberInfo;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::protocol::frames::{frame_kind, frame_text, ServerFrame};

impl RoomActor {
    /// Delivers a committed event (committed here or by another node) in seq order: the next one
    /// goes out at once, later ones wait for the gap to fill (from the event log if need be).
    pub(super) fn deliver(&mut self, seq: i64, text: ByteString, ctx: &mut Context<Self>) {
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
            self.after_delivery(&text);
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
    pub(super) fn fetch(&mut self, after: i64, upto: i64, ctx: &mut Context<Self>) {
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
                    act.deliver(seq, ByteString::from(payload), ctx);
                }
            }
            Err(e) => log::error!("backfill of room {room_id}: {e}"),
        }));
    }

    /// What an event changes here besides being sent: a member who left stops getting the room;
    /// the cached members and room follow the events (those of other nodes too).
    fn after_delivery(&mut self, text: &str) {
        let membership = matches!(
            frame_kind(text).as_deref(),
            Some("member_left" | "member_joined" | "member_updated" | "room_updated")
        );
        if !membership {
            return;
        }
        match serde_json::from_str::<ServerFrame>(text) {
            Ok(ServerFrame::MemberLeft { user_id, .. }) => {
                Arc::make_mut(&mut self.members).remove(&UserId(user_id));
                self.drop_user(user_id);
            }
            Ok(
                ServerFrame::MemberJoined { member, .. }
                | ServerFrame::MemberUpdated { member, .. },
            ) => {
                let info = MemberInfo {
                    role: Role::from_store(&member.role),
                    username: member.user.username,
                };
                Arc::make_mut(&mut self.members).insert(UserId(member.user.id), info);
            }
            Ok(ServerFrame::RoomUpdated { room: view, .. }) => {
                if let Some(room) = self.room.as_mut() {
                    room.name = view.name;
                    room.description = view.description;
                    room.is_active = view.is_active;
                    room.max_participants = view.max_participants;
                }
            }
            Ok(_) => {}
            Err(e) => log::error!("room {}: an event that does not decode: {e}", self.room_id),
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

    pub(super) fn broadcast_typing(&mut self, user_id: Uuid, is_typing: bool) {
        let text = frame_text(&ServerFrame::TypingIndicator {
            room_id: self.room_id,
            user_id,
            is_typing,
        });
        self.push_typing(&text, Some(user_id));
        self.deps.broker.publish_ephemeral(self.room_id, &text);
    }

    /// A typing frame to every live subscriber but the typist's own connections.
    pub(super) fn push_typing(&self, text: &ByteString, typist: Option<Uuid>) {
        for sub in self.subscribers.values() {
            if Some(sub.user_id) != typist && matches!(sub.phase, Phase::Live) {
                sub.outbox.push(text, true);
            }
        }
    }

    pub(super) fn drop_user(&mut self, user_id: Uuid) {
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

    /// Every second: typing that ran out ends, and an idle room stops.
    pub(super) fn tick(&mut self, ctx: &mut Context<Self>) {
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
