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
    },
    UpdatePresence {
        status: String,
        current_room: Option<Uuid>,
    },
    Resume {
        rooms: Vec<ResumeRoom>,
    },
    Ping,
}

impl ClientFrame {
    /// The room the frame names, if it names one (edits and reactions may name only a message).
    pub fn room_id(&self) -> Option<Uuid> {
        match self {
            ClientFrame::JoinRoom { room_id }
            | ClientFrame::LeaveRoom { room_id }
            | ClientFrame::StartTyping { room_id }
            | ClientFrame::StopTyping { room_id }
            | ClientFrame::MarkRead { room_id, .. } => Some(*room_id),
            ClientFrame::SendMessage(f) => Some(f.room_id),
            ClientFrame::EditMessage { room_id, .. }
            | ClientFrame::DeleteMessage { room_id, .. }
            | ClientFrame::AddReaction { room_id, .. }
            | ClientFrame::RemoveReaction { room_id, .. } => *room_id,
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
    let frame =
        crate::routes::extract::parse_json::<ClientFrame>(text.as_bytes()).map_err(|e| match e {
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
    Closing {
        reason: String,
        /// With `shutdown`: when to reconnect (to another node, or this one once it is back).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
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
mod tests {
    use super::*;
    use crate::protocol::views::*;
    use chrono::{TimeZone, Utc};

    fn t() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap()
    }

    fn message() -> MessageView {
        MessageView {
            id: Uuid::from_u128(7),
            room_id: Uuid::from_u128(2),
            seq: 3,
            sender: SenderView {
                id: Uuid::from_u128(1),
                display_name: "Ann".into(),
            },
            message_type: "text".into(),
            content: "hi @bob".into(),
            attachment: None,
            reply_to: None,
            reply_count: 0,
            reactions: vec![ReactionSummary {
                emoji: "👍".into(),
                count: 1,
                user_ids: vec![Uuid::from_u128(1)],
            }],
            mentions: vec![Uuid::from_u128(9)],
            metadata: None,
            client_id: Some("c1".into()),
            created_at: t(),
            edited_at: None,
            is_deleted: false,
        }
    }

    fn member() -> MemberView {
        MemberView {
            user: UserView {
                id: Uuid::from_u128(1),
                username: Some("ann".into()),
                display_name: "Ann".into(),
                avatar_url: None,
            },
            role: "member".into(),
            joined_at: t(),
            last_read_seq: 0,
            archived: false,
            muted: false,
        }
    }

    fn room() -> RoomView {
        RoomView {
            id: Uuid::from_u128(2),
            tenant_id: Uuid::from_u128(1),
            name: "r".into(),
            description: String::new(),
            room_type: "group".into(),
            external_ref: Some(ExternalRef {
                kind: "course".into(),
                id: "42".into(),
            }),
            created_by: None,
            created_at: t(),
            updated_at: t(),
            last_message_at: None,
            last_seq: 0,
            is_active: true,
            max_participants: None,
            member_count: 1,
            last_message: None,
            unread_count: None,
            mention_count: None,
            my_role: None,
            archived: None,
            muted: None,
            other_user: None,
        }
    }

    #[test]
    fn every_server_frame_round_trips() {
        let r = Uuid::from_u128(2);
        let u = Uuid::from_u128(1);
        let frames = vec![
            ServerFrame::ConnectionEstablished {
                user_id: u,
                tenant_id: u,
                session_id: r,
                heartbeat_secs: 25,
                server_time: "x".into(),
            },
            ServerFrame::ack(
                Some("a".into()),
                AckBody {
                    message: Some(message()),
                    room_id: Some(r),
                    seq: Some(3),
                    ..Default::default()
                },
            ),
            ServerFrame::ack(
                None,
                AckBody {
                    room: Some(room()),
                    ..Default::default()
                },
            ),
            ServerFrame::error(Some("e".into()), &AppError::NotFound),
            ServerFrame::NewMessage {
                room_id: r,
                seq: 3,
                message: message(),
            },
            ServerFrame::MessageUpdated {
                room_id: r,
                seq: 4,
                message: message(),
            },
            ServerFrame::MessageDeleted {
                room_id: r,
                seq: 5,
                message_id: u,
            },
            ServerFrame::ReactionAdded {
                room_id: r,
                seq: 6,
                reaction: ReactionView {
                    message_id: u,
                    user_id: u,
                    emoji: "🎉".into(),
                    created_at: t(),
                },
            },
            ServerFrame::ReactionRemoved {
                room_id: r,
                seq: 7,
                message_id: u,
                user_id: u,
                emoji: "🎉".into(),
            },
            ServerFrame::ReadReceipt {
                room_id: r,
                seq: 8,
                user_id: u,
                last_read_seq: 7,
            },
            ServerFrame::MemberJoined {
                room_id: r,
                seq: 9,
                member: member(),
            },
            ServerFrame::MemberLeft {
                room_id: r,
                seq: 10,
                user_id: u,
            },
            ServerFrame::MemberUpdated {
                room_id: r,
                seq: 11,
                member: member(),
            },
            ServerFrame::RoomUpdated {
                room_id: r,
                seq: 12,
                room: Box::new(room()),
            },
            ServerFrame::TypingIndicator {
                room_id: r,
                user_id: u,
                is_typing: true,
            },
            ServerFrame::PresenceUpdate {
                presence: PresenceView {
                    user_id: u,
                    status: "away".into(),
                    last_seen: Some(t()),
                    current_room: None,
                },
            },
            ServerFrame::Mention {
                room_id: r,
                message: message(),
            },
            ServerFrame::Resumed {
                room_id: r,
                last_seq: 12,
            },
            ServerFrame::ResyncRequired {
                room_id: r,
                last_seq: 12,
            },
            ServerFrame::ResumeRequired { room_id: r },
            ServerFrame::RoomAdded {
                room: Box::new(room()),
            },
            ServerFrame::Pong,
            ServerFrame::Closing {
                reason: "slow_consumer".into(),
                retry_after_ms: None,
            },
            ServerFrame::Closing {
                reason: "shutdown".into(),
                retry_after_ms: Some(1500),
            },
        ];
        for f in frames {
            let text = f.to_text();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["type"], f.kind(), "{text}");
            let back: ServerFrame = serde_json::from_str(&text).unwrap();
            assert_eq!(back, f, "{text}");
        }
    }

    #[test]
    fn every_client_frame_round_trips_and_aliases_are_accepted() {
        let r = Uuid::from_u128(2);
        let m = Uuid::from_u128(3);
        let frames = vec![
            ClientFrame::JoinRoom { room_id: r },
            ClientFrame::LeaveRoom { room_id: r },
            ClientFrame::SendMessage(SendFields {
                room_id: r,
                content: "hi".into(),
                message_type: Some("text".into()),
                reply_to: Some(m),
                attachment_id: None,
                metadata: None,
                client_id: Some("c".into()),
            }),
            ClientFrame::EditMessage {
                message_id: m,
                content: "x".into(),
                room_id: None,
            },
            ClientFrame::DeleteMessage {
                message_id: m,
                room_id: Some(r),
            },
            ClientFrame::StartTyping { room_id: r },
            ClientFrame::StopTyping { room_id: r },
            ClientFrame::AddReaction {
                message_id: m,
                emoji: "👍".into(),
                room_id: None,
            },
            ClientFrame::RemoveReaction {
                message_id: m,
                emoji: "👍".into(),
                room_id: None,
            },
            ClientFrame::MarkRead {
                room_id: r,
                seq: Some(4),
            },
            ClientFrame::UpdatePresence {
                status: "away".into(),
                current_room: None,
            },
            ClientFrame::Resume {
                rooms: vec![ResumeRoom {
                    room_id: r,
                    after_seq: 3,
                }],
            },
            ClientFrame::Ping,
        ];
        for f in frames {
            let text = serde_json::to_string(&f).unwrap();
            let (_, back) = parse_client_frame(&text);
            assert_eq!(back.unwrap(), f, "{text}");
        }
        let (reference, aliased) = parse_client_frame(&format!(
            r#"{{"type":"join_conversation","conversation_id":"{r}","ref":"j1"}}"#
        ));
        assert_eq!(reference.as_deref(), Some("j1"));
        assert_eq!(aliased.unwrap(), ClientFrame::JoinRoom { room_id: r });
    }

    #[test]
    fn a_frame_names_its_room_only_when_it_carries_one() {
        let r = Uuid::from_u128(2);
        let m = Uuid::from_u128(3);
        assert_eq!(
            ClientFrame::MarkRead {
                room_id: r,
                seq: None
            }
            .room_id(),
            Some(r)
        );
        assert_eq!(
            ClientFrame::DeleteMessage {
                message_id: m,
                room_id: None
            }
            .room_id(),
            None
        );
        assert_eq!(
            ClientFrame::DeleteMessage {
                message_id: m,
                room_id: Some(r)
            }
            .room_id(),
            Some(r)
        );
        assert_eq!(ClientFrame::Ping.room_id(), None);
    }

    #[test]
    fn bad_frames_are_bad_requests_that_keep_the_ref() {
        let (reference, e) = parse_client_frame(r#"{"type":"fly","ref":"r9"}"#);
        assert_eq!(reference.as_deref(), Some("r9"));
        assert!(matches!(e, Err(AppError::BadRequest { .. })));
        assert!(matches!(
            parse_client_frame("not json").1,
            Err(AppError::BadRequest { .. })
        ));
        assert!(matches!(
            parse_client_frame("[1]").1,
            Err(AppError::BadRequest { .. })
        ));
        // A missing field is named; a mistyped one is described in the message.
        let (_, e) = parse_client_frame(r#"{"type":"join_room"}"#);
        assert!(
            matches!(e, Err(AppError::BadRequest { field: Some(ref f), .. }) if f == "room_id")
        );
        let (_, e) = parse_client_frame(r#"{"type":"join_room","room_id":"nope"}"#);
        assert!(
            matches!(e, Err(AppError::BadRequest { ref message, .. }) if message.contains("invalid frame"))
        );
    }
}
