//! Seeds 000 and 002's JSON shapes (the notifications service's serializers), built from
//! Confab's views. A message is Confab's message with 000's fields beside it, so the same
//! object serves 000's clients and native clients of the multiplexed socket.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::models::{Member, Reaction, User};
use crate::domain::time;
use crate::protocol::views::{MessageView, PresenceView};

/// 000's ChatConversation, with the create answer's `participant_count` and `last_message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub title: String,
    pub conversation_type: String,
    pub created_by: Option<Uuid>,
    pub is_active: bool,
    pub last_message_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub participant_count: i64,
    pub last_message: Option<ChatMessage>,
}

/// 000's ChatMessage: Confab's message (`seq`, `sender`, `attachment`, `reactions` as
/// `[{emoji, count, user_ids}]`) plus `conversation`, `sender_id` and the file's `file_url`,
/// `file_name`, `file_size`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatMessage {
    #[serde(flatten)]
    pub message: MessageView,
    pub conversation: Uuid,
    pub sender_id: Uuid,
    pub file_url: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
}

impl From<MessageView> for ChatMessage {
    fn from(m: MessageView) -> Self {
        let file = m.attachment.as_ref();
        let file_url = file.map(|f| f.signed_url.clone().unwrap_or_else(|| f.url.clone()));
        ChatMessage {
            conversation: m.room_id,
            sender_id: m.sender.id,
            file_url,
            file_name: file.map(|f| f.file_name.clone()),
            file_size: file.map(|f| f.file_size),
            message: m,
        }
    }
}

/// 000's ChatParticipant. Confab keys a membership by (room, user): `id` is the user's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Participant {
    pub id: Uuid,
    pub conversation: Uuid,
    pub user_id: Uuid,
    pub display_name: String,
    pub role: String,
    pub joined_at: String,
    /// Confab keeps when a user was last seen, not per conversation.
    pub last_seen_at: Option<String>,
    pub is_active: bool,
}

impl Participant {
    pub fn new(m: &Member, u: &User) -> Self {
        Participant {
            id: u.id,
            conversation: m.room_id,
            user_id: u.id,
            display_name: u.display_name.clone(),
            role: m.role.clone(),
            joined_at: time::format(&m.joined_at),
            last_seen_at: None,
            is_active: m.left_at.is_none(),
        }
    }
}

/// 000's MessageReaction. One per (message, user, emoji): `id` is the message's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatReaction {
    pub id: Uuid,
    pub message: Uuid,
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub emoji: String,
    pub created_at: String,
}

impl From<&Reaction> for ChatReaction {
    fn from(r: &Reaction) -> Self {
        ChatReaction {
            id: r.message_id,
            message: r.message_id,
            message_id: r.message_id,
            user_id: r.user_id,
            emoji: r.emoji.clone(),
            created_at: time::format(&r.created_at),
        }
    }
}

/// 000's UserPresence. One per user: `id` is the user's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPresence {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub last_seen: Option<String>,
    pub current_conversation: Option<Uuid>,
}

impl From<PresenceView> for UserPresence {
    fn from(p: PresenceView) -> Self {
        UserPresence {
            id: p.user_id,
            user_id: p.user_id,
            status: p.status,
            last_seen: p.last_seen.as_ref().map(time::format),
            current_conversation: p.current_room,
        }
    }
}

/// The answer to 000's upload: what a file message carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    /// Give it back as a `send_message`'s `file_url`: Confab's download URL of the file
    /// (`/api/chat/uploads/{id}`, needing the bearer token or a signed link).
    pub file_url: String,
    pub file_name: String,
    pub file_size: i64,
    pub content_type: String,
    /// The same file by Confab's name (`attachment_id` of a native message).
    pub id: Uuid,
    /// `file_url` signed for the uploader: works without a token until it expires.
    pub signed_url: Option<String>,
}

impl From<crate::protocol::views::RoomView> for Conversation {
    fn from(v: crate::protocol::views::RoomView) -> Self {
        Conversation {
            id: v.id,
            tenant_id: v.tenant_id,
            title: v.name,
            conversation_type: v.room_type,
            created_by: v.created_by,
            is_active: v.is_active,
            last_message_at: v.last_message_at.as_ref().map(time::format),
            created_at: time::format(&v.created_at),
            updated_at: time::format(&v.updated_at),
            participant_count: v.member_count,
            last_message: v.last_message.map(ChatMessage::from),
        }
    }
}
