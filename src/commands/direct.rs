//! The direct room of two users: found, or created with both as owners. Shared by every way in
//! that opens one (REST `POST /api/chat/rooms/direct`, seed 004's `direct_message` and
//! `/ws/direct/{user_id}/`).

use uuid::Uuid;

use super::Caller;
use crate::auth::Role as TokenRole;
use crate::db;
use crate::db::models::{NewRoom, Room};
use crate::error::{is_unique_violation, AppError, AppResult};

/// The direct room and whether this call created it.
pub struct Direct {
    pub room: Room,
    pub created: bool,
}

/// The caller's direct room with `other` (a user of the caller's tenant, not a service).
pub async fn open(conn: &mut db::Conn, caller: &Caller, other: Uuid) -> AppResult<Direct> {
    let me = caller.user_id.uuid();
    if other == me {
        return Err(AppError::Conflict(
            "a direct room needs another user".into(),
        ));
    }
    if caller.token_role == TokenRole::Service {
        return Err(AppError::Forbidden("service tokens do not chat".into()));
    }
    let tenant = caller.tenant_id.uuid();
    let other = db::users::find_in_tenant(conn, tenant, other)
        .await?
        .filter(|u| u.role != "service")
        .ok_or(AppError::NotFound)?;
    // A user who blocks the caller: 403 whether or not the room exists, nothing created.
    let blocked = !db::blocks::blocking(conn, &[other.id], me)
        .await?
        .is_empty();
    crate::policy::may_reach(blocked)?;
    let (a, b) = if me < other.id {
        (me, other.id)
    } else {
        (other.id, me)
    };
    let key = format!("{a}:{b}");
    if let Some(room) = db::rooms::find_direct(conn, tenant, &key).await? {
        return Ok(Direct {
            room,
            created: false,
        });
    }
    let name = format!("{} & {}", caller.display_name, other.display_name);
    let name: String = name.chars().take(100).collect();
    let new = NewRoom {
        tenant_id: tenant,
        name: &name,
        description: "",
        room_type: "direct",
        external_ref_kind: None,
        external_ref_id: None,
        direct_key: Some(&key),
        created_by: Some(me),
        max_participants: Some(2),
    };
    match db::rooms::create(conn, &new, &[(me, "owner"), (other.id, "owner")]).await {
        Ok(room) => Ok(Direct {
            room,
            created: true,
        }),
        // The other user asked at the same moment: theirs is the room.
        Err(e) if is_unique_violation(&e) => db::rooms::find_direct(conn, tenant, &key)
            .await?
            .map(|room| Direct {
                room,
                created: false,
            })
            .ok_or(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}
