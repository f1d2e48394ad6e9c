//! The webhook outbox: events that are not room events (notifications, `room.created`), the
//! rooms whose notifications are to be decided (marked in the commit's transaction), and what
//! the delivery worker claims and records. Endpoints are leased (claimed with `FOR UPDATE SKIP
//! LOCKED`), so one node at a time sends to an endpoint, in the order its deliveries were
//! committed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::webhooks::Endpoint;
use super::Conn;

/// One event for the outbox: its `webhook-id`, tenant, type and body.
pub struct OutboxRow {
    pub msg_id: String,
    pub tenant_id: Uuid,
    pub kind: &'static str,
    pub body: String,
}

/// Writes `rows`, each for the endpoints of its tenant subscribed to its type, as the
/// transaction sees them (a row no endpoint wants is not written).
pub async fn enqueue(conn: &mut Conn, rows: &[OutboxRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let msg_id: Vec<&str> = rows.iter().map(|r| r.msg_id.as_str()).collect();
    let tenant: Vec<Uuid> = rows.iter().map(|r| r.tenant_id).collect();
    let kind: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    let body: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
    diesel::sql_query(
        "WITH t AS (SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) \
           WITH ORDINALITY AS t(msg_id, tenant_id, kind, body, n)), \
         ev AS (INSERT INTO webhook_events (msg_id, tenant_id, kind, body) \
           SELECT msg_id, tenant_id, kind, body FROM t WHERE EXISTS (SELECT 1 FROM \
             webhook_endpoints w WHERE w.tenant_id = t.tenant_id AND w.enabled \
             AND t.kind = ANY(w.events)) \
           ORDER BY n ON CONFLICT (msg_id) DO NOTHING RETURNING id, tenant_id, kind) \
         INSERT INTO webhook_deliveries (event_id, endpoint_id) \
         SELECT ev.id, w.id FROM ev JOIN webhook_endpoints w ON w.tenant_id = ev.tenant_id \
           AND w.enabled AND ev.kind = ANY(w.events) ORDER BY ev.id",
    )
    .bind::<Array<Text>, _>(&msg_id)
    .bind::<Array<SqlUuid>, _>(&tenant)
    .bind::<Array<Text>, _>(&kind)
    .bind::<Array<Text>, _>(&body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks `rooms` (room, tenant) for a notification decision in `delay_secs`, when the tenant
/// subscribes to `notification` (on the commit path, inside its transaction).
pub async fn mark_rooms(
    conn: &mut Conn,
    rooms: &[(Uuid, Uuid)],
    delay_secs: f64,
) -> QueryResult<()> {
    if rooms.is_empty() {
        return Ok(());
    }
    // A statement of fixed shape, prepared once per connection (issue 18: parsed and planned
    // in every transaction, the outbox write doubled PostgreSQL's CPU per message).
    super::outbox_write::MarkRooms::new(rooms, delay_secs)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the `room.created` event of a room just inserted (inside its transaction), when an
/// endpoint of its tenant subscribes to it. The body is built here: nothing else is written.
pub async fn room_created(conn: &mut Conn, room: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "WITH ev AS (INSERT INTO webhook_events (msg_id, tenant_id, kind, body) \
           SELECT 'msg_' || replace(r.id::text, '-', '') || '_0', r.tenant_id, 'room.created', \
             json_build_object('type', 'room.created', \
               'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
               'data', json_build_object('tenant_id', r.tenant_id, 'room_id', r.id, 'seq', 0, \
                 'room', json_build_object('id', r.id, 'name', r.name, 'description', r.description, \
                   'room_type', r.room_type, 'created_by', r.created_by, 'created_at', r.created_at, \
                   'external_ref_kind', r.external_ref_kind, 'external_ref_id', r.external_ref_id)))::text \
           FROM rooms r WHERE r.id = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints w \
             WHERE w.tenant_id = r.tenant_id AND w.enabled AND 'room.created' = ANY(w.events)) \
           RETURNING id, tenant_id, kind) \
         INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT ev.id, w.id FROM ev \
         JOIN webhook_endpoints w ON w.tenant_id = ev.tenant_id AND w.enabled AND ev.kind = ANY(w.events)",
    )
    .bind::<SqlUuid, _>(room)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a worker asks to lease.
pub struct Claim<'a> {
    pub lease_secs: f64,
    pub limit: i64,
    /// Endpoints this node is serving already.
    pub skip: &'a [Uuid],
    /// Endpoints this node's commits hinted at.
    pub hinted: &'a [Uuid],
    /// Every endpoint, to look for room events in all their rooms.
    pub rescan: bool,
}

