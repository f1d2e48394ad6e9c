//! `RemoveMember`: an admin or owner removes someone below them; a member removing themselves
//! leaves. The last owner stays until they hand ownership over.

use std::sync::Arc;

use super::audit::{self, Entry};
use super::batch::{Batch, Shared};
use super::outcome::{Applied, MemberChange, Members};
use super::Caller;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::moderation::AuditAction;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;

#[derive(Debug, Clone)]
pub struct RemoveMember {
    pub user_id: UserId,
}

impl RemoveMember {
    /// Leaving, or removing a member (who must be one).
    pub fn change(&self, members: &Members, caller: &Caller) -> AppResult<Change> {
        if self.user_id == caller.user_id {
            return Ok(Change::Leave);
        }
        let target = members.get(&self.user_id).ok_or(AppError::NotFound)?;
        Ok(Change::RemoveMember {
            target: target.role,
        })
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        shared.flush(c).await?;
        let checked = self
            .change(&b.members, caller)
            .and_then(|change| b.may(caller, change));
        if let Err(e) = checked {
            return Ok(Err(e));
        }
        let Some(target) = b.members.get(&self.user_id) else {
            return Ok(Err(AppError::NotFound));
        };
        if target.role == Role::Owner && b.owners() == 1 {
            return Ok(Err(AppError::Conflict(
                "the last owner must hand ownership over first".into(),
            )));
        }
        if self.user_id != caller.user_id {
            let entry = Entry::new(AuditAction::MemberRemove)
                .room(b.room.id)
                .target(self.user_id.uuid())
                .change("role", target.role.as_str(), serde_json::Value::Null);
            audit::record(c, caller, entry).await?;
        }
        db::rooms::remove_member(c, b.room.id, self.user_id.uuid(), caller.user_id.uuid()).await?;
        Arc::make_mut(&mut b.members).remove(&self.user_id);
        let (room_id, user_id) = (b.room.id, self.user_id);
        let event = b.event(|seq| ServerFrame::MemberLeft {
            room_id,
            seq,
            user_id: user_id.uuid(),
        });
        // Leaving (not being removed) posts the leave notice when the setting asks for it.
        let notice = (user_id == caller.user_id)
            .then(|| super::notice::membership(b, shared, caller, false))
            .flatten();
        Ok(Ok(Applied {
            member_change: Some(MemberChange::Left(user_id)),
            notice,
            ..Applied::with(Default::default(), event)
        }))
    }
}
