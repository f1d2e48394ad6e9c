//! Seed 004's per-room socket (`/ws/chat/{room_id}/`, `/ws/direct/{user_id}/`): its frames
//! (`message`, `typing`, `read_receipt`) translated into native frames for the room, and the
//! native events rendered as its `message`, `typing` and `error` frames.

use bytestring::ByteString;
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::views::DrfMessage;
use crate::auth::AuthUser;
use crate::protocol::frames::ServerFrame;
use crate::transport::Translate;

/// The native frame that subscribes the connection to its room.
pub fn join_frame(room_id: Uuid) -> String {
    json!({"type": "join_room", "room_id": room_id}).to_string()
}

/// The translation of one connection to one room.
pub struct RoomFrames {
    room_id: Uuid,
    user_id: Uuid,
}

impl RoomFrames {
    pub fn new(room_id: Uuid, user: &AuthUser) -> Self {
        RoomFrames {
            room_id,
            user_id: user.id,
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DrfFrame {
    Message {
        message: Box<DrfMessage>,
    },
    Typing {
        /// 004 sends the user's e-mail; Confab has none and sends the user id.
        user: String,
        user_id: Uuid,
        is_typing: bool,
    },
    Error {
        error: String,
        code: String,
        message: String,
    },
}

impl Translate for RoomFrames {
    fn inbound(&self, text: &str) -> String {
        let Ok(Value::Object(mut seed)) = serde_json::from_str::<Value>(text) else {
            // Not an object: the session answers its parse error.
            return text.to_owned();
        };
        let kind = seed
            .remove("type")
            .and_then(|t| t.as_str().map(str::to_owned));
        let native = match kind.as_deref() {
            Some("message") => "send_message",
            Some("typing") => match seed.remove("is_typing") {
                Some(Value::Bool(false)) => "stop_typing",
                _ => "start_typing",
            },
            Some("read_receipt") => "mark_read",
            // Anything else is not a frame of this socket: the session refuses it by its name.
            Some(other) => {
                return json!({ "type": format!("{other} (not a frame of this socket)") })
                    .to_string()
            }
            None => return Value::Object(seed).to_string(),
        };
        let mut frame = Map::new();
        frame.insert("type".into(), native.into());
        frame.insert("room_id".into(), self.room_id.to_string().into());
        for (k, v) in seed {
            frame.entry(k).or_insert(v);
        }
        Value::Object(frame).to_string()
    }

    fn outbound(&self, text: &str) -> Option<ByteString> {
        let frame = match serde_json::from_str::<ServerFrame>(text).ok()? {
            ServerFrame::NewMessage {
                room_id, message, ..
            } if room_id == self.room_id => DrfFrame::Message {
                message: Box::new(DrfMessage::from_view(&message, Vec::new())),
            },
            ServerFrame::TypingIndicator {
                room_id,
                user_id,
                is_typing,
            } if room_id == self.room_id && user_id != self.user_id => DrfFrame::Typing {
                user: user_id.to_string(),
                user_id,
                is_typing,
            },
            ServerFrame::Error { error, .. } => DrfFrame::Error {
                error: error.message.clone(),
                code: error.code,
                message: error.message,
            },
            _ => return None,
        };
        serde_json::to_string(&frame).ok().map(ByteString::from)
    }
}
