//! Seed 003's JSON shapes (Wasgo's DRF serializers, as DRF would render its models), built from
//! Confab's views and rows.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::commands::SupportConversation;
use crate::db::models::{Room, User};
use crate::domain::time;
use crate::protocol::views::{MessageView, ReactionSummary};

/// 003's user: `id`, `username` (Confab's username, else the display name), `display_name`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WasgoUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

impl From<&User> for WasgoUser {
    fn from(u: &User) -> Self {
        WasgoUser {
            id: u.id,
            username: u.username.clone().unwrap_or_else(|| u.display_name.clone()),
            display_name: u.display_name.clone(),
        }
    }
}

/// 003's ChatMessage: its conversation, sender, type, reply, metadata, attachment, edit and
/// delete state, reactions (each emoji with its count and users), and Confab's `seq`. It is
/// also seed 001's (which shares `/chat/messages/`): `room`, `file`, `updated_at`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WasgoMessage {
    pub id: Uuid,
    pub conversation: Uuid,
    /// 001's name of the conversation.
    pub room: Uuid,
    pub sender: WasgoUser,
    pub sender_id: Uuid,
    pub content: String,
    pub message_type: String,
    pub reply_to: Option<Uuid>,
    pub metadata: serde_json::Value,
    pub file_url: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    /// 001's name of `file_url`.
    pub file: Option<String>,
    pub is_edited: bool,
    pub edited_at: Option<String>,
    pub is_deleted: bool,
    pub created_at: String,
    pub timestamp: String,
    /// The last edit, else `created_at`.
    pub updated_at: String,
    pub reactions: Vec<ReactionSummary>,
    pub seq: i64,
}

impl WasgoMessage {
    /// `username` is the sender's username when known, else the display name.
    pub fn from_view(m: &MessageView, username: Option<&str>) -> Self {
        let file = m.attachment.as_ref();
        let at = time::format(&m.created_at);
        let url = file.map(|f| f.signed_url.clone().unwrap_or_else(|| f.url.clone()));
        WasgoMessage {
            id: m.id,
            conversation: m.room_id,
            room: m.room_id,
            sender: WasgoUser {
                id: m.sender.id,
                username: username.unwrap_or(&m.sender.display_name).to_owned(),
                display_name: m.sender.display_name.clone(),
            },
            sender_id: m.sender.id,
            content: m.content.clone(),
            message_type: m.message_type.clone(),
            reply_to: m.reply_to,
            metadata: m.metadata.clone().unwrap_or_else(|| serde_json::json!({})),
            file_url: url.clone(),
            file: url,
            file_name: file.map(|f| f.file_name.clone()),
            file_size: file.map(|f| f.file_size),
            is_edited: m.edited_at.is_some(),
            edited_at: m.edited_at.as_ref().map(time::format),
            is_deleted: m.is_deleted,
            updated_at: m
                .edited_at
                .as_ref()
                .map_or_else(|| at.clone(), time::format),
            created_at: at.clone(),
            timestamp: at,
            reactions: m.reactions.clone(),
            seq: m.seq,
        }
    }
}

/// A participant of a conversation (003's ConversationParticipant).
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoParticipant {
    pub user: WasgoUser,
    pub role: String,
    pub joined_at: String,
    pub last_read_seq: i64,
}

/// What a conversation is about: a platform object (`bid`, `job`, `dispute`, …) and its id.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoRelated {
    pub kind: String,
    pub id: String,
}

/// 003's Conversation as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoConversation {
    pub id: Uuid,
    /// `direct`, the kind of its platform object (`bid`, `job`, `request`, `support`,
    /// `dispute`, …), else Confab's room type (`group`, `channel`, `public`).
    pub conversation_type: String,
    pub title: String,
    pub description: String,
    pub support_type: Option<String>,
    pub related_object: Option<WasgoRelated>,
    pub participants: Vec<WasgoParticipant>,
    pub participant_count: usize,
    pub created_by: Option<Uuid>,
    pub created_at: String,
    pub updated_at: String,
    pub is_active: bool,
    pub is_archived: bool,
    pub unread_count: i64,
    pub last_message: Option<WasgoMessage>,
}

/// 003's `conversation_type` of a room.
pub fn conversation_type(room: &Room) -> String {
    match (&room.external_ref_kind, room.room_type.as_str()) {
        (_, "direct") => "direct".into(),
        (Some(kind), _) => kind.clone(),
        (None, other) => other.into(),
    }
}

/// The platform object of a room (the support reference is not one: it is `support_type`).
pub fn related(room: &Room) -> Option<WasgoRelated> {
    if SupportConversation::type_of(room).is_some() {
        return None;
    }
    match (&room.external_ref_kind, &room.external_ref_id) {
        (Some(kind), Some(id)) => Some(WasgoRelated {
            kind: kind.clone(),
            id: id.clone(),
        }),
        _ => None,
    }
}

/// DRF's page: `count`, `next` and `previous` page URLs, `results`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoPage<T: ToSchema> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// One conversation's unread count.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoUnreadOne {
    pub conversation_id: Uuid,
    pub unread_count: i64,
}

/// The answer to `unread_counts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoUnread {
    pub total_unread: i64,
    pub conversations: Vec<WasgoUnreadOne>,
}

/// The answer to an action: `status`, and what it names.
#[derive(Debug, Serialize, ToSchema)]
pub struct WasgoStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marked_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was_already_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<ReactionSummary>>,
}

impl WasgoStatus {
    pub fn new(status: &str) -> Self {
        WasgoStatus {
            status: status.into(),
            marked_count: None,
            unread_count: None,
            was_already_read: None,
            action: None,
            reactions: None,
        }
    }
}
