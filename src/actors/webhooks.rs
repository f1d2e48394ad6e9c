//! `WebhookWorker`: one per node. Every `webhooks.poll_ms` it decides the due notifications and
//! leases the endpoints whose oldest pending delivery is due (`FOR UPDATE SKIP LOCKED`, so nodes
//! share the outbox without sending one event twice at once); each leased endpoint is served by
//! its own task, in commit order, stopping at the first failure (retried later with the same
//! `webhook-id`). A slow receiver holds only its own task: ingest never waits for the worker,
//! and other endpoints go on.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use rand::Rng;

use super::notifier;
use crate::config::{Settings, WebhookSettings};
use crate::db::outbox::{Attempt, Pending};
use crate::db::webhooks::Endpoint;
use crate::db::{self, DbPool};
use crate::domain::webhook::{check_url, signature_header, UrlRules};
use crate::metrics::Metrics;

/// Deliveries one endpoint task sends before it lets the endpoint go (and others have a turn).
const PER_LEASE: i64 = 50;

/// What the worker's tasks share.
pub struct WorkerDeps {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    client: reqwest::Client,
}

pub struct WebhookWorker {
    deps: Arc<WorkerDeps>,
    /// Endpoints this node is sending to now.
    busy: Arc<Mutex<HashSet<uuid::Uuid>>>,
    ticking: bool,
}

impl WebhookWorker {
    pub fn new(
        pool: DbPool,
        settings: Arc<Settings>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        let client = client(&settings.webhooks)?;
        Ok(WebhookWorker {
            deps: Arc::new(WorkerDeps {
                pool,
                settings,
                metrics,
                client,
            }),
            busy: Arc::new(Mutex::new(HashSet::new())),
            ticking: false,
        })
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ticking {
            return;
        }
        self.ticking = true;
        let (deps, busy) = (self.deps.clone(), self.busy.clone());
        ctx.spawn(
            async move {
                match notifier::decide_due(&deps.pool, &deps.settings).await {
                    Ok(n) => {
                        deps.metrics
                            .webhook_notifications_total
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => log::warn!("deciding notifications: {e}"),
                }
                claim_and_send(deps, busy).await;
            }
            .into_actor(self)
            .map(|(), act, _| act.ticking = false),
        );
    }
}

impl Actor for WebhookWorker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let every = Duration::from_millis(self.deps.settings.webhooks.poll_ms);
        ctx.run_interval(every, |act, ctx| act.tick(ctx));
    }
}

/// The HTTP client: timeouts, no redirects, names resolved only to public addresses.
fn client(w: &WebhookSettings) -> Result<reqwest::Client, reqwest::Error> {
    crate::outbound::guarded_client(
        &w.allow_insecure_hosts,
        Duration::from_millis(w.timeout_ms),
        concat!("Confab-Webhooks/", env!("CARGO_PKG_VERSION")),
    )
}

/// Leases what is due (up to the free slots) and starts a task per endpoint.
async fn claim_and_send(deps: Arc<WorkerDeps>, busy: Arc<Mutex<HashSet<uuid::Uuid>>>) {
    let skip: Vec<uuid::Uuid> = busy
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .copied()
        .collect();
    let free = deps
        .settings
        .webhooks
        .max_parallel
        .saturating_sub(skip.len());
    if free == 0 {
        return;
    }
    let claimed = match deps.pool.get().await {
        Ok(mut conn) => {
            db::outbox::claim_endpoints(&mut conn, lease_secs(&deps), free as i64, &skip).await
        }
        Err(e) => {
            log::warn!("claiming webhook endpoints: {e}");
            return;
        }
    };
    let claimed = match claimed {
        Ok(c) => c,
        Err(e) => {
            log::warn!("claiming webhook endpoints: {e}");
            return;
        }
    };
    for endpoint in claimed {
        busy.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(endpoint.id);
        let (deps, busy) = (deps.clone(), busy.clone());
        actix_web::rt::spawn(async move {
            let id = endpoint.id;
            if let Err(e) = serve(&deps, &endpoint).await {
                log::warn!("webhook endpoint {id}: {e}");
            }
            busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        });
    }
}

/// How long a lease lasts: one attempt's timeout and a margin (renewed after each attempt).
fn lease_secs(deps: &WorkerDeps) -> f64 {
    deps.settings.webhooks.timeout_ms as f64 / 1000.0 + 5.0
}

