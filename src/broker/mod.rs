//! The seam between a node's actors and the other nodes.
//!
//! A room actor fans its committed events out to the sessions of its own node itself, then hands
//! them to the broker, whose job is only to carry them to the other nodes (which feed them into
//! their own room actors, where a reorder buffer keeps them in seq order and fills gaps from the
//! event log). One node needs nothing carried: `LocalBroker`. Several nodes share Redis:
//! `RedisBroker` (`broker.redis_url`).

pub mod redis;

use std::collections::HashSet;

use std::sync::Arc;

use bytestring::ByteString;
use futures_util::future::BoxFuture;
use uuid::Uuid;

/// Where traffic from other nodes is delivered on this one: the node's actors, behind a trait the
/// broker owns, so the broker never imports them.
pub trait Inbound: Send + Sync {
    /// A room event another node committed.
    fn event(&self, room_id: Uuid, seq: i64, frame: ByteString);
    /// A room frame another node did not persist (typing).
    fn ephemeral(&self, room_id: Uuid, frame: ByteString);
    /// A frame for these users' connections here.
    fn notify(&self, user_ids: Vec<Uuid>, frame: ByteString, ephemeral: bool);
    /// Close a user's connections here (of one login, or all).
    fn kick(&self, user_id: Uuid, login: Option<Uuid>, reason: String);
    /// The link was down: every running room checks the event log for what it missed.
    fn catch_up(&self);
    /// A tenant's webhook endpoints changed on another node.
    fn hooks_changed(&self, tenant: Uuid);
}

/// Carries room traffic, notifications and presence between nodes.
pub trait Broker: Send + Sync {
    /// This node's id, so a node can ignore its own publications.
    fn node_id(&self) -> Uuid;
    /// Starts delivering other nodes' traffic to this node's actors.
    fn attach(&self, inbound: Arc<dyn Inbound>);
    /// A committed room event, as its frame text, with the seq it was committed at.
    fn publish_event(&self, room_id: Uuid, seq: i64, frame: &ByteString);
    /// A room frame that is not persisted (typing).
    fn publish_ephemeral(&self, room_id: Uuid, frame: &ByteString);
    /// A frame for every connection of these users (mentions, presence updates).
    fn notify_users(&self, user_ids: &[Uuid], frame: &ByteString, ephemeral: bool);
    /// Close a user's connections on every node (ban, logout).
    fn kick(&self, user_id: Uuid, login: Option<Uuid>, reason: &str);
    /// Tells the other nodes that a tenant's webhook endpoints changed.
    fn hooks_changed(&self, tenant: Uuid);
    /// Records which users hold a connection on this node (refreshed periodically).
    fn set_local_users(&self, user_ids: Vec<Uuid>);
    /// A user's first connection here: vouches for them at once (`set_local_users` renews the
    /// word for everyone periodically).
    fn vouch(&self, user_id: Uuid);
    /// Which of these users hold a connection on another node.
    fn online_elsewhere(&self, user_ids: Vec<Uuid>) -> BoxFuture<'static, HashSet<Uuid>>;
    /// The users another node vouched for whose word has expired (that node died) and whom no
    /// node vouches for now. Each such user is answered to one node only (the one that clears
    /// the expired word), which announces them offline.
    fn expired_elsewhere(&self) -> BoxFuture<'static, Vec<Uuid>>;
    /// Whether the broker's backing service answers (None: there is none).
    fn healthy(&self) -> BoxFuture<'static, Option<bool>>;
    /// Other nodes' last published stats.
    fn cluster_stats(&self) -> BoxFuture<'static, Vec<serde_json::Value>>;
    /// Publishes this node's stats for the others.
    fn publish_stats(&self, stats: serde_json::Value);
}

/// A single node: there is nobody to carry anything to.
pub struct LocalBroker {
    node: Uuid,
}

impl LocalBroker {
    pub fn new() -> Self {
        LocalBroker {
            node: Uuid::new_v4(),
        }
    }
}

impl Default for LocalBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl Broker for LocalBroker {
    fn node_id(&self) -> Uuid {
        self.node
    }
    fn attach(&self, _inbound: Arc<dyn Inbound>) {}
    fn publish_event(&self, _room_id: Uuid, _seq: i64, _frame: &ByteString) {}
    fn publish_ephemeral(&self, _room_id: Uuid, _frame: &ByteString) {}
    fn notify_users(&self, _user_ids: &[Uuid], _frame: &ByteString, _ephemeral: bool) {}
    fn kick(&self, _user_id: Uuid, _login: Option<Uuid>, _reason: &str) {}
    fn hooks_changed(&self, _tenant: Uuid) {}
    fn set_local_users(&self, _user_ids: Vec<Uuid>) {}
    fn vouch(&self, _user_id: Uuid) {}
    fn online_elsewhere(&self, _user_ids: Vec<Uuid>) -> BoxFuture<'static, HashSet<Uuid>> {
        Box::pin(async { HashSet::new() })
    }
    fn expired_elsewhere(&self) -> BoxFuture<'static, Vec<Uuid>> {
        Box::pin(async { Vec::new() })
    }
    fn healthy(&self) -> BoxFuture<'static, Option<bool>> {
        Box::pin(async { None })
    }
    fn cluster_stats(&self) -> BoxFuture<'static, Vec<serde_json::Value>> {
        Box::pin(async { Vec::new() })
    }
    fn publish_stats(&self, _stats: serde_json::Value) {}
}
