//! Reported messages and their resolution.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::reports;
use super::Conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports, check_for_backend(diesel::pg::Pg))]
pub struct Report {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub room_id: Uuid,
    pub message_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub status: String,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Files a report; a member's open report of the same message is answered instead of a second.
pub async fn file(
    conn: &mut Conn,
    tenant_id: Uuid,
    room_id: Uuid,
    message_id: Uuid,
    reporter_id: Uuid,
    reason: &str,
) -> QueryResult<(Report, bool)> {
    let inserted = diesel::insert_into(reports::table)
        .values((
            reports::tenant_id.eq(tenant_id),
            reports::room_id.eq(room_id),
            reports::message_id.eq(message_id),
            reports::reporter_id.eq(reporter_id),
            reports::reason.eq(reason),
        ))
        .on_conflict_do_nothing()
        .returning(Report::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(r) = inserted {
        return Ok((r, true));
    }
    reports::table
        .filter(
            reports::message_id
                .eq(message_id)
                .and(reports::reporter_id.eq(reporter_id))
                .and(reports::status.eq("open")),
        )
        .select(Report::as_select())
        .first(conn)
        .await
        .map(|r| (r, false))
}

/// A report of the tenant.
pub async fn find(conn: &mut Conn, tenant_id: Uuid, id: Uuid) -> QueryResult<Option<Report>> {
    reports::table
        .filter(reports::id.eq(id).and(reports::tenant_id.eq(tenant_id)))
        .select(Report::as_select())
        .first(conn)
        .await
        .optional()
}

/// A report of the tenant, locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut Conn,
    tenant_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Report>> {
    reports::table
        .filter(reports::id.eq(id).and(reports::tenant_id.eq(tenant_id)))
        .select(Report::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks an open report resolved.
pub async fn resolve(
    conn: &mut Conn,
    id: Uuid,
    status: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Report> {
    diesel::update(reports::table.find(id))
        .set((
            reports::status.eq(status),
            reports::resolved_by.eq(by),
            reports::resolved_at.eq(at),
        ))
        .returning(Report::as_returning())
        .get_result(conn)
        .await
}

/// A tenant's reports, newest first (only those of `status` when given), a page at a time.
pub async fn list(
    conn: &mut Conn,
    tenant_id: Uuid,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    let mut q = reports::table
        .filter(reports::tenant_id.eq(tenant_id))
        .select(Report::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(reports::status.eq(s.to_owned()));
    }
    q.order((reports::created_at.desc(), reports::id))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await
}

/// The open reports of a room, newest first.
pub async fn open_in_room(conn: &mut Conn, room_id: Uuid, limit: i64) -> QueryResult<Vec<Report>> {
    reports::table
        .filter(reports::room_id.eq(room_id).and(reports::status.eq("open")))
        .select(Report::as_select())
        .order((reports::created_at.desc(), reports::id))
        .limit(limit)
        .load(conn)
        .await
}
