//! Seed 001's JSON shapes (Academia's models as DRF's ModelSerializers render them).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::commands::SupportConversation;
use crate::db::models::{Member, Room, User};
use crate::dialects::wasgo::views::WasgoUser;
use crate::domain::time;

/// 001's ChatRoom, with its participant count.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcademiaRoom {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// `public`, `private`, `course` or `support`.
    pub chat_type: String,
    /// The course of a course room (its platform reference id).
    pub course: Option<String>,
    pub created_by: Option<Uuid>,
    pub is_active: bool,
    pub max_participants: i32,
    pub participant_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The reference kind of course rooms.
pub const COURSE_KIND: &str = "course";

impl AcademiaRoom {
    /// `max_participants` is the room's own cap, else `limits.max_room_members`.
    pub fn new(room: &Room, participant_count: i64, default_cap: i32) -> Self {
        let course = match (&room.external_ref_kind, &room.external_ref_id) {
            (Some(kind), Some(id)) if kind == COURSE_KIND => Some(id.clone()),
            _ => None,
        };
        let chat_type = if course.is_some() {
            "course"
        } else if SupportConversation::type_of(room).is_some() {
            "support"
        } else if room.room_type == "public" {
            "public"
        } else {
            "private"
        };
        AcademiaRoom {
            id: room.id,
            name: room.name.clone(),
            description: room.description.clone(),
            chat_type: chat_type.into(),
            course,
            created_by: room.created_by,
            is_active: room.is_active,
            max_participants: room.max_participants.unwrap_or(default_cap),
            participant_count,
            created_at: time::format(&room.created_at),
            updated_at: time::format(&room.updated_at),
        }
    }
}

/// 001's ChatParticipant.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcademiaParticipant {
    pub id: String,
    pub room: Uuid,
    pub user: WasgoUser,
    /// `member`, `moderator` or `admin` (Confab's `owner` is `admin`, `observer` is `member`).
    pub role: String,
    pub joined_at: String,
    pub is_active: bool,
}

impl AcademiaParticipant {
    pub fn new(m: &Member, u: &User) -> Self {
        let role = match m.role.as_str() {
            "owner" | "admin" => "admin",
            "moderator" => "moderator",
            _ => "member",
        };
        AcademiaParticipant {
            id: format!("{}:{}", m.room_id, m.user_id),
            room: m.room_id,
            user: WasgoUser::from(u),
            role: role.into(),
            joined_at: time::format(&m.joined_at),
            is_active: m.left_at.is_none(),
        }
    }
}

/// 001's UserPresence.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcademiaPresence {
    pub user: Uuid,
    /// `online`, `away`, `busy` or `offline`.
    pub status: String,
    pub last_seen: Option<String>,
    pub is_typing: bool,
    pub current_room: Option<Uuid>,
}

/// One of 001's reactions to a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcademiaReaction {
    pub emoji: String,
    pub count: usize,
    pub users: Vec<Uuid>,
}

/// The answer to an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcademiaStatus {
    pub status: String,
}
