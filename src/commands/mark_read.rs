//! `MarkRead`: move my read position forward (never back) and answer my unread counts. The
//! target is a seq, the room's latest, or the newest of some named messages (seed 003's
//! `mark_multiple_read`); the outcome says whether it was already read (`was_already_read`).

use uuid::Uuid;

use super::batch::{Batch, Shared};
use super::outcome::{Applied, Outcome};
use super::Caller;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;

#[derive(Debug, Clone)]
pub struct MarkRead {
    /// Up to this seq; the room's latest when None.
    pub seq: Option<i64>,
    /// Up to the newest of these messages of the room instead (each must be in the room).
    pub messages: Vec<Uuid>,
}

/// Most messages one `MarkRead` may name.
pub const MAX_MARKED_MESSAGES: usize = 500;

impl MarkRead {
    pub fn parse(seq: Option<i64>) -> AppResult<MarkRead> {
        match seq {
            Some(s) if s < 0 => Err(AppError::bad_request("seq", "seq must be >= 0")),
            _ => Ok(MarkRead {
                seq,
                messages: Vec::new(),
            }),
        }
    }

    /// Read up to the newest of `ids` (1 to `MAX_MARKED_MESSAGES`, each a message of the room).
    pub fn of_messages(field: &str, mut ids: Vec<Uuid>) -> AppResult<MarkRead> {
        ids.sort();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_MARKED_MESSAGES {
            return Err(AppError::bad_request(
                field,
                format!("{field} must name 1 to {MAX_MARKED_MESSAGES} messages"),
            ));
        }
        Ok(MarkRead {
            seq: None,
            messages: ids,
        })
    }

    pub fn change(&self) -> Change {
        Change::MarkRead
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        shared.flush(c).await?;
        if let Err(e) = b.may(caller, self.change()) {
            return Ok(Err(e));
        }
        let (room_id, user_id) = (b.room.id, caller.user_id.uuid());
        let mut target = self.seq.map_or(b.seq, |s| s.min(b.seq));
        if !self.messages.is_empty() {
            let seqs = db::messages::seqs_in_room(c, room_id, &self.messages).await?;
            match seqs.iter().max() {
                Some(newest) if seqs.len() == self.messages.len() => target = *newest,
                _ => return Ok(Err(AppError::NotFound)),
            }
        }
        let moved = db::rooms::move_read_forward(c, room_id, user_id, target).await?;
        let pointer = match moved {
            Some(p) => p,
            None => match db::rooms::membership(c, room_id, user_id).await? {
                Some(m) => m.last_read_seq,
                None => return Ok(Err(AppError::NotFound)),
            },
        };
        let event = moved.map(|p| {
            b.event(|seq| ServerFrame::ReadReceipt {
                room_id,
                seq,
                user_id,
                last_read_seq: p,
            })
        });
        let (unread, mentions) = db::messages::unread(c, room_id, user_id, pointer).await?;
        Ok(Ok(Applied {
            outcome: Outcome {
                last_read_seq: Some(pointer),
                unread_count: Some(unread),
                mention_count: Some(mentions),
                already_read: moved.is_none(),
                ..Default::default()
            },
            event,
            ..Default::default()
        }))
    }
}
