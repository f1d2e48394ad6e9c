//! `SetNotify`: a member's own notification settings in a room (`notify: all|mentions|none`,
//! `muted`, `muted_until`). Personal, like archiving: no room event, written through the store
//! after the policy's `AsMember` (anyone else, trusted callers too, is told `not_found`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::access;
use super::Caller;
use crate::config::Settings;
use crate::db::{self, notifications::NotifyChange, notifications::NotifySettings};
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::notify::NotifyView;

/// The notify levels a member may choose.
pub const LEVELS: [&str; 3] = ["all", "mentions", "none"];

#[derive(Debug, Clone)]
pub struct SetNotify {
    change: NotifyChange,
}

impl SetNotify {
    /// `notify` one of the levels; `muted` a boolean; `muted_until` an RFC 3339 time or null
    /// (unmute at that time / no timed mute). None of them changes nothing (as a room's PATCH).
    pub fn parse(
        notify: Option<&str>,
        muted: Option<bool>,
        muted_until: Option<&Value>,
    ) -> AppResult<SetNotify> {
        if let Some(n) = notify {
            if !LEVELS.contains(&n) {
                return Err(AppError::bad_request(
                    "notify",
                    "notify must be all, mentions or none",
                ));
            }
        }
        let until = match muted_until {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(
                DateTime::parse_from_rfc3339(s)
                    .map_err(|_| {
                        AppError::bad_request("muted_until", "muted_until must be an RFC 3339 time")
                    })?
                    .with_timezone(&Utc),
            )),
            Some(_) => {
                return Err(AppError::bad_request(
                    "muted_until",
                    "muted_until must be an RFC 3339 time or null",
                ))
            }
        };
        Ok(SetNotify {
            change: NotifyChange {
                notify: notify.map(str::to_owned),
                muted,
                muted_until: until,
            },
        })
    }

    /// Applies the change for the caller in `room_id`: the settings after it.
    pub async fn apply(
        &self,
        conn: &mut db::Conn,
        settings: &Settings,
        caller: &Caller,
        room_id: Uuid,
    ) -> AppResult<NotifyView> {
        access::room(conn, caller, room_id, Access::AsMember).await?;
        let defaults = settings.notifications.defaults();
        let s =
            db::notifications::set(conn, room_id, caller.user_id.uuid(), &self.change, defaults)
                .await?
                .ok_or(AppError::NotFound)?;
        Ok(view(room_id, s))
    }
}

/// The caller's settings in a room (members only).
pub async fn current(
    conn: &mut db::Conn,
    settings: &Settings,
    caller: &Caller,
    room_id: Uuid,
) -> AppResult<NotifyView> {
    access::room(conn, caller, room_id, Access::AsMember).await?;
    let defaults = settings.notifications.defaults();
    let s = db::notifications::get(conn, room_id, caller.user_id.uuid(), defaults)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(view(room_id, s))
}

/// The settings as the wire shows them (`notify` is the default's level when the member never
/// chose: the tenant's, else the server's).
pub fn view(room_id: Uuid, s: NotifySettings) -> NotifyView {
    NotifyView {
        room_id,
        notify_default: s.notify.is_none(),
        notify: s.level,
        muted: s.muted,
        muted_until: s.muted_until,
    }
}
