//! Webhook endpoints of a tenant (the admin API's rows), their deliveries as the operator sees
//! them, and the per-tenant cache of which event types any endpoint subscribes to.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Bytea, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::Conn;

#[derive(Debug, Clone, QueryableByName)]
pub struct Endpoint {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Array<Text>)]
    pub events: Vec<String>,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Bytea)]
    pub secret: Vec<u8>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub previous_secret: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub previous_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, url, events, description, secret, previous_secret, \
                       previous_until, enabled, status, created_at, updated_at";

/// What a new endpoint is made of.
pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub description: &'a str,
    pub secret: &'a [u8],
}

pub async fn create(conn: &mut Conn, tenant: Uuid, new: &NewEndpoint<'_>) -> QueryResult<Endpoint> {
    diesel::sql_query(format!(
        "INSERT INTO webhook_endpoints (tenant_id, url, events, description, secret) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(tenant)
    .bind::<Text, _>(new.url)
    .bind::<Array<Text>, _>(new.events)
    .bind::<Text, _>(new.description)
    .bind::<Bytea, _>(new.secret)
    .get_result(conn)
    .await
}

pub async fn list(conn: &mut Conn, tenant: Uuid) -> QueryResult<Vec<Endpoint>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind::<SqlUuid, _>(tenant)
    .load(conn)
    .await
}

/// The endpoint `id` of `tenant` (another tenant's is not found).
pub async fn get(conn: &mut Conn, tenant: Uuid, id: Uuid) -> QueryResult<Option<Endpoint>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
    ))
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .optional()
}

/// The fields a PATCH may change (None: unchanged).
pub struct EndpointPatch<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [String]>,
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
}

