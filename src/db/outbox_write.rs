//! The commit path's one outbox write as a statement of fixed shape, prepared once per
//! connection (a `sql_query` is parsed and planned again in every transaction): the rooms with
//! new messages marked for a notification decision.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Double, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

use super::writes::bind;

/// The rooms (and their tenants) of one transaction to mark, due in `delay_secs`.
pub struct MarkRooms {
    room: Vec<Uuid>,
    room_tenant: Vec<Uuid>,
    delay_secs: f64,
}

impl MarkRooms {
    pub fn new(rooms: &[(Uuid, Uuid)], delay_secs: f64) -> Self {
        MarkRooms {
            room: rooms.iter().map(|r| r.0).collect(),
            room_tenant: rooms.iter().map(|r| r.1).collect(),
            delay_secs,
        }
    }
}

/// The statement's shape never changes, so it is cached as a prepared statement.
pub struct MarkRoomsQuery;

impl QueryId for MarkRooms {
    type QueryId = MarkRoomsQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for MarkRooms {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = &mut out;
        o.push_sql(
            "INSERT INTO notification_marks (room_id, tenant_id, due_at) \
             SELECT r, t, now() + make_interval(secs => ",
        );
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
