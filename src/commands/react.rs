//! `React`: add or take back my reaction to a message, or toggle it (seed 003's `react`:
//! taken back when I had it, added otherwise).

use uuid::Uuid;

use super::batch::{Batch, Shared};
use super::outcome::{Applied, Event};
use super::Caller;
use crate::db;
use crate::domain;
use crate::domain::ids::MessageId;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::ReactionView;

#[derive(Debug, Clone)]
pub struct React {
    pub message_id: MessageId,
    pub emoji: String,
    /// True to add the reaction, false to remove it.
    pub add: bool,
    /// Toggle instead: remove it when present, else add it (`add` is then ignored).
    pub toggle: bool,
}

impl React {
    pub fn parse(message_id: MessageId, emoji: &str, add: bool) -> AppResult<React> {
        Ok(React {
            message_id,
            emoji: domain::emoji("emoji", emoji)?,
            add,
            toggle: false,
        })
    }

    /// Removes my reaction when I have it, adds it otherwise.
    pub fn toggle(message_id: MessageId, emoji: &str) -> AppResult<React> {
        Ok(React {
            toggle: true,
            ..React::parse(message_id, emoji, true)?
        })
    }

    pub fn change(&self) -> Change {
        Change::React
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
        let Some(m) = db::messages::find_in_room(c, b.room.id, self.message_id.uuid()).await?
        else {
            return Ok(Err(AppError::NotFound));
        };
        if m.is_deleted {
            return Ok(Err(AppError::Conflict("the message was deleted".into())));
        }
        let user_id = caller.user_id.uuid();
        let event = if self.toggle {
            match self.removed(c, b, user_id).await? {
                Some(removed) => Some(removed),
                None => self.added(c, b, user_id).await?,
            }
        } else if self.add {
            self.added(c, b, user_id).await?
        } else {
            self.removed(c, b, user_id).await?
        };
        Ok(Ok(Applied {
            event,
            ..Default::default()
        }))
    }

    /// `reaction_added`, unless it was there already.
    async fn added(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        user_id: Uuid,
    ) -> diesel::QueryResult<Option<Event>> {
        let room_id = b.room.id;
        let created =
            db::messages::add_reaction(c, self.message_id.uuid(), user_id, &self.emoji).await?;
        Ok(created.map(|created_at| {
            let reaction = ReactionView {
                message_id: self.message_id.uuid(),
                user_id,
                emoji: self.emoji.clone(),
                created_at,
            };
            b.event(|seq| ServerFrame::ReactionAdded {
                room_id,
                seq,
                reaction,
            })
        }))
    }

    /// `reaction_removed`, unless there was none.
    async fn removed(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        user_id: Uuid,
    ) -> diesel::QueryResult<Option<Event>> {
        let room_id = b.room.id;
        if db::messages::remove_reaction(c, self.message_id.uuid(), user_id, &self.emoji).await?
            == 0
        {
            return Ok(None);
        }
        Ok(Some(b.event(|seq| ServerFrame::ReactionRemoved {
            room_id,
            seq,
            message_id: self.message_id.uuid(),
            user_id,
            emoji: self.emoji.clone(),
        })))
    }
}
