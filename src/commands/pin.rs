//! `PinMessage`: pin or unpin a message of the room (moderators and up; either member of a
//! direct room), at most `limits.max_pins_per_room` at once. Each change is a room event and an
//! audit entry; pinning what is pinned (or unpinning what is not) changes nothing.

use chrono::Utc;

use super::audit::{self, Entry};
use super::batch::{Batch, Shared};
use super::outcome::Applied;
use super::Caller;
use crate::db;
use crate::domain::ids::MessageId;
use crate::domain::moderation::AuditAction;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;

#[derive(Debug, Clone)]
pub struct PinMessage {
    pub message_id: MessageId,
    /// true: pin; false: unpin.
    pub pin: bool,
}

impl PinMessage {
    pub fn change(&self) -> Change {
        Change::Pin
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        if let Err(e) = b.may(caller, Change::Pin) {
            return Ok(Err(e));
        }
        let m = match shared.locked(c, b.room.id, self.message_id).await? {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        let changed = if self.pin {
            if m.is_deleted {
                return Ok(Err(AppError::Conflict("the message was deleted".into())));
            }
            let max = b.settings.limits.max_pins_per_room;
            if db::pins::count(c, b.room.id).await? >= max {
                return Ok(Err(AppError::Conflict(format!(
                    "a room has at most {max} pinned messages: unpin one first"
                ))));
            }
            db::pins::pin(c, b.room.id, m.id, caller.user_id.uuid(), Utc::now()).await?
        } else {
            db::pins::unpin(c, b.room.id, m.id).await?
        };
        if !changed {
            return Ok(Ok(Applied::default()));
        }
        let action = if self.pin {
            AuditAction::MessagePin
        } else {
            AuditAction::MessageUnpin
        };
        let entry = Entry::new(action)
            .room(b.room.id)
            .target(m.id)
            .change("pinned", !self.pin, self.pin);
        audit::record(c, caller, entry).await?;
        let (room_id, message_id, by) = (b.room.id, m.id, caller.user_id.uuid());
        let pin = self.pin;
        let event = b.event(|seq| {
            if pin {
                ServerFrame::MessagePinned {
                    room_id,
                    seq,
                    message_id,
                    pinned_by: by,
                }
            } else {
                ServerFrame::MessageUnpinned {
                    room_id,
                    seq,
                    message_id,
                    unpinned_by: by,
                }
            }
        });
        Ok(Ok(Applied::with(Default::default(), event)))
    }
}