pub async fn update(
    conn: &mut Conn,
    tenant: Uuid,
    id: Uuid,
    p: &EndpointPatch<'_>,
) -> QueryResult<Option<Endpoint>> {
    diesel::sql_query(format!(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events), \
         description = COALESCE($5, description), enabled = COALESCE($6, enabled), \
         updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(p.url)
    .bind::<Nullable<Array<Text>>, _>(p.events)
    .bind::<Nullable<Text>, _>(p.description)
    .bind::<Nullable<Bool>, _>(p.enabled)
    .get_result(conn)
    .await
    .optional()
}

/// Deletes the endpoint and its deliveries; answers whether it was there.
pub async fn delete(conn: &mut Conn, tenant: Uuid, id: Uuid) -> QueryResult<bool> {
    let n = diesel::sql_query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// A new secret; the current one keeps signing for `overlap_secs`.
pub async fn rotate(
    conn: &mut Conn,
    tenant: Uuid,
    id: Uuid,
    secret: &[u8],
    overlap_secs: i64,
) -> QueryResult<Option<Endpoint>> {
    diesel::sql_query(format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, \
         previous_until = now() + make_interval(secs => $4), secret = $3, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .bind::<Bytea, _>(secret)
    .bind::<diesel::sql_types::Double, _>(overlap_secs as f64)
    .get_result(conn)
    .await
    .optional()
}

/// One delivery as the deliveries list shows it.
#[derive(Debug, QueryableByName)]
pub struct DeliveryRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub msg_id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub last_status: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The newest deliveries of an endpoint of `tenant`, newest first (before `before` when given).
pub async fn deliveries(
    conn: &mut Conn,
    tenant: Uuid,
    endpoint: Uuid,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    diesel::sql_query(
        "SELECT d.id, e.msg_id, e.kind, d.status, d.attempts, d.last_error, d.last_status, \
         CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at, \
         d.delivered_at, d.created_at \
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id \
         WHERE w.tenant_id = $1 AND d.endpoint_id = $2 AND ($3::bigint IS NULL OR d.id < $3) \
         ORDER BY d.id DESC LIMIT $4",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(endpoint)
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Puts a delivery back in the queue now (same `webhook-id`, a new retry window); answers
/// whether the delivery of that endpoint of `tenant` exists.
pub async fn retry(conn: &mut Conn, tenant: Uuid, endpoint: Uuid, id: i64) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), \
         window_start = NULL FROM webhook_endpoints w \
         WHERE w.id = d.endpoint_id AND w.tenant_id = $1 AND d.endpoint_id = $2 AND d.id = $3",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(endpoint)
    .bind::<BigInt, _>(id)
    .execute(conn)
    .await?;
    Ok(n > 0)
}

#[derive(QueryableByName)]
struct Subscription {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    events: Vec<String>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Every enabled endpoint, of all tenants.
pub async fn enabled_ids(conn: &mut Conn) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<Id> = diesel::sql_query("SELECT id FROM webhook_endpoints WHERE enabled")
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// What a tenant's enabled endpoints want: the event types any of them subscribes to, and
/// the endpoints.
#[derive(Clone, Default)]
pub struct Subscribed {
    pub kinds: Arc<[String]>,
    pub endpoints: Arc<[Uuid]>,
}

/// The tenant's enabled endpoints and the event types they subscribe to.
pub async fn subscribed(conn: &mut Conn, tenant: Uuid) -> QueryResult<Subscribed> {
    let rows: Vec<Subscription> = diesel::sql_query(
        "SELECT id, events FROM webhook_endpoints WHERE tenant_id = $1 AND enabled",
    )
    .bind::<SqlUuid, _>(tenant)
    .load(conn)
    .await?;
    let mut kinds: Vec<String> = rows.iter().flat_map(|r| r.events.clone()).collect();
    kinds.sort();
    kinds.dedup();
    Ok(Subscribed {
        kinds: kinds.into(),
        endpoints: rows.iter().map(|r| r.id).collect(),
    })
}

/// What a node believes of each tenant's subscriptions, for `ttl`: the commit path asks it so a
/// tenant without endpoints costs no outbox work. A change forgets the tenant at once on this
/// node and, through `relay` (the broker, set at startup), on the others; `ttl` bounds what a
/// lost relay (a broker outage) can leave stale. It also carries the commit path's hints to
/// this node's webhook worker: which endpoint has new events in which rooms.
pub struct HookGate {
    ttl: Duration,
    known: Mutex<HashMap<Uuid, Known>>,
    relay: OnceLock<Relay>,
    hints: Mutex<HashMap<Uuid, HashSet<Uuid>>>,
}

/// Tells the other nodes that a tenant's endpoints changed.
type Relay = Box<dyn Fn(Uuid) + Send + Sync>;

/// When a tenant's subscriptions were read, and what they were.
type Known = (Instant, Subscribed);

impl HookGate {
    pub fn new(ttl: Duration) -> Self {
        HookGate {
            ttl,
            known: Mutex::new(HashMap::new()),
            relay: OnceLock::new(),
            hints: Mutex::new(HashMap::new()),
        }
    }

    /// How changes reach the other nodes (set once, at startup).
    pub fn relay_with(&self, relay: impl Fn(Uuid) + Send + Sync + 'static) {
        let _ = self.relay.set(Box::new(relay));
    }

    /// The event types `tenant` subscribes to (read from `conn` when not known or too old).
    pub async fn kinds(&self, conn: &mut Conn, tenant: Uuid) -> QueryResult<Arc<[String]>> {
        if let Some(k) = self.cached(tenant) {
            return Ok(k.kinds);
        }
        let subscribed = subscribed(conn, tenant).await?;
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.insert(tenant, (Instant::now(), subscribed.clone()));
        Ok(subscribed.kinds)
    }

    fn cached(&self, tenant: Uuid) -> Option<Subscribed> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (at, subscribed) = known.get(&tenant)?;
        (at.elapsed() < self.ttl).then(|| subscribed.clone())
    }

    /// Forgets what was read of `tenant` here and on the other nodes (its endpoints changed on
    /// this node).
    pub fn forget(&self, tenant: Uuid) {
        self.forget_here(tenant);
        if let Some(relay) = self.relay.get() {
            relay(tenant);
        }
    }

    /// Forgets what was read of `tenant` on this node only (another node changed it).
    pub fn forget_here(&self, tenant: Uuid) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.remove(&tenant);
    }

    /// A commit of `room` (of `tenant`) wrote events: each endpoint of the tenant known here
    /// is told. (Endpoints not known here are found by the worker's rescan.)
    pub fn hint(&self, tenant: Uuid, room: Uuid) {
        let Some(subscribed) = self.cached(tenant) else {
            return;
        };
        let mut hints = self.hints.lock().unwrap_or_else(|p| p.into_inner());
        for endpoint in subscribed.endpoints.iter() {
            hints.entry(*endpoint).or_default().insert(room);
        }
    }

    /// The endpoints with hints waiting.
    pub fn hinted(&self) -> Vec<Uuid> {
        let hints = self.hints.lock().unwrap_or_else(|p| p.into_inner());
        hints.keys().copied().collect()
    }

    /// Forgets the hints of endpoints not in `enabled` (deleted or paused, here or elsewhere).
    pub fn retain_hints(&self, enabled: &[Uuid]) {
        let mut hints = self.hints.lock().unwrap_or_else(|p| p.into_inner());
        hints.retain(|endpoint, _| enabled.contains(endpoint));
    }

    /// Takes the rooms hinted for `endpoint` (empty when none).
    pub fn take_hints(&self, endpoint: Uuid) -> Vec<Uuid> {
        let mut hints = self.hints.lock().unwrap_or_else(|p| p.into_inner());
        hints
            .remove(&endpoint)
            .map(|rooms| rooms.into_iter().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_go_to_a_tenants_known_endpoints_until_taken_or_pruned() {
        let gate = HookGate::new(Duration::from_secs(60));
        let (tenant, other, room) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (e1, e2) = (Uuid::new_v4(), Uuid::new_v4());
        let subscribed = Subscribed {
            kinds: vec!["message.created".to_owned()].into(),
            endpoints: vec![e1, e2].into(),
        };
        gate.known
            .lock()
            .expect("lock")
            .insert(tenant, (Instant::now(), subscribed));
        gate.hint(other, room);
        assert!(
            gate.hinted().is_empty(),
            "a tenant not known here hints nothing"
        );
        gate.hint(tenant, room);
        let mut hinted = gate.hinted();
        hinted.sort();
        let mut both = vec![e1, e2];
        both.sort();
        assert_eq!(hinted, both);
        assert_eq!(gate.take_hints(e1), vec![room]);
        assert!(gate.take_hints(e1).is_empty());
        gate.retain_hints(&[e1]);
        assert!(gate.hinted().is_empty(), "e2 was pruned");
    }
}
