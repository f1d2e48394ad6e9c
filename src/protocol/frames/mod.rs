//! WebSocket frames: `ClientFrame` (client → server) and `ServerFrame` (server → client).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::views::{MemberView, MessageView, PresenceView, ReactionView, RoomView};
use crate::error::{AppError, ErrorBody};

/// Longest `ref` a client may attach to a frame.
pub const MAX_REF_CHARS: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResumeRoom {
    #[serde(alias = "conversation_id")]
    pub room_id: Uuid,
    pub after_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendFields {
    #[serde(alias = "conversation_id")]
    pub room_id: Uuid,
    #[serde(default)]
    pub content: String,
    pub message_type: Option<String>,
    pub reply_to: Option<Uuid>,
    pub attachment_id: Option<Uuid>,
    pub metadata: Option<serde_json::Value>,
    pub client_id: Option<String>,
}

/// What a client may send. `ref` travels beside the frame (see `parse_client_frame`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    #[serde(alias = "join_conversation")]
    JoinRoom {
        #[serde(alias = "conversation_id")]
        room_id: Uuid,
    },
    #[serde(alias = "leave_conversation")]
    LeaveRoom {
        #[serde(alias = "conversation_id")]
        room_id: Uuid,
    },
    SendMessage(SendFields),
    EditMessage {
        message_id: Uuid,
        content: String,
        #[serde(default, alias = "conversation_id")]
        room_id: Option<Uuid>,
    },
    DeleteMessage {
        message_id: Uuid,
        #[serde(default, alias = "conversation_id")]
        room_id: Option<Uuid>,
    },
    StartTyping {
        #[serde(alias = "conversation_id")]
        room_id: Uuid,
    },
    StopTyping {
        #[serde(alias = "conversation_id")]
        room_id: Uuid,
    },
    AddReaction {
        message_id: Uuid,
        emoji: String,
        #[serde(default, alias = "conversation_id")]
        room_id: Option<Uuid>,
        /// Confab addition (seed 003's `react`): take it back instead when I already have it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        toggle: bool,
    },
    RemoveReaction {
        message_id: Uuid,
        emoji: String,
        #[serde(default, alias = "conversation_id")]
        room_id: Option<Uuid>,
    },
    MarkRead {
        #[serde(alias = "conversation_id")]
        room_id: Uuid,
        seq: Option<i64>,
        /// Confab addition: read up to this message (instead of `seq`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Uuid>,
        /// Confab addition (seed 003): read up to the newest of these messages (1 or more).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_ids: Option<Vec<Uuid>>,
    },
    UpdatePresence {
        status: String,
        current_room: Option<Uuid>,
    },
    Resume {
        rooms: Vec<ResumeRoom>,
    },
    Ping,
    /// Issue 14: my notification settings in a room (as `PATCH …/members/me`).
    SetNotify {
        room_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notify: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted: Option<bool>,
        #[serde(
            default,
            deserialize_with = "crate::protocol::notify::present",
            skip_serializing_if = "Option::is_none"
        )]
        muted_until: Option<serde_json::Value>,
    },
    // ---- moderation (issue 17) ----
    PinMessage {
        message_id: Uuid,
        #[serde(default)]
        room_id: Option<Uuid>,
    },
    UnpinMessage {
        message_id: Uuid,
        #[serde(default)]
        room_id: Option<Uuid>,
    },
}

impl ClientFrame {
    /// The room the frame names, if it names one (edits and reactions may name only a message).
    pub fn room_id(&self) -> Option<Uuid> {
        match self {
            ClientFrame::JoinRoom { room_id }
            | ClientFrame::LeaveRoom { room_id }
            | ClientFrame::StartTyping { room_id }
            | ClientFrame::StopTyping { room_id }
            | ClientFrame::MarkRead { room_id, .. }
            | ClientFrame::SetNotify { room_id, .. } => Some(*room_id),
            ClientFrame::SendMessage(f) => Some(f.room_id),
            ClientFrame::EditMessage { room_id, .. }
            | ClientFrame::DeleteMessage { room_id, .. }
            | ClientFrame::AddReaction { room_id, .. }
            | ClientFrame::RemoveReaction { room_id, .. }
            | ClientFrame::PinMessage { room_id, .. }
            | ClientFrame::UnpinMessage { room_id, .. } => *room_id,
            ClientFrame::UpdatePresence { .. } | ClientFrame::Resume { .. } | ClientFrame::Ping => {
                None
            }
        }
    }
}

