//! A tenant's notification defaults: what members who never chose are notified of, in direct
//! rooms and in the others. Admins set or clear them (audited); without them the server's
//! `notifications.default_direct` / `default_other` apply. The level itself is one SQL rule
//! (`notify_level`, used by room lists, `members/me` and the notifier).

use diesel_async::AsyncConnection;
use serde_json::Value;

use super::audit::{self, Entry};
use super::notify_settings::LEVELS;
use super::Caller;
use crate::config::Settings;
use crate::db;
use crate::db::notify_defaults::TenantDefaults;
use crate::domain::moderation::AuditAction;
use crate::error::{AppError, AppResult};

/// The defaults that apply to the caller's tenant, and whether they are the tenant's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub defaults: TenantDefaults,
    pub tenant_set: bool,
}

/// Checks the two levels (each one of `all`, `mentions`, `none`; the error names the field).
pub fn parse(direct: &str, other: &str) -> AppResult<TenantDefaults> {
    for (field, level) in [("direct", direct), ("other", other)] {
        if !LEVELS.contains(&level) {
            return Err(AppError::bad_request(
                field,
                format!("{field} must be all, mentions or none"),
            ));
        }
    }
    Ok(TenantDefaults {
        direct: direct.to_owned(),
        other: other.to_owned(),
    })
}

/// The caller's tenant's defaults: its own, else the server's.
pub async fn get(
    conn: &mut db::Conn,
    caller: &Caller,
    settings: &Settings,
) -> AppResult<Effective> {
    let own = db::notify_defaults::get(conn, caller.tenant_id.uuid()).await?;
    Ok(effective(settings, own))
}

/// Sets (Some) or clears (None) the caller's tenant's defaults, audited with before and after.
pub async fn set(
    conn: &mut db::Conn,
    caller: &Caller,
    settings: &Settings,
    to: Option<TenantDefaults>,
) -> AppResult<Effective> {
    let tenant = caller.tenant_id.uuid();
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let before = db::notify_defaults::get(c, tenant).await?;
        db::notify_defaults::set(c, tenant, to.as_ref()).await?;
        let entry = Entry {
            before: Some(as_value(before.as_ref())),
            after: Some(as_value(to.as_ref())),
            ..Entry::new(AuditAction::NotifyDefaultsSet)
        };
        audit::record(c, caller, entry).await
    })
    .await?;
    Ok(effective(settings, to))
}

fn effective(settings: &Settings, own: Option<TenantDefaults>) -> Effective {
    let n = &settings.notifications;
    Effective {
        tenant_set: own.is_some(),
        defaults: own.unwrap_or_else(|| TenantDefaults {
            direct: n.default_direct.clone(),
            other: n.default_other.clone(),
        }),
    }
}

/// The tenant's own defaults as the audit log keeps them (null: the server's).
fn as_value(d: Option<&TenantDefaults>) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}
