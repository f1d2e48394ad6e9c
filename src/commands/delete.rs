//! `DeleteMessage`: the sender or a moderator turns a message into a tombstone.

use chrono::Utc;

use super::batch::{Batch, Shared};
use super::outcome::Applied;
use super::Caller;
use crate::db;
use crate::domain::ids::MessageId;
use crate::error::{AppError, AppResult};
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
        shared.flush(c).await?;
        let Some(m) = db::messages::find_for_update(c, b.room.id, self.message_id.uuid()).await?
        else {
            return Ok(Err(AppError::NotFound));
        };
        let own = m.sender_id == caller.user_id.uuid();
        if let Err(e) = b.may(caller, Change::Delete { own }) {
            return Ok(Err(e));
        }
        // The delete window binds a sender deleting their own message, not a moderator.
        let window = b.settings.limits.delete_window_secs;
        let moderating = b.may(caller, Change::Delete { own: false }).is_ok();
        if own && !moderating && window > 0 && (Utc::now() - m.created_at).num_seconds() > window {
            return Ok(Err(AppError::Forbidden(
                "the delete window has passed".into(),
            )));
        }
        if m.is_deleted {
            return Ok(Ok(Applied::default()));
        }
        db::messages::tombstone(c, m.id, Utc::now()).await?;
        shared.rewrite.push(m.id);
        let (room_id, message_id) = (b.room.id, m.id);
        let event = b.event(|seq| ServerFrame::MessageDeleted {
            room_id,
            seq,
            message_id,
        });
        Ok(Ok(Applied::with(Default::default(), event)))
    }
}
