//! One signed webhook POST (Standard Webhooks headers), what it came to, the metrics it counts,
//! and when a failed delivery is tried again.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;

use super::webhooks::WorkerDeps;
use crate::config::WebhookSettings;
use crate::db::webhooks::Endpoint;
use crate::domain::webhook::{check_url, signature_header, UrlRules};
use crate::outbound::post::Poster;

/// The HTTP sender: kept-alive connections, timeouts, no redirects, names resolved only to
/// public addresses.
pub(super) fn poster(w: &WebhookSettings) -> Result<Poster, rustls::Error> {
    Poster::new(
        &w.allow_insecure_hosts,
        Duration::from_millis(w.timeout_ms),
        concat!("Confab-Webhooks/", env!("CARGO_PKG_VERSION")),
    )
}

/// How one attempt went.
pub(super) enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

/// One signed POST of event `msg_id`; answers how it went (counted in the metrics).
pub(super) async fn send(
    deps: &WorkerDeps,
    endpoint: &Endpoint,
    msg_id: &str,
    body: &str,
) -> Outcome {
    let started = Instant::now();
    let outcome = post(deps, endpoint, msg_id, body).await;
    let m = &deps.metrics;
    m.webhook_attempts_total.fetch_add(1, Ordering::Relaxed);
    m.webhook_attempt_micros_total
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    match &outcome {
        Outcome::Delivered(_) => m.webhook_delivered_total.fetch_add(1, Ordering::Relaxed),
        Outcome::Failed(..) => m.webhook_failures_total.fetch_add(1, Ordering::Relaxed),
    };
    outcome
}

async fn post(deps: &WorkerDeps, endpoint: &Endpoint, msg_id: &str, body: &str) -> Outcome {
    let rules = UrlRules {
        allow_insecure_hosts: &deps.settings.webhooks.allow_insecure_hosts,
    };
    let url = match check_url(&endpoint.url, &rules) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(None, e.to_string()),
    };
    let now = Utc::now();
    let timestamp = now.timestamp();
    let mut keys: Vec<&[u8]> = vec![&endpoint.secret];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_until) {
        if until > now {
            keys.push(old);
        }
    }
    let signature = signature_header(&keys, msg_id, timestamp, body);
    let timestamp = timestamp.to_string();
    let headers = [
        ("content-type", "application/json"),
        ("webhook-id", msg_id),
        ("webhook-timestamp", &timestamp),
        ("webhook-signature", &signature),
    ];
    match deps.poster.post(&url, &headers, body.as_bytes()).await {
        Ok(status) if (200..300).contains(&status) => Outcome::Delivered(status),
        Ok(status) => Outcome::Failed(Some(status), answered(status)),
        // Without the URL, which the deliveries list shows apart.
        Err(e) => Outcome::Failed(None, e.to_string().chars().take(500).collect()),
    }
}

/// "answered 500 Internal Server Error".
fn answered(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status) {
        Ok(s) => format!("answered {s}"),
        Err(_) => format!("answered {status}"),
    }
}

/// When to try again after `attempts` earlier failures: base × 2^attempts (at most the maximum),
/// ±20 % jitter; None once the retry window since `window_start` is over (counted as given up).
pub(super) fn next_attempt(
    deps: &WorkerDeps,
    attempts: i32,
    window_start: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let w = &deps.settings.webhooks;
    let now = Utc::now();
    let window = chrono::Duration::seconds(w.give_up_after_secs as i64);
    if now - window_start >= window {
        deps.metrics
            .webhook_given_up_total
            .fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let exp = 2f64.powi(attempts.clamp(0, 30));
    let wait_ms = (w.backoff_base_ms as f64 * exp).min(w.backoff_max_secs as f64 * 1000.0);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    let next = now + chrono::Duration::milliseconds((wait_ms * jitter) as i64);
    Some(next.min(window_start + window))
}
