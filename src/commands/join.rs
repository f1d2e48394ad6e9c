//! `JoinRoom`: a user of the tenant joins a public room as a plain member.

use super::batch::{Batch, Shared};
use super::outcome::{Applied, Members};
use super::{AddMember, Caller};
use crate::db;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Change;

#[derive(Debug, Clone)]
pub struct JoinRoom;

impl JoinRoom {
    /// A member does not join again.
    pub fn change(&self, members: &Members, caller: &Caller) -> AppResult<Change> {
        if members.contains_key(&caller.user_id) {
            return Err(AppError::Conflict("already a member".into()));
        }
        Ok(Change::Join)
    }

    /// Adding myself: the same rules and the same event as any new member.
    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        if let Err(e) = self.change(&b.members, caller) {
            return Ok(Err(e));
        }
        let add = AddMember {
            user_id: caller.user_id,
            role: Role::Member,
        };
        let mut applied = add.apply(c, b, shared, caller).await?;
        if let Ok(a) = &mut applied {
            a.notice = super::notice::membership(b, shared, caller, true);
        }
        Ok(applied)
    }
}
