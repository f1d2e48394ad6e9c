//! The webhook outbox's write on the commit path as a statement of fixed shape, prepared once
//! per connection (a `sql_query` is parsed and planned again in every transaction).

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Double, Text, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

use super::outbox::OutboxRow;
use super::writes::bind;

/// The outbox rows of one transaction and the rooms marked for a notification decision.
pub struct Enqueue<'a> {
    msg_id: Vec<&'a str>,
    tenant: Vec<Uuid>,
    kind: Vec<&'static str>,
    body: Vec<&'a str>,
    room: Vec<Uuid>,
    room_tenant: Vec<Uuid>,
    delay_secs: f64,
}

impl<'a> Enqueue<'a> {
    pub fn new(rows: &'a [OutboxRow], rooms: &[(Uuid, Uuid)], delay_secs: f64) -> Self {
        Enqueue {
            msg_id: rows.iter().map(|r| r.msg_id.as_str()).collect(),
            tenant: rows.iter().map(|r| r.tenant_id).collect(),
            kind: rows.iter().map(|r| r.kind).collect(),
            body: rows.iter().map(|r| r.body.as_str()).collect(),
            room: rooms.iter().map(|r| r.0).collect(),
            room_tenant: rooms.iter().map(|r| r.1).collect(),
            delay_secs,
        }
    }
}

/// The statement's shape never changes, so it is cached as a prepared statement.
pub struct EnqueueQuery;

impl QueryId for Enqueue<'_> {
    type QueryId = EnqueueQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for Enqueue<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = &mut out;
        o.push_sql("WITH t AS (SELECT * FROM unnest(");
        bind::<Array<Text>, _>(o, &self.msg_id, ", ")?;
        bind::<Array<SqlUuid>, _>(o, &self.tenant, ", ")?;
        bind::<Array<Text>, _>(o, &self.kind, ", ")?;
        bind::<Array<Text>, _>(
            o,
            &self.body,
            ") WITH ORDINALITY AS t(msg_id, tenant_id, kind, body, n)), \
             ev AS (INSERT INTO webhook_events (msg_id, tenant_id, kind, body) \
             SELECT msg_id, tenant_id, kind, body FROM t WHERE EXISTS (SELECT 1 FROM \
             webhook_endpoints w WHERE w.tenant_id = t.tenant_id AND w.enabled \
             AND t.kind = ANY(w.events)) \
             ORDER BY n ON CONFLICT (msg_id) DO NOTHING RETURNING id, tenant_id, kind), \
             d AS (INSERT INTO webhook_deliveries (event_id, endpoint_id) \
             SELECT ev.id, w.id FROM ev JOIN webhook_endpoints w ON w.tenant_id = ev.tenant_id \
             AND w.enabled AND ev.kind = ANY(w.events) ORDER BY ev.id) \
             INSERT INTO notification_marks (room_id, tenant_id, due_at) \
             SELECT r, t, now() + make_interval(secs => ",
        )?;
        bind::<Double, _>(o, &self.delay_secs, ") FROM unnest(")?;
        bind::<Array<SqlUuid>, _>(o, &self.room, ", ")?;
        bind::<Array<SqlUuid>, _>(
            o,
            &self.room_tenant,
            ") AS x(r, t) WHERE EXISTS (SELECT 1 FROM webhook_endpoints w \
             WHERE w.tenant_id = x.t AND w.enabled AND 'notification' = ANY(w.events)) \
             ON CONFLICT (room_id) DO NOTHING",
        )
    }
}
