//! Seed 003's sockets. `ws/chat/{conversation_id}/` (with `dialects.room_socket = "wasgo"` or
//! `?dialect=wasgo`): its client frames (`send_message`, `typing`, `mark_read {message_ids}`,
//! `edit_message`, `delete_message`, `react`) become native frames for the room, and native
//! events become its `new_message`, `typing`, `messages_read`, `message_edited`,
//! `message_deleted`, `reaction_update {action}` and `error` frames. `ws/notifications/`: the
//! user's rooms, rendered as `notification` frames.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytestring::ByteString;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::views::WasgoMessage;
use crate::protocol::frames::ServerFrame;
use crate::transport::Translate;

/// How many message ids a socket remembers for `messages_read`.
const REMEMBERED: usize = 2000;

/// The translation of one connection to one conversation.
pub struct ConversationFrames {
    room_id: Uuid,
    user_id: Uuid,
    /// Usernames of the conversation's participants, by id.
    names: Mutex<HashMap<Uuid, String>>,
    /// The messages this connection has seen, by seq: a read receipt names those it covers.
    seen: Mutex<BTreeMap<i64, Uuid>>,
    /// Per reader, the seq up to which its reads were already told.
    told: Mutex<HashMap<Uuid, i64>>,
}

impl ConversationFrames {
    pub fn new(room_id: Uuid, user_id: Uuid, names: HashMap<Uuid, String>) -> Self {
        ConversationFrames {
            room_id,
            user_id,
            names: Mutex::new(names),
            seen: Mutex::new(BTreeMap::new()),
            told: Mutex::new(HashMap::new()),
        }
    }

    fn name(&self, id: Uuid) -> String {
        self.names
            .lock()
            .ok()
            .and_then(|n| n.get(&id).cloned())
            .unwrap_or_else(|| id.to_string())
    }

    /// The ids of the seen messages in (what was told for `reader`, `upto`].
    fn newly_read(&self, reader: Uuid, upto: i64) -> Vec<Uuid> {
        let (Ok(seen), Ok(mut told)) = (self.seen.lock(), self.told.lock()) else {
            return Vec::new();
        };
        let from = told.insert(reader, upto).unwrap_or(0);
        seen.range(from + 1..=upto).map(|(_, id)| *id).collect()
    }

