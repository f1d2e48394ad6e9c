//! `AddMember`: a moderator or up adds someone (up to their own role); a user adding themselves to
//! a public room joins it.

use std::sync::Arc;

use super::batch::{Batch, Shared};
use super::outcome::{Applied, MemberChange, MemberInfo, Members, Outcome};
use super::Caller;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::MemberView;

#[derive(Debug, Clone)]
pub struct AddMember {
    pub user_id: UserId,
    pub role: Role,
}

impl AddMember {
    /// Myself joining (not a member yet), or adding someone with a role.
    pub fn change(&self, members: &Members, caller: &Caller) -> Change {
        if self.user_id == caller.user_id && !members.contains_key(&caller.user_id) {
            Change::Join
        } else {
            Change::AddMember { role: self.role }
        }
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        shared.flush(c).await?;
        let change = self.change(&b.members, caller);
        if let Err(e) = b.may(caller, change) {
            return Ok(Err(e));
        }
        let Some(user) =
            db::users::find_in_tenant(c, b.room.tenant_id, self.user_id.uuid()).await?
        else {
            return Ok(Err(AppError::NotFound));
        };
        if let Err(e) = self.room_for(b, &user) {
            return Ok(Err(e));
        }
        // Joining makes a plain member, whatever was asked.
        let role = if change == Change::Join && !caller.is_trusted() {
            Role::Member
        } else {
            self.role
        };
        let m = db::rooms::upsert_member(c, &b.room, self.user_id.uuid(), role.as_str()).await?;
        let view = MemberView::build(&m, &user);
        let room_id = b.room.id;
        let v = view.clone();
        let event = b.event(|seq| ServerFrame::MemberJoined {
            room_id,
            seq,
            member: v,
        });
        let info = MemberInfo {
            role,
            username: user.username.clone(),
        };
        Arc::make_mut(&mut b.members).insert(self.user_id, info.clone());
        let outcome = Outcome {
            member: Some(view),
            ..Default::default()
        };
        Ok(Ok(Applied {
            member_change: Some(MemberChange::Joined(self.user_id, info)),
            ..Applied::with(outcome, event)
        }))
    }

    /// A person (not a service account), not a member yet, and room for one more.
    fn room_for(&self, b: &Batch<'_>, user: &db::models::User) -> AppResult<()> {
        if user.role == "service" {
            return Err(AppError::bad_request(
                "user_id",
                "service accounts do not join rooms",
            ));
        }
        if b.members.contains_key(&self.user_id) {
            return Err(AppError::Conflict("already a member".into()));
        }
        let max = b
            .room
            .max_participants
            .unwrap_or(b.settings.limits.max_room_members) as usize;
        if b.members.len() >= max {
            return Err(AppError::Conflict("the room is full".into()));
        }
        Ok(())
    }
}
