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
