//! `SetRole`: an admin or owner changes a member's role (an admin only below their own).

use std::sync::Arc;

use super::audit::{self, Entry};
use super::batch::{Batch, Shared};
use super::outcome::{Applied, MemberChange, Members, Outcome};
use super::Caller;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::moderation::AuditAction;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::MemberView;

#[derive(Debug, Clone)]
pub struct SetRole {
    pub user_id: UserId,
    pub role: Role,
}

impl SetRole {
    /// The target must be a member.
    pub fn change(&self, members: &Members) -> AppResult<Change> {
        let target = members.get(&self.user_id).ok_or(AppError::NotFound)?;
        Ok(Change::SetRole {
            target: target.role,
            to: self.role,
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
            .change(&b.members)
            .and_then(|change| b.may(caller, change));
        if let Err(e) = checked {
            return Ok(Err(e));
        }
        let Some(target) = b.members.get(&self.user_id) else {
            return Ok(Err(AppError::NotFound));
        };
        if target.role == Role::Owner && self.role != Role::Owner && b.owners() == 1 {
            return Ok(Err(AppError::Conflict(
                "the last owner must hand ownership over first".into(),
            )));
        }
        if target.role == self.role {
            return Ok(Ok(Applied::default()));
        }
        let entry = Entry::new(AuditAction::MemberRole)
            .room(b.room.id)
            .target(self.user_id.uuid())
            .change("role", target.role.as_str(), self.role.as_str());
        let m = db::rooms::set_role(c, b.room.id, self.user_id.uuid(), self.role.as_str()).await?;
        audit::record(c, caller, entry).await?;
        let Some(user) = db::users::find(c, self.user_id.uuid()).await? else {
            return Ok(Err(AppError::NotFound));
        };
        let view = MemberView::build(&m, &user);
        let room_id = b.room.id;
        let v = view.clone();
        let event = b.event(|seq| ServerFrame::MemberUpdated {
            room_id,
            seq,
            member: v,
        });
        if let Some(t) = Arc::make_mut(&mut b.members).get_mut(&self.user_id) {
            t.role = self.role;
        }
        let outcome = Outcome {
            member: Some(view),
            ..Default::default()
        };
        Ok(Ok(Applied {
            member_change: Some(MemberChange::Role(self.user_id, self.role)),
            ..Applied::with(outcome, event)
        }))
    }
}
