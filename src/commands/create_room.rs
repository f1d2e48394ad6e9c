//! `CreateRoom`: a group, channel or public room with its first members (the creator as owner,
//! unless a service creates it), optionally the room of a platform reference. The room does not
//! exist yet, so this command writes through the store itself rather than through a room actor.

use uuid::Uuid;

use super::Caller;
use crate::auth::Role as TokenRole;
use crate::config::Settings;
use crate::db;
use crate::db::models::{NewRoom, Room};
use crate::domain::{self, role::RoomType};
use crate::error::{AppError, AppResult};

/// A new room as a client asks for it, before any check.
#[derive(Debug, Default)]
pub struct RoomDraft<'a> {
    pub name: Option<&'a str>,
    pub room_type: &'a str,
    pub description: Option<&'a str>,
    pub participant_ids: &'a [Uuid],
    pub max_participants: Option<i32>,
}

/// A validated new room.
#[derive(Debug, Clone)]
pub struct CreateRoom {
    pub name: String,
    pub room_type: RoomType,
    pub description: String,
    /// The others to add, without the creator, each once.
    pub participants: Vec<Uuid>,
    pub max_participants: Option<i32>,
    pub external_ref: Option<(String, String)>,
}

/// A platform reference `{kind, id}`: kind 1–32 of `[a-z0-9_]`, id 1–128 characters.
pub fn external_ref(kind: &str, id: &str) -> AppResult<(String, String)> {
    let ok_kind = (1..=32).contains(&kind.len())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_kind {
        return Err(AppError::bad_request(
            "external_ref.kind",
            "kind must be 1 to 32 of a-z, 0-9, _",
        ));
    }
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "external_ref.id",
            "id must be 1 to 128 characters",
        ));
    }
    Ok((kind.to_owned(), id.to_owned()))
}

impl CreateRoom {
    /// Checks a draft against the rules; errors name the field.
    pub fn parse(
        settings: &Settings,
        caller: &Caller,
        d: &RoomDraft<'_>,
        external_ref: Option<(String, String)>,
    ) -> AppResult<CreateRoom> {
        let room_type = match RoomType::parse("room_type", d.room_type) {
            Ok(RoomType::Direct) | Err(_) => {
                let hint = if d.room_type == "direct" {
                    ": use POST /api/chat/rooms/direct"
                } else {
                    ""
                };
                return Err(AppError::bad_request(
                    "room_type",
                    format!("room_type must be group, channel or public{hint}"),
                ));
            }
            Ok(t) => t,
        };
        let name = domain::text("name", d.name.unwrap_or(""), 1, 100, false)?;
        let description = domain::text("description", d.description.unwrap_or(""), 0, 1000, true)?;
        let max = settings.limits.max_room_members;
        if let Some(m) = d.max_participants {
            if !(1..=max).contains(&m) {
                return Err(AppError::bad_request(
                    "max_participants",
                    format!("max_participants must be 1 to {max}"),
                ));
            }
        }
        let me = caller.user_id.uuid();
        let mut participants: Vec<Uuid> = d
            .participant_ids
            .iter()
            .copied()
            .filter(|p| *p != me)
            .collect();
        participants.sort();
        participants.dedup();
        let total = participants.len() + usize::from(creator_joins(caller));
        if total as i64 > i64::from(d.max_participants.unwrap_or(max)) {
            return Err(AppError::Conflict(
                "more participants than the room allows".into(),
            ));
        }
        Ok(CreateRoom {
            name,
            room_type,
            description,
            participants,
            max_participants: d.max_participants,
            external_ref,
        })
    }

    /// Writes the room and its first members (every participant a user of the caller's tenant).
    pub async fn apply(&self, conn: &mut db::Conn, caller: &Caller) -> AppResult<Room> {
        let tenant = caller.tenant_id.uuid();
        let found = db::users::existing_in_tenant(conn, tenant, &self.participants).await?;
        if found.len() != self.participants.len() {
            return Err(AppError::unknown(
                "participant_ids",
                "every participant must be a user of your tenant",
            ));
        }
        let mut members: Vec<(Uuid, &str)> =
            self.participants.iter().map(|p| (*p, "member")).collect();
        if creator_joins(caller) {
            members.insert(0, (caller.user_id.uuid(), "owner"));
        }
        let reference = self.external_ref.as_ref();
        let new = NewRoom {
            tenant_id: tenant,
            name: &self.name,
            description: &self.description,
            room_type: self.room_type.as_str(),
            external_ref_kind: reference.map(|r| r.0.as_str()),
            external_ref_id: reference.map(|r| r.1.as_str()),
            direct_key: None,
            created_by: Some(caller.user_id.uuid()),
            max_participants: self.max_participants,
        };
        db::rooms::create(conn, &new, &members).await.map_err(|e| {
            AppError::unique_or_internal(e, "a room with this external_ref already exists")
        })
    }
}

/// Only a trusted back end (an admin or service token) gets or creates the room of a platform
/// reference: that is how a course or ticket module claims its room.
pub fn may_claim_reference(caller: &Caller) -> AppResult<()> {
    if caller.is_trusted() {
        Ok(())
    } else {
        Err(AppError::Forbidden("needs a service or admin token".into()))
    }
}

/// A service creates rooms for others; anyone else is the new room's owner.
fn creator_joins(caller: &Caller) -> bool {
    caller.token_role != TokenRole::Service
}
