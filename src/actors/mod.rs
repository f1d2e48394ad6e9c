//! The actors: one `SessionActor` per WebSocket, one `RoomActor` per active room under the
//! `RoomSupervisor`, and the `PresenceActor`. `Outbox` is how rooms and presence reach a socket.

mod commit;
pub mod committer;
pub mod inbound;
pub mod presence;
// moderation (issue 17)
pub mod retention;
pub mod room;
pub mod session;
pub mod supervisor;
// Issue 14: the webhook outbox of a commit, the delivery worker and the notifier.
mod hook_outbox;
mod hook_rooms;
mod hook_send;
pub mod notifier;
pub mod webhooks;
// Issue 20: link previews, made after a message is committed.
pub mod link_previews;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix::Addr;
use bytestring::ByteString;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use crate::transport::Outgoing;

/// The bounded outbound queue of one connection. Rooms and presence push pre-serialized frames
/// into it without waiting: a full queue marks the connection a slow consumer (it is closed and
/// catches up with `resume`), and past half full, typing and presence frames are dropped.
#[derive(Clone)]
pub struct Outbox {
    pub session_id: Uuid,
    pub user_id: Uuid,
    tx: mpsc::Sender<Outgoing>,
    capacity: usize,
    session: Addr<session::SessionActor>,
    overflowed: Arc<AtomicBool>,
}

impl Outbox {
    pub fn new(
        session_id: Uuid,
        user_id: Uuid,
        tx: mpsc::Sender<Outgoing>,
        capacity: usize,
        session: Addr<session::SessionActor>,
    ) -> Self {
        Outbox {
            session_id,
            user_id,
            tx,
            capacity,
            session,
            overflowed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues a frame; false when it could not be queued (the connection is lagging or gone).
    pub fn push(&self, text: &ByteString, ephemeral: bool) -> bool {
        if self.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        if ephemeral && self.tx.capacity() < self.capacity / 2 {
            return true;
        }
        match self.tx.try_send(Outgoing::Text(text.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.overflowed.swap(true, Ordering::Relaxed) {
                    self.session.do_send(session::SlowConsumer);
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a frame, waiting up to 10 s for room (for replays longer than the queue); false
    /// (and the connection marked a slow consumer) when the client does not read. It takes a slot
    /// only while more than a quarter of the queue is free, so the frames pushed without waiting
    /// while a replay streams (acks, `resumed`, events) always find room. It never holds more than
    /// the one slot it fills: reserving the quarter too (as it once did) left the queue with no
    /// free slot for that instant, and an ack pushed by another thread then closed the connection.
    pub async fn send_wait(&self, text: ByteString) -> bool {
        let headroom = (self.capacity / 4).max(1);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if self.overflowed.load(Ordering::Relaxed) || self.tx.is_closed() {
                return false;
            }
            if self.tx.capacity() > headroom {
                if let Ok(permit) = self.tx.try_reserve() {
                    permit.send(Outgoing::Text(text));
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                if !self.overflowed.swap(true, Ordering::Relaxed) {
                    self.session.do_send(session::SlowConsumer);
                }
                return false;
            }
            // The client is reading the queue down; look again in a moment.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Queues `text` as the last frame: whatever is pushed after it is dropped (as for a slow
    /// consumer, without closing the connection for that).
    pub fn push_last(&self, text: &ByteString) {
        self.overflowed.store(true, Ordering::SeqCst);
        let _ = self.tx.try_send(Outgoing::Text(text.clone()));
    }

    /// Queues a control item (ping/pong); dropped silently when the queue is full.
    pub fn push_control(&self, item: Outgoing) {
        let _ = self.tx.try_send(item);
    }

    pub fn is_open(&self) -> bool {
        !self.tx.is_closed() && !self.overflowed.load(Ordering::Relaxed)
    }

    pub fn session(&self) -> &Addr<session::SessionActor> {
        &self.session
    }

    /// Frames waiting to be written.
    pub fn queued(&self) -> usize {
        self.capacity - self.tx.capacity()
    }
}
