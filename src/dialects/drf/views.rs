//! Seed 004's JSON shapes (its DRF serializers), built from Confab's views.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::time;
use crate::protocol::views::{MessageView, ReactionSummary};

/// 004's user object. Confab keeps no e-mail address: `email` is null.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrfUser {
    pub id: Uuid,
    pub email: Option<String>,
    pub display_name: String,
    pub profile_picture: Option<String>,
    pub clerk_profile_image_url: Option<String>,
}

impl DrfUser {
    pub fn new(id: Uuid, display_name: &str, avatar: Option<&str>) -> Self {
        DrfUser {
            id,
            email: None,
            display_name: display_name.to_owned(),
            profile_picture: avatar.map(str::to_owned),
            clerk_profile_image_url: avatar.map(str::to_owned),
        }
    }
}

/// 004's message: `timestamp`, reactions as `{emoji: [user ids]}`, `is_edited`, `read_by`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrfMessage {
    pub id: Uuid,
    pub room: Uuid,
    pub sender: DrfUser,
    pub content: String,
    pub message_type: String,
    pub file_attachment: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub timestamp: String,
    pub edited_at: Option<String>,
    pub is_deleted: bool,
    pub reply_to: Option<Uuid>,
    pub reactions: BTreeMap<String, Vec<Uuid>>,
    pub read_by: Vec<DrfUser>,
    pub is_edited: bool,
    /// Confab's order of the room's messages.
    pub seq: i64,
}

/// Reactions as 004 keeps them: each emoji with who chose it.
pub fn reaction_map(reactions: &[ReactionSummary]) -> BTreeMap<String, Vec<Uuid>> {
    reactions
        .iter()
        .map(|r| (r.emoji.clone(), r.user_ids.clone()))
        .collect()
}

impl DrfMessage {
    pub fn from_view(m: &MessageView, read_by: Vec<DrfUser>) -> Self {
        let file = m.attachment.as_ref();
        DrfMessage {
            id: m.id,
            room: m.room_id,
            sender: DrfUser::new(m.sender.id, &m.sender.display_name, None),
            content: m.content.clone(),
            message_type: m.message_type.clone(),
            file_attachment: file.map(|f| f.url.clone()),
            file_name: file.map(|f| f.file_name.clone()),
            file_size: file.map(|f| f.file_size),
            timestamp: time::format(&m.created_at),
            edited_at: m.edited_at.as_ref().map(time::format),
            is_deleted: m.is_deleted,
            reply_to: m.reply_to,
            reactions: reaction_map(&m.reactions),
            read_by,
            is_edited: m.edited_at.is_some(),
            seq: m.seq,
        }
    }
}

impl From<&crate::db::models::User> for DrfUser {
    fn from(u: &crate::db::models::User) -> Self {
        DrfUser {
            email: u.email.clone(),
            ..DrfUser::new(u.id, &u.display_name, u.avatar_url.as_deref())
        }
    }
}

/// 004's page: `count`, the `next` and `previous` page URLs, and the page's items.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfPage<T: ToSchema> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// 004's room object.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfRoom {
    pub id: Uuid,
    pub name: String,
    pub room_type: String,
    pub participants: Vec<DrfUser>,
    pub created_by: Option<DrfUser>,
    pub created_at: String,
    pub updated_at: String,
    pub is_active: bool,
    pub last_message: Option<DrfMessage>,
    pub unread_count: i64,
    /// For a direct room, the member who is not the caller.
    pub other_user: Option<DrfUser>,
}

/// One user typing in a room (004's TypingIndicator).
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfTyping {
    pub room: Uuid,
    pub user: DrfUser,
    pub is_typing: bool,
    /// Confab keeps who types now, not since when: the time of the answer.
    pub last_seen: String,
}

/// The answer to 004's `react`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfReacted {
    pub reactions: BTreeMap<String, Vec<Uuid>>,
    pub message: String,
}

/// A status answer: 004's room `mark_read` (`{status: "marked as read", count}`) and `leave`
/// (`{status: "left room"}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

impl DrfStatus {
    pub fn marked_read(count: i64) -> Self {
        DrfStatus {
            status: "marked as read".into(),
            count: Some(count),
        }
    }

    pub fn left_room() -> Self {
        DrfStatus {
            status: "left room".into(),
            count: None,
        }
    }
}

/// The answer to 004's per-message `mark_read`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfMarkedRead {
    pub status: String,
    pub was_already_read: bool,
}

/// 004's error: DRF's `detail`, the field's messages by name for a bad field, Confab's `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfErrorBody {
    pub detail: String,
    pub code: String,
    #[serde(flatten)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// One of the caller's open connections (004's ChatSession); what Confab does not record about
/// a connection (user agent, address, last ping) is null.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfSession {
    pub session_id: Uuid,
    pub session_type: String,
    pub is_active: bool,
    pub last_ping: Option<String>,
    pub connected_at: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// The answer to 004's `cleanup_old_sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrfCleanup {
    pub status: String,
    pub deleted_sessions: u64,
}
