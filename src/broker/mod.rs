//! The seam between a room's committed events and the sessions on other nodes.
//!
//! A room actor fans its committed events out to the sessions of its own node itself, then hands
//! them to the broker, whose job is only to carry them to the other nodes (which feed them into
//! their own room actors, in seq order). One node needs nothing carried: `LocalBroker`.

use bytestring::ByteString;
use uuid::Uuid;

/// Carries room traffic between nodes.
pub trait Broker: Send + Sync {
    /// A committed room event, as its frame text, with the seq it was committed at.
    fn publish_event(&self, room_id: Uuid, seq: i64, frame: &ByteString);
    /// A frame that is not persisted (typing).
    fn publish_ephemeral(&self, room_id: Uuid, frame: &ByteString);
    /// This node's id, so a node can ignore its own publications.
    fn node_id(&self) -> Uuid;
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
    fn publish_event(&self, _room_id: Uuid, _seq: i64, _frame: &ByteString) {}
    fn publish_ephemeral(&self, _room_id: Uuid, _frame: &ByteString) {}
    fn node_id(&self) -> Uuid {
        self.node
    }
}