/// Decodes a text frame: answers the `ref` (when readable) and the frame or the error to send.
pub fn parse_client_frame(text: &str) -> (Option<String>, Result<ClientFrame, AppError>) {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                None,
                Err(AppError::bad_request_plain(format!("invalid JSON: {e}"))),
            )
        }
    };
    let Some(obj) = value.as_object() else {
        return (
            None,
            Err(AppError::bad_request_plain("a frame must be a JSON object")),
        );
    };
    let reference = match obj.get("ref") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.chars().count() <= MAX_REF_CHARS => Some(s.clone()),
        Some(_) => {
            return (
                None,
                Err(AppError::bad_request(
                    "ref",
                    format!("ref must be a string of at most {MAX_REF_CHARS} characters"),
                )),
            )
        }
    };
    if !obj.get("type").is_some_and(|t| t.is_string()) {
        return (
            reference,
            Err(AppError::bad_request(
                "type",
                "a frame needs a string `type`",
            )),
        );
    }
    let frame = super::json::parse_json::<ClientFrame>(text.as_bytes()).map_err(|e| match e {
        AppError::BadRequest { message, field } => AppError::BadRequest {
            message: message.replace("invalid JSON: ", "invalid frame: "),
            field,
        },
        other => other,
    });
    (reference, frame)
}

/// Fields an `ack` may carry, by what it acknowledges.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AckBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceView>,
    /// True when a resend with a known `client_id` answered the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    /// Issue 14: my notification settings after `set_notify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<crate::protocol::notify::NotifyView>,
}

