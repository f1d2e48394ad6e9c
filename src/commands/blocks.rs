//! Blocking another user of the tenant: private to the blocker. A user who blocks someone is not
//! reached by them in a direct room (`policy::may_reach`) and is not told of their mentions.

use uuid::Uuid;

use super::Caller;
use crate::db;
use crate::error::{AppError, AppResult};

/// Blocks (or, with `block` false, unblocks) `target`; answers the ids the caller blocks now,
/// or None when nothing changed (repeating either).
pub async fn set(
    conn: &mut db::Conn,
    caller: &Caller,
    target: Uuid,
    block: bool,
) -> AppResult<Option<Vec<Uuid>>> {
    let me = caller.user_id.uuid();
    if target == me {
        return Err(AppError::Conflict("nobody blocks themselves".into()));
    }
    db::users::find_in_tenant(conn, caller.tenant_id.uuid(), target)
        .await?
        .ok_or(AppError::NotFound)?;
    let changed = if block {
        db::blocks::block(conn, me, target).await?
    } else {
        db::blocks::unblock(conn, me, target).await?
    };
    if !changed {
        return Ok(None);
    }
    Ok(Some(db::blocks::blocked_ids(conn, me).await?))
}
