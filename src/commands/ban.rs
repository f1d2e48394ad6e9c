//! Banning and unbanning a user of the tenant (admin and service tokens), with its audit entry
//! in the same transaction. Closing the user's sockets is the caller's next step.

use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::Caller;
use crate::db;
use crate::domain::moderation::AuditAction;
use crate::error::{AppError, AppResult};

/// Sets `target`'s ban to `banned`.
pub async fn set(
    conn: &mut db::Conn,
    caller: &Caller,
    target: Uuid,
    banned: bool,
) -> AppResult<()> {
    if target == caller.user_id.uuid() {
        return Err(AppError::bad_request("user_id", "nobody bans themselves"));
    }
    let tenant = caller.tenant_id.uuid();
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let Some(user) = db::users::find_in_tenant(c, tenant, target).await? else {
            return Ok(Err(AppError::NotFound));
        };
        db::users::set_banned(c, tenant, target, banned).await?;
        let action = if banned {
            AuditAction::UserBan
        } else {
            AuditAction::UserUnban
        };
        let entry = Entry::new(action)
            .target(target)
            .change("banned", user.is_banned, banned);
        audit::record(c, caller, entry).await?;
        Ok(Ok(()))
    })
    .await?
}
