//! `UpdateRoom`: admins and owners rename a room, describe it or cap its members; the owner (or a
//! trusted back end) deactivates it.

use uuid::Uuid;

use super::batch::{Batch, Shared};
use super::outcome::{Applied, Outcome};
use super::Caller;
use crate::config::Settings;
use crate::db::{self, models::Room};
use crate::domain::{self, role::RoomType};
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::RoomView;

#[derive(Debug, Clone, Default)]
pub struct UpdateRoom {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Some(None) lifts the cap.
    pub max_participants: Option<Option<i32>>,
    pub is_active: Option<bool>,
}

impl UpdateRoom {
    /// The fields a PATCH may change, each checked; errors name the field.
    pub fn parse(
        settings: &Settings,
        name: Option<&str>,
        description: Option<&str>,
        max_participants: Option<Option<i32>>,
    ) -> AppResult<UpdateRoom> {
        let name = name
            .map(|n| domain::text("name", n, 1, 100, false))
            .transpose()?;
        let description = description
            .map(|d| domain::text("description", d, 0, 1000, true))
            .transpose()?;
        let max = settings.limits.max_room_members;
        if let Some(Some(m)) = max_participants {
            if !(1..=max).contains(&m) {
                return Err(AppError::bad_request(
                    "max_participants",
                    format!("max_participants must be 1 to {max}"),
                ));
            }
        }
        Ok(UpdateRoom {
            name,
            description,
            max_participants,
            is_active: None,
        })
    }

    /// Deactivating the room.
    pub fn deactivate() -> UpdateRoom {
        UpdateRoom {
            is_active: Some(false),
            ..Default::default()
        }
    }

    pub fn change(&self) -> Change {
        if self.is_active.is_some() {
            Change::SetActive
        } else {
            Change::UpdateRoom
        }
    }

    /// A direct room has two members: its cap does not change.
    pub fn fits(&self, room: &Room) -> AppResult<()> {
        if RoomType::from_store(&room.room_type) == RoomType::Direct
            && self.max_participants.is_some()
        {
            return Err(AppError::Conflict("a direct room has two members".into()));
        }
        Ok(())
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        shared.flush(c).await?;
        if let Err(e) = b
            .may(caller, self.change())
            .and_then(|()| self.fits(&b.room))
        {
            return Ok(Err(e));
        }
        let patch = db::rooms::RoomPatch {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            max_participants: self.max_participants,
            is_active: self.is_active,
        };
        let room_id: Uuid = b.room.id;
        let updated = db::rooms::update(c, room_id, &patch).await?;
        b.room = Room {
            last_seq: b.seq,
            last_message_at: b.room.last_message_at,
            ..updated
        };
        let mut view = RoomView::build(&b.room, b.members.len() as i64);
        view.last_seq = b.seq + 1;
        let room = Box::new(view.clone());
        let event = b.event(|seq| ServerFrame::RoomUpdated { room_id, seq, room });
        let outcome = Outcome {
            room: Some(view),
            ..Default::default()
        };
        Ok(Ok(Applied::with(outcome, event)))
    }
}
