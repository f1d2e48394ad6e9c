//! Seed 004's per-room socket (`/ws/chat/{room_id}/`, `/ws/direct/{user_id}/`): its frames
//! (`message`, `typing`, `read_receipt`) translated into native frames for the room, and the
//! native events rendered as its `message`, `typing`, `user_joined`, `user_left` and `error`
//! frames. Joining and leaving are Confab's presence: a room socket sets the user's
//! `current_room` to its room (a native `update_presence`), so the others' sockets of the room
//! hear `user_joined`; the user going offline or to another room is `user_left`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use bytestring::ByteString;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::views::DrfMessage;
use crate::auth::AuthUser;
use crate::db::models::User;
use crate::protocol::frames::ServerFrame;
use crate::transport::Translate;

/// The native frames a room socket starts with: subscribe to the room, and be present in it.
pub fn first_frames(room_id: Uuid) -> Vec<String> {
    vec![
        json!({"type": "join_room", "room_id": room_id}).to_string(),
        json!({"type": "update_presence", "status": "online", "current_room": room_id}).to_string(),
    ]
}

/// The translation of one connection to one room.
pub struct RoomFrames {
    room_id: Uuid,
    user_id: Uuid,
    /// Others this connection was told joined (and not yet that they left).
    present: Mutex<HashSet<Uuid>>,
    /// What 004's frames call a user (`user`): the members' e-mail, else their username, as
    /// they were when the socket opened.
    names: HashMap<Uuid, String>,
}

impl RoomFrames {
    pub fn new(room_id: Uuid, user: &AuthUser, members: &[User]) -> Self {
        let names = members
            .iter()
            .filter_map(|u| {
                let name = u.email.clone().or_else(|| u.username.clone())?;
                Some((u.id, name))
            })
            .collect();
        RoomFrames {
            room_id,
            user_id: user.id,
            present: Mutex::new(HashSet::new()),
            names,
        }
    }

    /// 004's `user` of a frame: the e-mail or username, the user id for one who has neither
    /// (or joined after the socket opened).
    fn name(&self, user_id: Uuid) -> String {
        self.names
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| user_id.to_string())
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DrfFrame {
    Message {
        message: Box<DrfMessage>,
    },
    Typing {
        /// The user's e-mail (see `RoomFrames::name`).
        user: String,
        user_id: Uuid,
        is_typing: bool,
    },
    UserJoined {
        user: String,
        user_id: Uuid,
    },
    UserLeft {
        user: String,
        user_id: Uuid,
    },
    Error {
        error: String,
        code: String,
        message: String,
    },
}

impl Translate for RoomFrames {
    fn inbound(&self, text: &str) -> String {
        let (kind, mut seed) = match crate::dialects::seed_frame(text) {
            Ok(frame) => frame,
            Err(unchanged) => return unchanged,
        };
        let native = match kind.as_deref() {
            Some("message") => "send_message",
            Some("typing") => match seed.remove("is_typing") {
                Some(Value::Bool(false)) => "stop_typing",
                _ => "start_typing",
            },
            Some("read_receipt") => "mark_read",
            // Anything else is not a frame of this socket: the session refuses it by its name.
            Some(other) => return crate::dialects::not_a_frame(other),
            None => return Value::Object(seed).to_string(),
        };
        crate::dialects::room_frame(native, self.room_id, seed)
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
                user: self.name(user_id),
                user_id,
                is_typing,
            },
            ServerFrame::PresenceUpdate { presence } if presence.user_id != self.user_id => {
                let here =
                    presence.status != "offline" && presence.current_room == Some(self.room_id);
                self.arrival(presence.user_id, here)?
            }
            ServerFrame::Error { error, .. } => DrfFrame::Error {
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

impl RoomFrames {
    /// `user_joined` when a user arrives in the room, `user_left` when one who had goes; None
    /// when nothing changed for this connection.
    fn arrival(&self, user_id: Uuid, here: bool) -> Option<DrfFrame> {
        let mut present = self.present.lock().ok()?;
        let user = self.name(user_id);
        if here && present.insert(user_id) {
            Some(DrfFrame::UserJoined { user, user_id })
        } else if !here && present.remove(&user_id) {
            Some(DrfFrame::UserLeft { user, user_id })
        } else {
            None
        }
    }
}