/// Sends the endpoint's due deliveries in order, batch after batch while each went whole (so a
/// busy endpoint is not left waiting for the next tick), until one fails or none is due; then
/// lets the endpoint go.
async fn serve(deps: &WorkerDeps, endpoint: &Endpoint) -> crate::error::AppResult<()> {
    while serve_batch(deps, endpoint).await? {}
    let mut conn = deps.pool.get().await?;
    db::outbox::release(&mut conn, endpoint.id).await?;
    Ok(())
}

/// Sends up to `PER_LEASE` due deliveries in order (each attempt renews the lease); answers
/// whether a full batch went, so more may be waiting.
async fn serve_batch(deps: &WorkerDeps, endpoint: &Endpoint) -> crate::error::AppResult<bool> {
    let pending = {
        let mut conn = deps.pool.get().await?;
        db::outbox::pending(&mut conn, endpoint.id, PER_LEASE).await?
    };
    for p in &pending {
        if p.next_attempt_at > Utc::now() {
            return Ok(false);
        }
        let attempt = send(deps, endpoint, p).await;
        let failed = !matches!(attempt.0, Outcome::Delivered(_));
        let mut conn = deps.pool.get().await?;
        record(deps, &mut conn, endpoint, p, attempt).await?;
        if failed {
            return Ok(false);
        }
    }
    Ok(pending.len() as i64 == PER_LEASE)
}

enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

/// One signed POST of a delivery; answers how it went and how long it took.
async fn send(deps: &WorkerDeps, endpoint: &Endpoint, p: &Pending) -> (Outcome, Duration) {
    let started = Instant::now();
    let rules = UrlRules {
        allow_insecure_hosts: &deps.settings.webhooks.allow_insecure_hosts,
    };
    let url = match check_url(&endpoint.url, &rules) {
        Ok(u) => u,
        Err(e) => return (Outcome::Failed(None, e.to_string()), started.elapsed()),
    };
    let now = Utc::now();
    let timestamp = now.timestamp();
    let mut keys: Vec<&[u8]> = vec![&endpoint.secret];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_until) {
        if until > now {
            keys.push(old);
        }
    }
    let signature = signature_header(&keys, &p.msg_id, timestamp, &p.body);
    let result = deps
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &p.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(p.body.clone())
        .send()
        .await;
    let outcome = match result {
        Ok(r) if r.status().is_success() => Outcome::Delivered(r.status().as_u16()),
        Ok(r) => Outcome::Failed(
            Some(r.status().as_u16()),
            format!("answered {}", r.status()),
        ),
        Err(e) => Outcome::Failed(None, error_text(&e)),
    };
    (outcome, started.elapsed())
}

/// A transport error without the URL (which the deliveries list shows apart).
fn error_text(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// Records an attempt (and the metrics); a failure is retried after the backoff, or given up
/// once the delivery has failed for `webhooks.give_up_after_secs`.
async fn record(
    deps: &WorkerDeps,
    conn: &mut db::Conn,
    endpoint: &Endpoint,
    p: &Pending,
    (outcome, took): (Outcome, Duration),
) -> crate::error::AppResult<()> {
    let m = &deps.metrics;
    m.webhook_attempts_total.fetch_add(1, Ordering::Relaxed);
    m.webhook_attempt_micros_total
        .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    let attempt = match &outcome {
        Outcome::Delivered(status) => {
            m.webhook_delivered_total.fetch_add(1, Ordering::Relaxed);
            Attempt::Delivered {
                status: i32::from(*status),
            }
        }
        Outcome::Failed(status, error) => {
            m.webhook_failures_total.fetch_add(1, Ordering::Relaxed);
            let next = next_attempt(&deps.settings.webhooks, p.attempts, p.window_start);
            if next.is_none() {
                m.webhook_given_up_total.fetch_add(1, Ordering::Relaxed);
            }
            Attempt::Failed {
                status: status.map(i32::from),
                error,
                next,
            }
        }
    };
    db::outbox::record(conn, endpoint.id, p.id, &attempt, lease_secs(deps)).await?;
    Ok(())
}

/// When to try again after `attempts` earlier failures: base × 2^attempts (at most the maximum),
/// ±20 % jitter; None once the retry window since `window_start` is over.
fn next_attempt(
    w: &WebhookSettings,
    attempts: i32,
    window_start: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let now = Utc::now();
    let window = chrono::Duration::seconds(w.give_up_after_secs as i64);
    if now - window_start >= window {
        return None;
    }
    let exp = 2f64.powi(attempts.clamp(0, 30));
    let wait_ms = (w.backoff_base_ms as f64 * exp).min(w.backoff_max_secs as f64 * 1000.0);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    let next = now + chrono::Duration::milliseconds((wait_ms * jitter) as i64);
    Some(next.min(window_start + window))
}
