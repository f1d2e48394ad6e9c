//! What a command comes to: the answer for its caller, the event it committed, and what the room
//! actor must change in its cache.

use std::collections::HashMap;
use std::sync::Arc;

use bytestring::ByteString;
use uuid::Uuid;

use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::protocol::views::{MemberView, MessageView, RoomView};

/// The room's members and their roles, as the room actor knows them.
pub type Members = Arc<HashMap<UserId, MemberInfo>>;

#[derive(Debug, Clone)]
pub struct MemberInfo {
    pub role: Role,
    pub username: Option<String>,
}

/// What a committed (or idempotently repeated) command answers.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The seq of the event this command committed (None when it changed nothing).
    pub seq: Option<i64>,
    pub message: Option<MessageView>,
    /// A resend with a known client_id: `message` is the first one.
    pub duplicate: bool,
    pub last_read_seq: Option<i64>,
    pub unread_count: Option<i64>,
    pub mention_count: Option<i64>,
    /// The room's last seq after this command.
    pub last_seq: i64,
    pub member: Option<MemberView>,
    pub room: Option<RoomView>,
    // Seed 003 (dialect issue 13):
    /// `MarkRead`: the read position already covered the target (nothing moved).
    pub already_read: bool,
}

/// A change of membership the room actor applies to its cache once committed.
pub enum MemberChange {
    Joined(UserId, MemberInfo),
    Left(UserId),
    Role(UserId, Role),
}

/// A committed room event: its seq, wire name and frame text.
pub struct Event {
    pub seq: i64,
    pub kind: &'static str,
    pub text: ByteString,
}

/// A command applied inside its transaction.
#[derive(Default)]
pub struct Applied {
    pub outcome: Outcome,
    pub event: Option<Event>,
    /// Users @mentioned by a new message, and the `mention` frame they get.
    pub mentions: Vec<Uuid>,
    pub mention_frame: Option<ByteString>,
    pub member_change: Option<MemberChange>,
    // Seed 001 (dialect issue 13):
    /// A second event after `event`: the `system` message of a join or leave
    /// (`realtime.membership_messages`).
    pub notice: Option<Event>,
}

impl Applied {
    /// A command that committed `event` and answers `outcome`.
    pub fn with(outcome: Outcome, event: Event) -> Applied {
        Applied {
            outcome,
            event: Some(event),
            ..Default::default()
        }
    }
}
