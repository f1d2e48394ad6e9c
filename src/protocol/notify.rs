//! A member's notification settings as REST answers and WebSocket acks show them (issue 14).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// My notification settings in a room.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct NotifyView {
    pub room_id: Uuid,
    /// What I am notified of when not looking: `all`, `mentions` or `none`.
    pub notify: String,
    /// Whether `notify` is the room type's default (I never chose).
    pub notify_default: bool,
    /// Muted until unmuted.
    pub muted: bool,
    /// Muted until then (null: no timed mute).
    #[serde(with = "crate::domain::time::millis_opt")]
    pub muted_until: Option<DateTime<Utc>>,
}

/// A field given as `null` is `Some(Null)` (clear it), unlike a field left out (`None`).
pub fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}
