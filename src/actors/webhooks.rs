//! `WebhookWorker`: one per node. Every `webhooks.poll_ms` it decides the due notifications and
//! leases the endpoints with something to send (`FOR UPDATE SKIP LOCKED`, so nodes share the
//! work without sending one event twice at once): an outbox delivery that is due, or room events
//! past the endpoint's cursors in the rooms this node's commits hinted at (every
//! `webhooks.rescan_secs`: in every room, which finds other nodes' commits and what a crash
//! left). Each leased endpoint is served by its own task, in commit order, stopping at the first
//! failure (retried later with the same `webhook-id`). A slow receiver holds only its own task:
//! ingest never waits for the worker, and other endpoints go on.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix::{Arbiter, ArbiterHandle};
use chrono::Utc;

use super::hook_send::{self, next_attempt, Outcome};
use super::{hook_rooms, notifier};
use crate::config::Settings;
use crate::db::hook_cursors::{self, Target, TargetQuery};
use crate::db::outbox::{Attempt, Claim, Pending};
use crate::db::webhooks::{Endpoint, HookGate};
use crate::db::{self, DbPool};
use crate::error::AppResult;
use crate::metrics::Metrics;
use crate::outbound::post::Poster;

/// Deliveries one endpoint task reads from the outbox at a time.
const PER_LEASE: i64 = 50;

/// What the worker's tasks share.
pub struct WorkerDeps {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub(super) poster: Poster,
    gate: Arc<HookGate>,
}

pub struct WebhookWorker {
    deps: Arc<WorkerDeps>,
    /// Endpoints this node is sending to now.
    busy: Arc<Mutex<HashSet<uuid::Uuid>>>,
    ticking: bool,
    rescanned: Option<Instant>,
}

impl WebhookWorker {
    pub fn new(
        pool: DbPool,
        settings: Arc<Settings>,
        metrics: Arc<Metrics>,
        gate: Arc<HookGate>,
    ) -> Result<Self, rustls::Error> {
        let poster = hook_send::poster(&settings.webhooks)?;
        Ok(WebhookWorker {
            deps: Arc::new(WorkerDeps {
                pool,
                settings,
                metrics,
                poster,
                gate,
            }),
            busy: Arc::new(Mutex::new(HashSet::new())),
            ticking: false,
            rescanned: None,
        })
    }

    /// Starts the worker on a thread of its own; with `webhooks.idle_priority` that thread only
    /// has the cores the threads that take and commit messages leave (when they are busy,
    /// deliveries wait in Postgres and ingest does not). The thread runs until the handle
    /// answered is told to stop (`AppState` does when it is dropped).
    pub fn start_in_background(self) -> ArbiterHandle {
        let arbiter = Arbiter::new().handle();
        if self.deps.settings.webhooks.idle_priority {
            arbiter.spawn_fn(idle_priority);
        }
        Self::start_in_arbiter(&arbiter, move |_| self);
        arbiter
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ticking {
            return;
        }
        self.ticking = true;
        let every = Duration::from_secs(self.deps.settings.webhooks.rescan_secs);
        let rescan = self.rescanned.is_none_or(|at| at.elapsed() >= every);
        if rescan {
            self.rescanned = Some(Instant::now());
        }
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
                claim_and_send(deps, busy, rescan).await;
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

/// Puts the calling thread in Linux's idle scheduling class (`SCHED_IDLE`): it runs when no
/// other thread wants a core, and any other thread that wakes takes the core from it at once.
fn idle_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: gettid has no preconditions; sched_setscheduler reads `param`, which outlives the
    // call, and only lowers this thread's own priority. A failure is logged and changes nothing.
    let done = unsafe { libc::sched_setscheduler(libc::gettid(), libc::SCHED_IDLE, &param) };
    if done != 0 {
        log::warn!("webhook worker: could not lower its thread's priority (SCHED_IDLE)");
    }
}

/// Which rooms an endpoint task looks in for room events.
enum Scope {
    All,
    Rooms(Vec<uuid::Uuid>),
}

/// Leases what is due (up to the free slots) and starts a task per endpoint.
async fn claim_and_send(
    deps: Arc<WorkerDeps>,
    busy: Arc<Mutex<HashSet<uuid::Uuid>>>,
    rescan: bool,
) {
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
    if rescan {
        prune_hints(&deps).await;
    }
    let claim = Claim {
        lease_secs: lease_secs(&deps),
        limit: free as i64,
        skip: &skip,
        hinted: &deps.gate.hinted(),
        rescan,
    };
    let claimed = match claim_endpoints(&deps, &claim).await {
        Ok(c) => c,
        Err(e) => {
            log::warn!("claiming webhook endpoints: {e}");
            return;
        }
    };
    for endpoint in claimed {
        // Hints left for an endpoint not claimed now (another node or task holds it) stay.
        let hinted = deps.gate.take_hints(endpoint.id);
        let scope = if rescan {
            Scope::All
        } else {
            Scope::Rooms(hinted)
        };
        busy.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(endpoint.id);
        let (deps, busy) = (deps.clone(), busy.clone());
        actix_web::rt::spawn(async move {
            let id = endpoint.id;
            if let Err(e) = serve(&deps, &endpoint, scope).await {
                log::warn!("webhook endpoint {id}: {e}");
            }
            busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        });
    }
}

async fn claim_endpoints(deps: &WorkerDeps, claim: &Claim<'_>) -> AppResult<Vec<Endpoint>> {
    let mut conn = deps.pool.get().await?;
    Ok(db::outbox::claim_endpoints(&mut conn, claim).await?)
}

/// Drops the hints of endpoints deleted or paused since (on any node).
async fn prune_hints(deps: &WorkerDeps) {
    let enabled = match deps.pool.get().await {
        Ok(mut conn) => db::webhooks::enabled_ids(&mut conn).await,
        Err(e) => {
            log::warn!("reading webhook endpoints: {e}");
            return;
        }
    };
    match enabled {
        Ok(ids) => deps.gate.retain_hints(&ids),
        Err(e) => log::warn!("reading webhook endpoints: {e}"),
    }
}

/// How long a lease lasts: one attempt's timeout and a margin (renewed as the task goes on).
pub(super) fn lease_secs(deps: &WorkerDeps) -> f64 {
    deps.settings.webhooks.timeout_ms as f64 / 1000.0 + 5.0
}

/// What one round of an endpoint's work came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Drain {
    /// All of it went; more may be waiting.
    More,
    /// All of it went; more may be waiting, but the round was small: the next one waits for the
    /// rest of `webhooks.poll_ms`, so that rounds carry enough events to pay for their queries.
    Soon,
    /// All of it went and nothing else waits.
    Clear,
    /// A delivery failed or waits for its retry: nothing newer goes before it.
    Blocked,
}

