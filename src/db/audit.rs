//! The audit log: one append-only row per moderation or administrative action.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::audit_log;
use super::Conn;

/// One entry as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditEntry {
    pub id: i64,
    pub tenant_id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub room_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// A new entry (written in the transaction of the action it records).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAudit<'a> {
    pub tenant_id: Uuid,
    pub actor_id: Uuid,
    pub action: &'a str,
    pub room_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record(conn: &mut Conn, entry: &NewAudit<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a listing keeps; `cursor` is the id of the last entry of the previous page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub room_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<&'a str>,
    pub before: Option<DateTime<Utc>>,
    pub after: Option<DateTime<Utc>>,
    pub cursor: Option<i64>,
}

/// A tenant's entries, newest first, at most `limit`.
pub async fn list(
    conn: &mut Conn,
    tenant_id: Uuid,
    f: &AuditFilter<'_>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .filter(audit_log::tenant_id.eq(tenant_id))
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(room) = f.room_id {
        q = q.filter(audit_log::room_id.eq(room));
    }
    if let Some(actor) = f.actor_id {
        q = q.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(action) = f.action {
        q = q.filter(audit_log::action.eq(action.to_owned()));
    }
    if let Some(before) = f.before {
        q = q.filter(audit_log::created_at.lt(before));
    }
    if let Some(after) = f.after {
        q = q.filter(audit_log::created_at.gt(after));
    }
    if let Some(cursor) = f.cursor {
        q = q.filter(audit_log::id.lt(cursor));
    }
    q.order(audit_log::id.desc()).limit(limit).load(conn).await
}
