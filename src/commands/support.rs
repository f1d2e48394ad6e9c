//! `SupportConversation` (seed 003's `create_support_conversation`): a support room with a
//! support type and a title, whose members are the requester (its owner) and the tenant's support
//! agents (its admins). Like `CreateRoom` it writes through the store: the room does not exist yet.

use uuid::Uuid;

use super::create_room::{external_ref, CreateRoom};
use super::Caller;
use crate::auth::Role as TokenRole;
use crate::config::Settings;
use crate::db;
use crate::db::models::Room;
use crate::domain::{self, role::RoomType};
use crate::error::{AppError, AppResult};

/// The reference kind of support rooms; the reference id is `{support_type}:{uuid}`.
pub const SUPPORT_KIND: &str = "support";

#[derive(Debug, Clone)]
pub struct SupportConversation {
    pub support_type: String,
    pub title: String,
}

impl SupportConversation {
    /// `support_type`: 1 to 32 of a-z, 0-9, _ (default `general`); `title`: 1 to 100 characters.
    pub fn parse(support_type: Option<&str>, title: Option<&str>) -> AppResult<Self> {
        let support_type = support_type.unwrap_or("general");
        external_ref(support_type, "x").map_err(|_| {
            AppError::bad_request(
                "support_type",
                "support_type must be 1 to 32 of a-z, 0-9, _",
            )
        })?;
        let title = domain::text("title", title.unwrap_or("Support"), 1, 100, false)?;
        Ok(SupportConversation {
            support_type: support_type.to_owned(),
            title,
        })
    }

    /// Creates the room: the caller (a chat user, not a service) and up to the room limit of agents.
    pub async fn apply(
        &self,
        conn: &mut db::Conn,
        settings: &Settings,
        caller: &Caller,
    ) -> AppResult<Room> {
        if caller.token_role == TokenRole::Service {
            return Err(AppError::Forbidden(
                "a support conversation is a user's".into(),
            ));
        }
        let cap = i64::from(settings.limits.max_room_members) - 1;
        let me = caller.user_id.uuid();
        let agents: Vec<Uuid> = db::users::support_agents(conn, caller.tenant_id.uuid(), cap + 1)
            .await?
            .into_iter()
            .filter(|a| *a != me)
            .take(usize::try_from(cap).unwrap_or(0))
            .collect();
        let reference = format!("{}:{}", self.support_type, Uuid::new_v4());
        let command = CreateRoom {
            name: self.title.clone(),
            room_type: RoomType::Group,
            description: String::new(),
            participants: agents,
            max_participants: None,
            external_ref: Some((SUPPORT_KIND.to_owned(), reference)),
        };
        command.apply(conn, caller).await
    }

    /// The support type of a support room (None for any other room).
    pub fn type_of(room: &Room) -> Option<&str> {
        match (&room.external_ref_kind, &room.external_ref_id) {
            (Some(kind), Some(id)) if kind == SUPPORT_KIND => id.split(':').next(),
            _ => None,
        }
    }
}