/// Sends the endpoint's work in order, round after round while there is more (so a busy
/// endpoint is not left waiting for the next tick), until a delivery fails or nothing is left;
/// then lets the endpoint go. The rooms to look in are read before the outbox is drained, so
/// a room's `room.created` (in the outbox) goes before its first room event. Rooms hinted while
/// it runs join its scope; after a small round (`Drain::Soon`) the next waits for the rest of
/// `webhooks.poll_ms`.
async fn serve(deps: &WorkerDeps, endpoint: &Endpoint, scope: Scope) -> AppResult<()> {
    let mut scope = scope;
    let mut after_room = None;
    let pace = Duration::from_millis(deps.settings.webhooks.poll_ms);
    loop {
        let started = Instant::now();
        if let Scope::Rooms(rooms) = &mut scope {
            for room in deps.gate.take_hints(endpoint.id) {
                if !rooms.contains(&room) {
                    rooms.push(room);
                }
            }
        }
        let targets = targets(deps, endpoint, &scope, after_room).await?;
        let mut drain = Drain::More;
        while drain == Drain::More {
            drain = serve_outbox(deps, endpoint).await?;
        }
        if drain == Drain::Blocked || targets.is_empty() {
            break;
        }
        let drain = hook_rooms::serve(deps, endpoint, &targets).await?;
        if drain == Drain::Soon {
            tokio::time::sleep(pace.saturating_sub(started.elapsed())).await;
        } else if drain != Drain::More {
            break;
        }
        after_room = targets.last().map(|t| t.room_id);
    }
    let mut conn = deps.pool.get().await?;
    db::outbox::release(&mut conn, endpoint.id).await?;
    Ok(())
}

/// The rooms of `scope` with room events past the endpoint's cursors.
async fn targets(
    deps: &WorkerDeps,
    endpoint: &Endpoint,
    scope: &Scope,
    after_room: Option<uuid::Uuid>,
) -> AppResult<Vec<Target>> {
    let rooms = match scope {
        Scope::All => None,
        Scope::Rooms(r) if r.is_empty() => return Ok(Vec::new()),
        Scope::Rooms(r) => Some(r.as_slice()),
    };
    let mut conn = deps.pool.get().await?;
    let q = TargetQuery {
        endpoint: endpoint.id,
        tenant: endpoint.tenant_id,
        rooms,
        window: hook_rooms::SEQS_PER_ROOM,
        limit: hook_rooms::ROOMS_PER_ROUND,
        after_room,
    };
    Ok(hook_cursors::targets(&mut conn, &q).await?)
}

/// Sends up to `PER_LEASE` due outbox deliveries in order (each attempt renews the lease).
async fn serve_outbox(deps: &WorkerDeps, endpoint: &Endpoint) -> AppResult<Drain> {
    let pending = {
        let mut conn = deps.pool.get().await?;
        db::outbox::pending(&mut conn, endpoint.id, PER_LEASE).await?
    };
    for p in &pending {
        if p.next_attempt_at > Utc::now() {
            return Ok(Drain::Blocked);
        }
        let outcome = hook_send::send(deps, endpoint, &p.msg_id, &p.body).await;
        let failed = !matches!(outcome, Outcome::Delivered(_));
        let mut conn = deps.pool.get().await?;
        record(deps, &mut conn, endpoint, p, outcome).await?;
        if failed {
            return Ok(Drain::Blocked);
        }
    }
    Ok(if pending.len() as i64 == PER_LEASE {
        Drain::More
    } else {
        Drain::Clear
    })
}

/// Records an attempt; a failure is retried after the backoff, or given up once the delivery
/// has failed for `webhooks.give_up_after_secs`.
async fn record(
    deps: &WorkerDeps,
    conn: &mut db::Conn,
    endpoint: &Endpoint,
    p: &Pending,
    outcome: Outcome,
) -> AppResult<()> {
    let attempt = match &outcome {
        Outcome::Delivered(status) => Attempt::Delivered {
            status: i32::from(*status),
        },
        Outcome::Failed(status, error) => Attempt::Failed {
            status: status.map(i32::from),
            error,
            next: next_attempt(deps, p.attempts, p.window_start),
        },
    };
    db::outbox::record(conn, endpoint.id, p.id, &attempt, lease_secs(deps)).await?;
    Ok(())
}
