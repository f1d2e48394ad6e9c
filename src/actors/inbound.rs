//! `NodeInbound`: the broker's way into this node's actors (room events and typing to the room
//! supervisor, notifications and kicks to presence).

use std::sync::Arc;

use actix::Addr;
use bytestring::ByteString;
use uuid::Uuid;

use super::presence::{KickUser, NotifyUsers, PresenceActor};
use super::supervisor::{CatchUpAll, RelayEphemeral, RelayEvent, RoomSupervisor};
use crate::broker::Inbound;
use crate::db::webhooks::HookGate;

pub struct NodeInbound {
    pub supervisor: Addr<RoomSupervisor>,
    pub presence: Addr<PresenceActor>,
    /// Issue 14: the webhook subscriptions this node caches.
    pub hooks: Arc<HookGate>,
}

impl Inbound for NodeInbound {
    fn event(&self, room_id: Uuid, seq: i64, frame: ByteString) {
        self.supervisor.do_send(RelayEvent {
            room_id,
            seq,
            frame,
        });
    }

    fn ephemeral(&self, room_id: Uuid, frame: ByteString) {
        self.supervisor.do_send(RelayEphemeral { room_id, frame });
    }

    fn notify(&self, user_ids: Vec<Uuid>, frame: ByteString, ephemeral: bool) {
        self.presence.do_send(NotifyUsers {
            user_ids,
            frame,
            ephemeral,
            relay: false,
        });
    }

    fn kick(&self, user_id: Uuid, login: Option<Uuid>, reason: String) {
        self.presence.do_send(KickUser {
            user_id,
            login,
            reason,
            relay: false,
        });
    }

    fn catch_up(&self) {
        self.supervisor.do_send(CatchUpAll);
    }

    fn hooks_changed(&self, tenant: Uuid) {
        self.hooks.forget_here(tenant);
    }
}
