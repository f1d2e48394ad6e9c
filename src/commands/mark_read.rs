//! `MarkRead`: move my read position forward (never back) and answer my unread counts.

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
}

impl MarkRead {
    pub fn parse(seq: Option<i64>) -> AppResult<MarkRead> {
        match seq {
            Some(s) if s < 0 => Err(AppError::bad_request("seq", "seq must be >= 0")),
            _ => Ok(MarkRead { seq }),
        }
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
        let target = self.seq.map_or(b.seq, |s| s.min(b.seq));
        let (room_id, user_id) = (b.room.id, caller.user_id.uuid());
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
                ..Default::default()
            },
            event,
            ..Default::default()
        }))
    }
}
