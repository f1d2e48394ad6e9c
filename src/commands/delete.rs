//! `DeleteMessage`: the sender (within `limits.delete_window_secs`) or a moderator turns a
//! message into a tombstone; a moderator's deletion of someone else's message is audited.

use chrono::Utc;

use super::audit::{self, Entry};
use super::batch::{Batch, Shared};
use super::outcome::Applied;
use super::Caller;
use crate::db;
use crate::domain::ids::MessageId;
use crate::domain::moderation::AuditAction;
use crate::error::AppResult;
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;

#[derive(Debug, Clone)]
pub struct DeleteMessage {
    pub message_id: MessageId,
}

impl DeleteMessage {
    /// Before the message is read, the caller is assumed its sender; `apply` asks again.
    pub fn change(&self) -> Change {
        Change::Delete { own: true }
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        let m = match shared.locked(c, b.room.id, self.message_id).await? {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        let own = m.sender_id == caller.user_id.uuid();
        if let Err(e) = Self::allowed(b, caller, &m, own) {
            return Ok(Err(e));
        }
        if m.is_deleted {
            return Ok(Ok(Applied::default()));
        }
        db::messages::tombstone(c, m.id, Utc::now()).await?;
        db::pins::unpin(c, b.room.id, m.id).await?;
        if !own {
            let entry = Entry::new(AuditAction::MessageDelete)
                .room(b.room.id)
                .target(m.id)
                .after(serde_json::json!({"sender_id": m.sender_id, "seq": m.seq}));
            audit::record(c, caller, entry).await?;
        }
        shared.rewrite.push(m.id);
        let (room_id, message_id) = (b.room.id, m.id);
        let event = b.event(|seq| ServerFrame::MessageDeleted {
            room_id,
            seq,
            message_id,
        });
        Ok(Ok(Applied::with(Default::default(), event)))
    }

    /// The sender, or a moderator; past the delete window, moderators only.
    fn allowed(
        b: &Batch<'_>,
        caller: &Caller,
        m: &db::models::Message,
        own: bool,
    ) -> AppResult<()> {
        b.may(caller, Change::Delete { own })?;
        let window = b.settings.limits.delete_window_secs;
        if window > 0 && (Utc::now() - m.created_at).num_seconds() > window {
            b.may(caller, Change::DeleteLate)?;
        }
        Ok(())
    }
}
