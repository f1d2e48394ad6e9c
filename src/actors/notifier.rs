//! The notifier: decides the notifications of a room `notifications.delay_secs` after its first
//! undecided message; every message of the room up to then is in the decision, so the messages
//! of one window are coalesced into one notification per recipient. Decisions are computed at
//! due time from the room's messages and each member's `last_read_seq` (a message read on any
//! device, edited or deleted meanwhile counts as it is then), and written, with the room's mark
//! taken and the members' `notified_seq` moved, in one transaction: a crash decides nothing
//! twice or never.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::config::Settings;
use crate::db::notifications::{DueRoom, Unread};
use crate::db::outbox::OutboxRow;
use crate::db::{self, DbPool};
use crate::domain::webhook::now_text;
use crate::error::AppResult;

/// Rooms one round decides at most.
const ROOMS_PER_ROUND: i64 = 50;

/// The `notification` event body.
#[derive(Serialize)]
struct Body {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    data: NotificationData,
}

/// Who should be told of what in one room: the coalesced unread messages of one recipient.
#[derive(Serialize)]
pub struct NotificationData {
    pub tenant_id: Uuid,
    pub room_id: Uuid,
    /// The seq of the newest message notified.
    pub seq: i64,
    pub recipient_id: Uuid,
    pub room_name: String,
    /// How many unread messages this notification stands for.
    pub count: usize,
    /// Whether one of them mentions the recipient.
    pub mention: bool,
    /// The newest of them (at most `notifications.max_messages`), oldest first, as they are now.
    pub messages: Vec<NotifiedMessage>,
}

#[derive(Serialize)]
pub struct NotifiedMessage {
    pub id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub message_type: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub edited: bool,
    pub mention: bool,
}

/// Decides one round of due rooms, each in its own short transaction (it holds the room's row,
/// as a commit does); answers how many notifications it wrote to the outbox.
pub async fn decide_due(pool: &DbPool, settings: &Settings) -> AppResult<usize> {
    let mut conn = pool.get().await?;
    let due = db::notifications::due(&mut conn, ROOMS_PER_ROUND).await?;
    let mut written = 0;
    for room in due {
        written += conn
            .transaction::<_, diesel::result::Error, _>(async |c| decide(c, settings, room).await)
            .await?;
    }
    Ok(written)
}

/// Decides one room, if its mark is still due and no one else holds it.
async fn decide(c: &mut db::Conn, settings: &Settings, room: Uuid) -> diesel::QueryResult<usize> {
    let n = &settings.notifications;
    let Some(room) = db::notifications::take(c, room).await? else {
        return Ok(0);
    };
    let defaults = (n.default_direct.as_str(), n.default_other.as_str());
    let cut = db::notifications::last_seq(c, room.room_id).await?;
    let unread = db::notifications::unread(c, room.room_id, cut, defaults).await?;
    let rows = notifications(&room, unread, n.max_messages.max(1));
    let delay = n.delay_secs as f64;
    db::notifications::decided(c, room.room_id, room.tenant_id, cut, delay).await?;
    db::outbox::enqueue(c, &rows).await?;
    Ok(rows.len())
}

/// One outbox row per recipient of `unread` (ordered by recipient, then seq).
fn notifications(room: &DueRoom, unread: Vec<Unread>, max: usize) -> Vec<OutboxRow> {
    let mut by_recipient: BTreeMap<Uuid, Vec<Unread>> = BTreeMap::new();
    for u in unread {
        by_recipient.entry(u.recipient_id).or_default().push(u);
    }
    by_recipient
        .into_iter()
        .filter_map(|(recipient, list)| {
            let last = list.last()?.seq;
            let data = NotificationData {
                tenant_id: room.tenant_id,
                room_id: room.room_id,
                seq: last,
                recipient_id: recipient,
                room_name: room.room_name.clone(),
                count: list.len(),
                mention: list.iter().any(|u| u.mention),
                messages: list
                    .iter()
                    .skip(list.len().saturating_sub(max))
                    .map(notified)
                    .collect(),
            };
            let body = Body {
                kind: "notification",
                timestamp: now_text(),
                data,
            };
            Some(OutboxRow {
                msg_id: format!(
                    "ntf_{}_{}_{last}",
                    room.room_id.simple(),
                    recipient.simple()
                ),
                tenant_id: room.tenant_id,
                kind: "notification",
                body: serde_json::to_string(&body).ok()?,
            })
        })
        .collect()
}

fn notified(u: &Unread) -> NotifiedMessage {
    NotifiedMessage {
        id: u.message_id,
        seq: u.seq,
        sender_id: u.sender_id,
        sender_name: u.sender_name.clone(),
        message_type: u.message_type.clone(),
        content: u.content.clone(),
        created_at: u.created_at,
        edited: u.edited_at.is_some(),
        mention: u.mention,
    }
}
