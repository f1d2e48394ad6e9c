//! JSON views of users and accounts as REST and WebSocket answers carry them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::models::User;

/// A user as other users of the tenant see them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar_url: u.avatar_url.clone(),
        }
    }
}

/// A user as they see themselves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub role: String,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
}

impl From<&User> for MeView {
    fn from(u: &User) -> Self {
        MeView {
            id: u.id,
            tenant_id: u.tenant_id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            avatar_url: u.avatar_url.clone(),
            role: u.role.clone(),
            created_at: u.created_at,
        }
    }
}

/// What register, login and refresh answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    pub user: MeView,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// Who sent a message, as a message carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct SenderView {
    pub id: Uuid,
    pub display_name: String,
}

/// One emoji on a message with who chose it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: usize,
    pub user_ids: Vec<Uuid>,
}

/// A single reaction, as `reaction_added` carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ReactionView {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub emoji: String,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
}

/// A file attached to a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub url: String,
    pub file_name: String,
    pub file_size: i64,
    pub content_type: String,
    pub thumbnail_url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// `url` signed for the caller (REST answers only): works without a bearer header until
    /// `signed_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_thumbnail_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::domain::time::millis_opt"
    )]
    pub signed_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub sender: SenderView,
    pub message_type: String,
    pub content: String,
    pub attachment: Option<AttachmentView>,
    pub reply_to: Option<Uuid>,
    pub reply_count: i32,
    pub reactions: Vec<ReactionSummary>,
    pub mentions: Vec<Uuid>,
    pub metadata: Option<serde_json::Value>,
    pub client_id: Option<String>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::domain::time::millis_opt")]
    pub edited_at: Option<DateTime<Utc>>,
    pub is_deleted: bool,
    /// Present (true) when the message is pinned in its room (REST answers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// Issue 20: the preview of the message's first link, once the server fetched it (it comes
    /// in a later `message_updated`; absent until then and when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview: Option<LinkPreviewView>,
}

/// What a linked page says about itself, as the server read it (plain text; `image` is a small
/// JPEG re-encoded by the server, as a `data:` URL).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct LinkPreviewView {
    /// The link, as the message has it.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The page's `og:site_name`, else its host.
    pub site_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ExternalRef {
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MemberView {
    pub user: UserView,
    pub role: String,
    #[serde(with = "crate::domain::time::millis")]
    pub joined_at: DateTime<Utc>,
    pub last_read_seq: i64,
    pub archived: bool,
    pub muted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    pub room_type: String,
    pub external_ref: Option<ExternalRef>,
    pub created_by: Option<Uuid>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::domain::time::millis")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::domain::time::millis_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_seq: i64,
    pub is_active: bool,
    pub max_participants: Option<i32>,
    pub member_count: i64,
    // In lists (and for the caller's own view of a room):
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessageView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_user: Option<UserView>,
    /// What I am notified of here (`all`, `mentions`, `none`; my choice or the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// My timed mute, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::domain::time::millis_opt"
    )]
    pub muted_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct PresenceView {
    pub user_id: Uuid,
    pub status: String,
    #[serde(with = "crate::domain::time::millis_opt")]
    pub last_seen: Option<DateTime<Utc>>,
    pub current_room: Option<Uuid>,
}

use crate::db::models::{Attachment, Member, Message, Reaction, Room};

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        AttachmentView {
            id: a.id,
            url: format!("/api/chat/uploads/{}", a.id),
            file_name: a.file_name.clone(),
            file_size: a.file_size,
            content_type: a.content_type.clone(),
            thumbnail_url: a
                .thumbnail_key
                .as_ref()
                .map(|_| format!("/api/chat/uploads/{}/thumbnail", a.id)),
            width: a.width,
            height: a.height,
            signed_url: None,
            signed_thumbnail_url: None,
            signed_until: None,
        }
    }
}

/// Groups reaction rows (in the order they were made) by emoji.
pub fn summarize_reactions<'a>(
    rows: impl IntoIterator<Item = &'a Reaction>,
) -> Vec<ReactionSummary> {
    let mut out: Vec<ReactionSummary> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|s| s.emoji == r.emoji) {
            Some(s) => {
                s.count += 1;
                s.user_ids.push(r.user_id);
            }
            None => out.push(ReactionSummary {
                emoji: r.emoji.clone(),
                count: 1,
                user_ids: vec![r.user_id],
            }),
        }
    }
    out
}

impl MessageView {
    pub fn build(
        m: &Message,
        sender_name: String,
        reactions: Vec<ReactionSummary>,
        attachment: Option<&Attachment>,
    ) -> Self {
        MessageView {
            id: m.id,
            room_id: m.room_id,
            seq: m.seq,
            sender: SenderView {
                id: m.sender_id,
                display_name: sender_name,
            },
            message_type: m.message_type.clone(),
            content: m.content.clone(),
            attachment: attachment.map(AttachmentView::from),
            reply_to: m.reply_to,
            reply_count: m.reply_count,
            reactions,
            mentions: m.mentions.iter().flatten().copied().collect(),
            metadata: m.metadata.clone(),
            client_id: m.client_id.clone(),
            created_at: m.created_at,
            edited_at: m.edited_at,
            is_deleted: m.is_deleted,
            pinned: false,
            link_preview: None,
        }
    }
}

impl MemberView {
    pub fn build(m: &Member, u: &crate::db::models::User) -> Self {
        MemberView {
            user: UserView::from(u),
            role: m.role.clone(),
            joined_at: m.joined_at,
            last_read_seq: m.last_read_seq,
            archived: m.archived,
            muted: m.muted,
        }
    }
}

impl RoomView {
    pub fn build(r: &Room, member_count: i64) -> Self {
        RoomView {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name.clone(),
            description: r.description.clone(),
            room_type: r.room_type.clone(),
            external_ref: match (&r.external_ref_kind, &r.external_ref_id) {
                (Some(kind), Some(id)) => Some(ExternalRef {
                    kind: kind.clone(),
                    id: id.clone(),
                }),
                _ => None,
            },
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_message_at: r.last_message_at,
            last_seq: r.last_seq,
            is_active: r.is_active,
            max_participants: r.max_participants,
            member_count,
            last_message: None,
            unread_count: None,
            mention_count: None,
            my_role: None,
            archived: None,
            muted: None,
            other_user: None,
            notify: None,
            muted_until: None,
        }
    }
}
