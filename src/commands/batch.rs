//! The working state of commands inside one commit transaction: each room's batch (its next seq,
//! its members) and what the batches of the transaction share (messages known by client_id, new
//! messages not written yet).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::outcome::{Event, Members};
use super::Caller;
use crate::config::Settings;
use crate::db;
use crate::db::models::{Message, Room};
use crate::domain::ids::MessageId;
use crate::domain::role::RoomType;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Action, RoomFacts, Standing};
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::{summarize_reactions, MessageView};

/// Where a caller stands in a room whose members are `members`.
pub fn standing(members: &Members, caller: &Caller) -> Standing {
    Standing {
        trusted: caller.is_trusted(),
        role: members.get(&caller.user_id).map(|m| m.role),
    }
}

/// What the policy needs of a room row.
pub fn facts(room: &Room) -> RoomFacts {
    RoomFacts {
        kind: RoomType::from_store(&room.room_type),
        is_active: room.is_active,
    }
}

/// The policy's answer for `caller` in `room` with `members`.
pub fn may(
    room: &Room,
    members: &Members,
    caller: &Caller,
    action: impl Into<Action>,
) -> AppResult<()> {
    policy::may(standing(members, caller), facts(room), action)
}

/// One room's commands inside the transaction.
pub struct Batch<'a> {
    pub room: Room,
    pub members: Members,
    /// The room's last seq so far (each event takes the next).
    pub seq: i64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub settings: &'a Settings,
}

impl Batch<'_> {
    /// Takes the next seq for `frame` (built with that seq).
    pub fn event(&mut self, build: impl FnOnce(i64) -> ServerFrame) -> Event {
        self.seq += 1;
        let frame = build(self.seq);
        Event {
            seq: self.seq,
            kind: frame.kind(),
            text: crate::protocol::frames::frame_text(&frame),
        }
    }

    /// The policy's answer for `caller` in this room as the batch has it now.
    pub fn may(&self, caller: &Caller, action: impl Into<Action>) -> AppResult<()> {
        may(&self.room, &self.members, caller, action)
    }

    pub fn owners(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.role == crate::domain::role::Role::Owner)
            .count()
    }
}

/// A (room, sender, client_id) key.
pub type ClientKey = (Uuid, Uuid, String);

/// Where a message known by its client_id is.
pub enum Known {
    /// Stored before this transaction (found by the lookup of a retry).
    Stored(Box<Message>),
    /// Sent in this transaction: its index in `Shared::sent`.
    Sent(usize),
}

/// What the batches of one transaction share: the messages known by client_id, and the new
/// messages in the order they were sent (those from `written` on are not in the database yet).
#[derive(Default)]
pub struct Shared {
    pub known: HashMap<ClientKey, Known>,
    pub sent: Vec<Message>,
    pub written: usize,
    /// Messages edited or deleted here: their stored events are rewritten at the end (redaction).
    pub rewrite: Vec<Uuid>,
}

impl Shared {
    pub fn find(&self, key: &ClientKey) -> Option<&Message> {
        match self.known.get(key)? {
            Known::Stored(m) => Some(m.as_ref()),
            Known::Sent(i) => self.sent.get(*i),
        }
    }

    /// The new messages not written yet.
    pub fn unsaved(&self) -> &[Message] {
        &self.sent[self.written..]
    }

    /// Writes the new messages (before anything reads messages, and at the end).
    pub async fn flush(&mut self, c: &mut db::Conn) -> diesel::QueryResult<()> {
        if !self.unsaved().is_empty() {
            let written = db::writes::write_all(c, self.unsaved(), &[], &[]).await?;
            all_written(written, self.unsaved().len())?;
            self.written = self.sent.len();
        }
        Ok(())
    }

    /// The message `id` of `room`, locked for a change, read after the batch's new messages are
    /// written: `Err(NotFound)` when the room has no such message.
    pub async fn locked(
        &mut self,
        c: &mut db::Conn,
        room: Uuid,
        id: MessageId,
    ) -> diesel::QueryResult<AppResult<Message>> {
        self.flush(c).await?;
        let found = db::messages::find_for_update(c, room, id.uuid()).await?;
        Ok(found.ok_or(AppError::NotFound))
    }
}

/// A message not written was a resend of a client_id the transaction did not look up: roll back
/// (and try again with the lookup).
pub fn all_written(written: usize, expected: usize) -> diesel::QueryResult<()> {
    if written == expected {
        Ok(())
    } else {
        Err(diesel::result::Error::RollbackTransaction)
    }
}

/// A stored message as the wire shows it (reactions and attachment loaded).
pub async fn message_view(
    c: &mut db::Conn,
    m: &Message,
    sender_name: &str,
) -> diesel::QueryResult<MessageView> {
    let reactions = db::messages::reactions_of(c, &[m.id]).await?;
    let attachment = match m.attachment_id {
        Some(id) => db::messages::attachments_by_id(c, &[id])
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(MessageView::build(
        m,
        sender_name.to_owned(),
        summarize_reactions(&reactions),
        attachment.as_ref(),
    ))
}