    fn remember(&self, m: &WasgoMessage) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(m.seq, m.id);
            while seen.len() > REMEMBERED {
                seen.pop_first();
            }
        }
        if let Ok(mut names) = self.names.lock() {
            names
                .entry(m.sender.id)
                .or_insert(m.sender.username.clone());
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WasgoFrame {
    NewMessage {
        message: Box<WasgoMessage>,
    },
    Typing {
        user_id: Uuid,
        username: String,
        is_typing: bool,
    },
    MessagesRead {
        message_ids: Vec<Uuid>,
        user_id: Uuid,
    },
    MessageEdited {
        message: Box<WasgoMessage>,
    },
    MessageDeleted {
        message_id: Uuid,
    },
    ReactionUpdate {
        message_id: Uuid,
        user_id: Uuid,
        username: String,
        emoji: String,
        action: &'static str,
    },
    Error {
        error: String,
        code: String,
        message: String,
    },
}

impl Translate for ConversationFrames {
    fn inbound(&self, text: &str) -> String {
        let (kind, mut seed) = match crate::dialects::seed_frame(text) {
            Ok(frame) => frame,
            Err(unchanged) => return unchanged,
        };
        let native = match kind.as_deref() {
            Some("send_message") | Some("edit_message") | Some("delete_message") => {
                kind.clone().unwrap_or_default()
            }
            Some("typing") => match seed.remove("is_typing") {
                Some(Value::Bool(false)) => "stop_typing".into(),
                _ => "start_typing".into(),
            },
            Some("mark_read") => "mark_read".into(),
            Some("react") => {
                seed.insert("toggle".into(), true.into());
                "add_reaction".into()
            }
            Some(other) => return crate::dialects::not_a_frame(other),
            None => return Value::Object(seed).to_string(),
        };
        crate::dialects::room_frame(&native, self.room_id, seed)
    }

    fn outbound(&self, text: &str) -> Option<ByteString> {
        let frame = match serde_json::from_str::<ServerFrame>(text).ok()? {
            ServerFrame::NewMessage {
                room_id, message, ..
            } if room_id == self.room_id => {
                let known = self
                    .names
                    .lock()
                    .ok()
                    .and_then(|n| n.get(&message.sender.id).cloned());
                let m = WasgoMessage::from_view(&message, known.as_deref());
                self.remember(&m);
                WasgoFrame::NewMessage {
                    message: Box::new(m),
                }
            }
            // Issue 20: a link preview is no edit, and seed 003 shows no previews.
            ServerFrame::MessageUpdated { message, .. }
                if message.edited_at.is_none() && message.link_preview.is_some() =>
            {
                return None
            }
            ServerFrame::MessageUpdated {
                room_id, message, ..
            } if room_id == self.room_id => WasgoFrame::MessageEdited {
                message: Box::new(WasgoMessage::from_view(
                    &message,
                    Some(&self.name(message.sender.id)),
                )),
            },
            ServerFrame::MessageDeleted {
                room_id,
                message_id,
                ..
            } if room_id == self.room_id => WasgoFrame::MessageDeleted { message_id },
            ServerFrame::TypingIndicator {
                room_id,
                user_id,
                is_typing,
            } if room_id == self.room_id && user_id != self.user_id => WasgoFrame::Typing {
                user_id,
                username: self.name(user_id),
                is_typing,
            },
            ServerFrame::ReadReceipt {
                room_id,
                user_id,
                last_read_seq,
                ..
            } if room_id == self.room_id => WasgoFrame::MessagesRead {
                message_ids: self.newly_read(user_id, last_read_seq),
                user_id,
            },
            ServerFrame::ReactionAdded {
                room_id, reaction, ..
            } if room_id == self.room_id => self.reaction(
                reaction.message_id,
                reaction.user_id,
                reaction.emoji,
                "added",
            ),
            ServerFrame::ReactionRemoved {
                room_id,
                message_id,
                user_id,
                emoji,
                ..
            } if room_id == self.room_id => self.reaction(message_id, user_id, emoji, "removed"),
            ServerFrame::MemberJoined {
                room_id, member, ..
            } if room_id == self.room_id => {
                let name = member.user.username.unwrap_or(member.user.display_name);
                if let Ok(mut names) = self.names.lock() {
                    names.insert(member.user.id, name);
                }
                return None;
            }
            ServerFrame::Error { error, .. } => WasgoFrame::Error {
                error: error.message.clone(),
                code: error.code,
                message: error.message,
            },
            ServerFrame::Blocks { .. } => return crate::dialects::as_is(text),
            _ => return None,
        };
        serde_json::to_string(&frame).ok().map(ByteString::from)
    }
}

impl ConversationFrames {
    fn reaction(
        &self,
        message_id: Uuid,
        user_id: Uuid,
        emoji: String,
        action: &'static str,
    ) -> WasgoFrame {
        WasgoFrame::ReactionUpdate {
            message_id,
            user_id,
            username: self.name(user_id),
            emoji,
            action,
        }
    }
}

/// `ws/notifications/`: the native frames of the user's rooms, as 003's notifications. A new
/// message from someone else, a mention and a new conversation each are a `notification`.
pub struct NotificationFrames {
    user_id: Uuid,
}

impl NotificationFrames {
    pub fn new(user_id: Uuid) -> Self {
        NotificationFrames { user_id }
    }
}

/// One notification (the Channels consumer's `{"type": "notification", "notification": …}`).
#[derive(Serialize)]
struct Notification {
    notification_type: &'static str,
    title: String,
    message: String,
    conversation_id: Uuid,
    data: Value,
}

impl Translate for NotificationFrames {
    fn inbound(&self, text: &str) -> String {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) if o.get("type") == Some(&json!("ping")) => {
                json!({"type": "ping"}).to_string()
            }
            Ok(Value::Object(o)) => {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
                crate::dialects::not_a_frame(kind)
            }
            _ => text.to_owned(),
        }
    }

    fn outbound(&self, text: &str) -> Option<ByteString> {
        let note = match serde_json::from_str::<ServerFrame>(text).ok()? {
            ServerFrame::NewMessage {
                room_id, message, ..
            } if message.sender.id != self.user_id => Notification {
                notification_type: "new_message",
                title: format!("New message from {}", message.sender.display_name),
                message: message.content.clone(),
                conversation_id: room_id,
                data: json!({"message": WasgoMessage::from_view(&message, None)}),
            },
            ServerFrame::Mention { room_id, message } => Notification {
                notification_type: "mention",
                title: format!("{} mentioned you", message.sender.display_name),
                message: message.content.clone(),
                conversation_id: room_id,
                data: json!({"message": WasgoMessage::from_view(&message, None)}),
            },
            ServerFrame::RoomAdded { room } => Notification {
                notification_type: "conversation_added",
                title: room.name.clone(),
                message: format!("You were added to {}", room.name),
                conversation_id: room.id,
                data: json!({}),
            },
            ServerFrame::Pong => return Some(json!({"type": "pong"}).to_string().into()),
            ServerFrame::Error { error, .. } => {
                let e = json!({"type": "error", "error": error.message, "code": error.code, "message": error.message});
                return Some(e.to_string().into());
            }
            ServerFrame::Blocks { .. } => return crate::dialects::as_is(text),
            _ => return None,
        };
        let frame = json!({"type": "notification", "notification": note});
        Some(frame.to_string().into())
    }
}
