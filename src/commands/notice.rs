//! Membership notices (seed 001's "system messages" for joins and leaves): with
//! `realtime.membership_messages` on, a user joining a room or leaving it also posts a `system`
//! message ("Ann joined the room"), written and announced in the same transaction as the
//! membership change, with the next seq.

use chrono::{SubsecRound, Utc};
use serde_json::json;
use uuid::Uuid;

use super::batch::{Batch, Shared};
use super::outcome::Event;
use super::Caller;
use crate::db::models::Message;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::MessageView;

/// The `system` message of `caller` joining (or leaving) the room, when the setting asks for it.
pub fn membership(
    b: &mut Batch<'_>,
    shared: &mut Shared,
    caller: &Caller,
    joined: bool,
) -> Option<Event> {
    if !b.settings.realtime.membership_messages {
        return None;
    }
    let (verb, action) = if joined {
        ("joined", "user_joined")
    } else {
        ("left", "user_left")
    };
    let user_id = caller.user_id.uuid();
    let m = Message {
        id: Uuid::new_v4(),
        room_id: b.room.id,
        tenant_id: b.room.tenant_id,
        seq: b.seq + 1,
        sender_id: user_id,
        message_type: "system".into(),
        content: format!("{} {verb} the room", caller.display_name),
        attachment_id: None,
        reply_to: None,
        reply_count: 0,
        mentions: Vec::new(),
        metadata: Some(json!({"action": action, "user_id": user_id})),
        client_id: None,
        created_at: Utc::now().trunc_subsecs(6),
        edited_at: None,
        is_deleted: false,
        deleted_at: None,
    };
    b.last_message_at = Some(m.created_at);
    let view = MessageView::build(&m, caller.display_name.clone(), Vec::new(), None);
    shared.sent.push(m);
    let room_id = b.room.id;
    Some(b.event(|seq| ServerFrame::NewMessage {
        room_id,
        seq,
        message: view,
    }))
}