/// What the server sends. Room events carry `room_id` and the `seq` they were committed at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    ConnectionEstablished {
        user_id: Uuid,
        tenant_id: Uuid,
        session_id: Uuid,
        heartbeat_secs: u64,
        server_time: String,
    },
    Ack {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        #[serde(flatten)]
        body: Box<AckBody>,
    },
    Error {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        error: ErrorBody,
    },
    NewMessage {
        room_id: Uuid,
        seq: i64,
        message: MessageView,
    },
    MessageUpdated {
        room_id: Uuid,
        seq: i64,
        message: MessageView,
    },
    MessageDeleted {
        room_id: Uuid,
        seq: i64,
        message_id: Uuid,
    },
    ReactionAdded {
        room_id: Uuid,
        seq: i64,
        reaction: ReactionView,
    },
    ReactionRemoved {
        room_id: Uuid,
        seq: i64,
        message_id: Uuid,
        user_id: Uuid,
        emoji: String,
    },
    ReadReceipt {
        room_id: Uuid,
        seq: i64,
        user_id: Uuid,
        last_read_seq: i64,
    },
    MemberJoined {
        room_id: Uuid,
        seq: i64,
        member: MemberView,
    },
    MemberLeft {
        room_id: Uuid,
        seq: i64,
        user_id: Uuid,
    },
    /// Confab addition: a member's role (or other membership field) changed.
    MemberUpdated {
        room_id: Uuid,
        seq: i64,
        member: MemberView,
    },
    RoomUpdated {
        room_id: Uuid,
        seq: i64,
        room: Box<RoomView>,
    },
    TypingIndicator {
        room_id: Uuid,
        user_id: Uuid,
        is_typing: bool,
    },
    PresenceUpdate {
        presence: PresenceView,
    },
    Mention {
        room_id: Uuid,
        message: MessageView,
    },
    Resumed {
        room_id: Uuid,
        last_seq: i64,
    },
    ResyncRequired {
        room_id: Uuid,
        last_seq: i64,
    },
    /// Confab addition: the user was made a member of a room at its creation (a new direct
    /// chat, a group created with them); not a room event, so it has no seq.
    RoomAdded {
        room: Box<RoomView>,
    },
    /// Confab addition: the room's actor was restarted; send `resume` for this room with the last
    /// seq you hold to get what you missed and keep receiving.
    ResumeRequired {
        room_id: Uuid,
    },
    Pong,
    // ---- moderation (issue 17) ----
    /// A message was pinned (a room event).
    MessagePinned {
        room_id: Uuid,
        seq: i64,
        message_id: Uuid,
        pinned_by: Uuid,
    },
    /// A message was unpinned (a room event; a deleted message loses its pin without one).
    MessageUnpinned {
        room_id: Uuid,
        seq: i64,
        message_id: Uuid,
        unpinned_by: Uuid,
    },
    /// The users I block, whole: after `connection_established` when there are any, and on every
    /// change (to each of my connections). Not a room event.
    Blocks {
        user_ids: Vec<Uuid>,
    },
    Closing {
        reason: String,
        /// With `shutdown`: when to reconnect (to another node, or this one once it is back).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

/// The `type` of a frame, read without decoding the rest: a room decides from it whether the
/// whole frame matters to it.
#[derive(Debug, Deserialize)]
struct FrameHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// The `type` of a serialized frame (None for text that is not a frame).
pub fn frame_kind(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    serde_json::from_str::<FrameHead<'_>>(text)
        .ok()
        .map(|h| h.kind)
}

/// Serializes a frame once, for every connection it goes to.
pub fn frame_text(frame: &ServerFrame) -> bytestring::ByteString {
    bytestring::ByteString::from(frame.to_text())
}

impl ServerFrame {
    pub fn error(reference: Option<String>, e: &AppError) -> ServerFrame {
        ServerFrame::Error {
            reference,
            error: e.body(),
        }
    }

    pub fn ack(reference: Option<String>, body: AckBody) -> ServerFrame {
        ServerFrame::Ack {
            reference,
            body: Box::new(body),
        }
    }

    /// The wire name of the frame (`new_message`, …), as the event log's `kind` stores it.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerFrame::ConnectionEstablished { .. } => "connection_established",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::Error { .. } => "error",
            ServerFrame::NewMessage { .. } => "new_message",
            ServerFrame::MessageUpdated { .. } => "message_updated",
            ServerFrame::MessageDeleted { .. } => "message_deleted",
            ServerFrame::ReactionAdded { .. } => "reaction_added",
            ServerFrame::ReactionRemoved { .. } => "reaction_removed",
            ServerFrame::ReadReceipt { .. } => "read_receipt",
            ServerFrame::MemberJoined { .. } => "member_joined",
            ServerFrame::MemberLeft { .. } => "member_left",
            ServerFrame::MemberUpdated { .. } => "member_updated",
            ServerFrame::RoomUpdated { .. } => "room_updated",
            ServerFrame::TypingIndicator { .. } => "typing_indicator",
            ServerFrame::PresenceUpdate { .. } => "presence_update",
            ServerFrame::Mention { .. } => "mention",
            ServerFrame::Resumed { .. } => "resumed",
            ServerFrame::ResyncRequired { .. } => "resync_required",
            ServerFrame::ResumeRequired { .. } => "resume_required",
            ServerFrame::RoomAdded { .. } => "room_added",
            ServerFrame::Pong => "pong",
            ServerFrame::Closing { .. } => "closing",
            ServerFrame::MessagePinned { .. } => "message_pinned",
            ServerFrame::MessageUnpinned { .. } => "message_unpinned",
            ServerFrame::Blocks { .. } => "blocks",
        }
    }

    /// Frames a lagging connection may lose without losing anything it can't get back.
    pub fn is_ephemeral(&self) -> bool {
        matches!(
            self,
            ServerFrame::TypingIndicator { .. } | ServerFrame::PresenceUpdate { .. }
        )
    }

    pub fn to_text(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_else(|e| {
            log::error!("serializing a frame: {e}");
            String::from("{\"type\":\"error\"}")
        })
    }
}

#[cfg(test)]
mod tests;
