//! Recording moderation and administrative actions in the audit log, inside the transaction of
//! the action (so an action and its entry are written together or not at all).

use serde_json::{json, Value};
use uuid::Uuid;

use super::Caller;
use crate::db;
use crate::db::audit::NewAudit;
use crate::domain::moderation::AuditAction;

/// One action to record: what, where, on what, and the state before and after.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: AuditAction,
    pub room_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entry {
    pub fn new(action: AuditAction) -> Entry {
        Entry {
            action,
            room_id: None,
            target_id: None,
            before: None,
            after: None,
        }
    }

    pub fn room(mut self, room_id: Uuid) -> Entry {
        self.room_id = Some(room_id);
        self
    }

    pub fn target(mut self, target_id: Uuid) -> Entry {
        self.target_id = Some(target_id);
        self
    }

    /// The state before and after, as `{key: value}` objects.
    pub fn change(mut self, key: &str, before: impl Into<Value>, after: impl Into<Value>) -> Entry {
        self.before = Some(json!({ key: before.into() }));
        self.after = Some(json!({ key: after.into() }));
        self
    }

    pub fn after(mut self, after: Value) -> Entry {
        self.after = Some(after);
        self
    }
}

/// Writes `entry` as done by `caller` in the caller's tenant.
pub async fn record(c: &mut db::Conn, caller: &Caller, entry: Entry) -> diesel::QueryResult<()> {
    db::audit::record(
        c,
        &NewAudit {
            tenant_id: caller.tenant_id.uuid(),
            actor_id: caller.user_id.uuid(),
            action: entry.action.as_str(),
            room_id: entry.room_id,
            target_id: entry.target_id,
            before: entry.before,
            after: entry.after,
        },
    )
    .await
}

/// A user token was minted for `user_id` (valid `ttl_secs`).
pub async fn token_minted(
    c: &mut db::Conn,
    caller: &Caller,
    user_id: Uuid,
    ttl_secs: i64,
) -> diesel::QueryResult<()> {
    let entry = Entry::new(AuditAction::TokenMint)
        .target(user_id)
        .after(json!({ "ttl_secs": ttl_secs }));
    record(c, caller, entry).await
}