/// Leases, for `lease_secs`, up to `limit` enabled endpoints that no node holds and that have
/// work: their oldest pending outbox delivery is due, or (when none is pending) they were hinted
/// at or a rescan is asked for.
pub async fn claim_endpoints(conn: &mut Conn, claim: &Claim<'_>) -> QueryResult<Vec<Endpoint>> {
    diesel::sql_query(
        "UPDATE webhook_endpoints w SET leased_until = now() + make_interval(secs => $1) \
         WHERE w.id IN (SELECT x.id FROM webhook_endpoints x \
           LEFT JOIN LATERAL (SELECT d.next_attempt_at FROM webhook_deliveries d \
             WHERE d.endpoint_id = x.id AND d.status = 'pending' ORDER BY d.id LIMIT 1) o ON true \
           WHERE x.enabled AND (x.leased_until IS NULL OR x.leased_until < now()) \
           AND x.id <> ALL($3) \
           AND (o.next_attempt_at <= now() \
                OR (o.next_attempt_at IS NULL AND ($5 OR x.id = ANY($4)))) \
           ORDER BY x.id LIMIT $2 FOR UPDATE OF x SKIP LOCKED) \
         RETURNING w.id, w.tenant_id, w.url, w.events, w.description, w.secret, \
           w.previous_secret, w.previous_until, w.enabled, w.status, w.created_at, w.updated_at",
    )
    .bind::<Double, _>(claim.lease_secs)
    .bind::<BigInt, _>(claim.limit)
    .bind::<Array<SqlUuid>, _>(claim.skip)
    .bind::<Array<SqlUuid>, _>(claim.hinted)
    .bind::<Bool, _>(claim.rescan)
    .load(conn)
    .await
}

/// A delivery to send: its id, the event's `webhook-id` and body, and its retry state.
#[derive(Debug, QueryableByName)]
pub struct Pending {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub msg_id: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub window_start: DateTime<Utc>,
}

/// The endpoint's oldest pending deliveries, in commit order.
pub async fn pending(conn: &mut Conn, endpoint: Uuid, limit: i64) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(
        "SELECT d.id, e.msg_id, e.body, d.attempts, d.next_attempt_at, \
         COALESCE(d.window_start, now()) AS window_start \
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.endpoint_id = $1 AND d.status = 'pending' ORDER BY d.id LIMIT $2",
    )
    .bind::<SqlUuid, _>(endpoint)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// How one attempt went.
pub enum Attempt<'a> {
    Delivered {
        status: i32,
    },
    /// Failed; tried again at `next` (None: given up, the endpoint is marked failing).
    Failed {
        status: Option<i32>,
        error: &'a str,
        next: Option<DateTime<Utc>>,
    },
}

/// Records an attempt of delivery `id` and extends the endpoint's lease by `lease_secs`.
pub async fn record(
    conn: &mut Conn,
    endpoint: Uuid,
    id: i64,
    attempt: &Attempt<'_>,
    lease_secs: f64,
) -> QueryResult<()> {
    let (state, status, error, next) = match attempt {
        Attempt::Delivered { status } => ("delivered", Some(*status), None, None),
        Attempt::Failed {
            status,
            error,
            next: Some(at),
        } => ("pending", *status, Some(*error), Some(*at)),
        Attempt::Failed { status, error, .. } => ("failed", *status, Some(*error), None),
    };
    diesel::sql_query(
        "WITH d AS (UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, \
           last_status = $4, last_error = $5, next_attempt_at = COALESCE($6, next_attempt_at), \
           window_start = COALESCE(window_start, now()), \
           delivered_at = CASE WHEN $3 = 'delivered' THEN now() END WHERE id = $2) \
         UPDATE webhook_endpoints SET leased_until = now() + make_interval(secs => $7), \
           status = CASE $3 WHEN 'delivered' THEN 'ok' WHEN 'failed' THEN 'failing' ELSE status END \
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(endpoint)
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(state)
    .bind::<Nullable<Integer>, _>(status)
    .bind::<Nullable<Text>, _>(error)
    .bind::<Nullable<Timestamptz>, _>(next)
    .bind::<Double, _>(lease_secs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets other nodes (and this one) claim the endpoint again.
pub async fn release(conn: &mut Conn, endpoint: Uuid) -> QueryResult<()> {
    diesel::sql_query("UPDATE webhook_endpoints SET leased_until = NULL WHERE id = $1")
        .bind::<SqlUuid, _>(endpoint)
        .execute(conn)
        .await?;
    Ok(())
}
