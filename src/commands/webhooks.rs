//! The webhook endpoints of a tenant as its admins manage them: the input rules (URL, events,
//! description), the secret made here and shown once, and the subscriptions cache told of each
//! change. Only trusted callers of the tenant get here (the routes take `ServiceUser`).

use uuid::Uuid;

use crate::config::Settings;
use crate::db::webhooks::{self, Endpoint, EndpointPatch, HookGate, NewEndpoint};
use crate::db::{self};
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
    tenant: Uuid,
    d: &EndpointDraft<'_>,
) -> AppResult<(Endpoint, String)> {
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
    let endpoint = webhooks::create(conn, tenant, &new).await?;
    gate.forget(tenant);
    Ok((endpoint, secret_text(&key)))
}

/// Changes an endpoint of `tenant` (another tenant's is not found).
pub async fn update(
    conn: &mut db::Conn,
    gate: &HookGate,
    settings: &Settings,
    tenant: Uuid,
    id: Uuid,
    d: &EndpointDraft<'_>,
) -> AppResult<Endpoint> {
    let c = check(settings, d)?;
    let patch = EndpointPatch {
        url: c.url.as_deref(),
        events: c.events.as_deref(),
        description: c.description.as_deref(),
        enabled: d.enabled,
    };
    let endpoint = webhooks::update(conn, tenant, id, &patch)
        .await?
        .ok_or(AppError::NotFound)?;
    gate.forget(tenant);
    Ok(endpoint)
}

/// Deletes an endpoint of `tenant` and its deliveries.
pub async fn delete(conn: &mut db::Conn, gate: &HookGate, tenant: Uuid, id: Uuid) -> AppResult<()> {
    if !webhooks::delete(conn, tenant, id).await? {
        return Err(AppError::NotFound);
    }
    gate.forget(tenant);
    Ok(())
}

/// A new secret for an endpoint of `tenant`; the old one signs too for
/// `webhooks.rotation_overlap_secs`. Answers the endpoint and the new secret (shown once).
pub async fn rotate(
    conn: &mut db::Conn,
    settings: &Settings,
    tenant: Uuid,
    id: Uuid,
) -> AppResult<(Endpoint, String)> {
    let key = new_secret();
    let overlap = settings.webhooks.rotation_overlap_secs as i64;
    let endpoint = webhooks::rotate(conn, tenant, id, &key, overlap)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((endpoint, secret_text(&key)))
}
