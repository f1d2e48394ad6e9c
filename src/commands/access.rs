//! Reads ask here: the room, if the caller may look at it (or inside it), and their role in it.

use uuid::Uuid;

use super::batch::facts;
use super::Caller;
use crate::db::{self, models::Room};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Access, Standing};

/// The room with the caller's role in it, when the policy grants `access`; otherwise its error
/// (`not_found` for a room of another tenant or one the caller may not know of).
pub async fn room(
    conn: &mut db::Conn,
    caller: &Caller,
    room_id: Uuid,
    access: Access,
) -> AppResult<(Room, Option<Role>)> {
    let room = db::rooms::find(conn, caller.tenant_id.uuid(), room_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = db::rooms::membership(conn, room_id, caller.user_id.uuid())
        .await?
        .map(|m| Role::from_store(&m.role));
    may(caller, &room, role, access)?;
    Ok((room, role))
}

/// The policy's answer for `caller`, whose role in `room` is `role`.
pub fn may(caller: &Caller, room: &Room, role: Option<Role>, access: Access) -> AppResult<()> {
    let who = Standing {
        trusted: caller.is_trusted(),
        role,
    };
    policy::may(who, facts(room), access)
}
