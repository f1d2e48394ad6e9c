//! The webhook endpoints of a tenant as its admins manage them: the input rules (URL, events,
//! description), the secret made here and shown once, and the subscriptions cache told of each
//! change. Only trusted callers of the tenant get here (the routes take `ServiceUser`).

use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::Caller;
use crate::config::Settings;
use crate::db::hook_cursors;
use crate::db::webhooks::{self, Endpoint, EndpointPatch, HookGate, NewEndpoint};
use crate::db::{self};
use crate::domain::moderation::AuditAction;
use crate::domain::webhook::{check_url, new_secret, parse_events, secret_text, UrlRules};
use crate::error::{AppError, AppResult};

/// A description is at most this long.
const MAX_DESCRIPTION: usize = 500;

/// What an admin asks of an endpoint (every field optional for a PATCH).
pub struct EndpointDraft<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [String]>,
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
}

/// The draft's fields, checked: the URL as stored, the events, the description.
struct Checked {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
}

fn check(settings: &Settings, d: &EndpointDraft<'_>) -> AppResult<Checked> {
    let rules = UrlRules {
        allow_insecure_hosts: &settings.webhooks.allow_insecure_hosts,
    };
    let url = d
        .url
        .map(|u| check_url(u, &rules).map(|u| u.to_string()))
        .transpose()?;
    let events = d.events.map(parse_events).transpose()?;
    if let Some(text) = d.description {
        if text.chars().count() > MAX_DESCRIPTION || text.contains('\0') {
            return Err(AppError::bad_request(
                "description",
                "description must be at most 500 characters, without NUL",
            ));
        }
    }
    Ok(Checked {
        url,
        events,
        description: d.description.map(str::to_owned),
    })
}

/// Creates an endpoint; answers it and its secret (`whsec_…`), which is never shown again.
pub async fn create(
    conn: &mut db::Conn,
    gate: &HookGate,
    settings: &Settings,
    caller: &Caller,
    d: &EndpointDraft<'_>,
) -> AppResult<(Endpoint, String)> {
    let tenant = caller.tenant_id.uuid();
    let c = check(settings, d)?;
    let (Some(url), Some(events)) = (c.url, c.events) else {
        return Err(AppError::bad_request(
            if d.url.is_none() { "url" } else { "events" },
            "url and events are required",
        ));
    };
    let key = new_secret();
    let new = NewEndpoint {
        url: &url,
        events: &events,
        description: c.description.as_deref().unwrap_or(""),
        secret: &key,
    };
    let endpoint = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let endpoint = webhooks::create(c, tenant, &new).await?;
            // It is sent what is committed from now on.
            hook_cursors::start_now(c, endpoint.id).await?;
            let entry = Entry::new(AuditAction::WebhookCreate)
                .target(endpoint.id)
                .after(described(&endpoint));
            audit::record(c, caller, entry).await?;
            Ok(endpoint)
        })
        .await?;
    gate.forget(tenant);
    Ok((endpoint, secret_text(&key)))
}

/// Changes an endpoint of `tenant` (another tenant's is not found).
pub async fn update(
    conn: &mut db::Conn,
    gate: &HookGate,
    settings: &Settings,
    caller: &Caller,
    id: Uuid,
    d: &EndpointDraft<'_>,
) -> AppResult<Endpoint> {
    let tenant = caller.tenant_id.uuid();
    let c = check(settings, d)?;
    let patch = EndpointPatch {
        url: c.url.as_deref(),
        events: c.events.as_deref(),
        description: c.description.as_deref(),
        enabled: d.enabled,
    };
    let endpoint = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let Some(before) = webhooks::get(c, tenant, id).await? else {
                return Ok(None);
            };
            let Some(after) = webhooks::update(c, tenant, id, &patch).await? else {
                return Ok(None);
            };
            if after.enabled && !before.enabled {
                // Enabled again: what was committed while it was off is not sent.
                hook_cursors::start_now(c, id).await?;
            }
            let mut entry = Entry::new(AuditAction::WebhookUpdate).target(id);
            entry.before = Some(described(&before));
            audit::record(c, caller, entry.after(described(&after))).await?;
            Ok(Some(after))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    gate.forget(tenant);
    Ok(endpoint)
}

/// Deletes an endpoint of `tenant` and its deliveries.
pub async fn delete(
    conn: &mut db::Conn,
    gate: &HookGate,
    caller: &Caller,
    id: Uuid,
) -> AppResult<()> {
    let tenant = caller.tenant_id.uuid();
    let deleted = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let Some(before) = webhooks::get(c, tenant, id).await? else {
                return Ok(false);
            };
            webhooks::delete(c, tenant, id).await?;
            let mut entry = Entry::new(AuditAction::WebhookDelete).target(id);
            entry.before = Some(described(&before));
            audit::record(c, caller, entry).await?;
            Ok(true)
        })
        .await?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    gate.forget(tenant);
    Ok(())
}

/// What the audit log keeps of an endpoint (never its secrets).
fn described(e: &Endpoint) -> serde_json::Value {
    json!({"url": e.url, "events": e.events, "description": e.description, "enabled": e.enabled})
}

/// A new secret for an endpoint of `tenant`; the old one signs too for
/// `webhooks.rotation_overlap_secs`. Answers the endpoint and the new secret (shown once).
pub async fn rotate(
    conn: &mut db::Conn,
    settings: &Settings,
    caller: &Caller,
    id: Uuid,
) -> AppResult<(Endpoint, String)> {
    let tenant = caller.tenant_id.uuid();
    let key = new_secret();
    let overlap = settings.webhooks.rotation_overlap_secs as i64;
    let endpoint = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let Some(e) = webhooks::rotate(c, tenant, id, &key, overlap).await? else {
                return Ok(None);
            };
            let entry = Entry::new(AuditAction::WebhookRotate).target(id);
            audit::record(c, caller, entry).await?;
            Ok(Some(e))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((endpoint, secret_text(&key)))
}
