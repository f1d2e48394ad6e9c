//! Retention: admins set how long the tenant's and a room's messages are kept (and a room's cap
//! by count, audited); the sweep turns what is past them into tombstones, a batch at a time.
//! Swept messages are not room events (they take no seq): history answers `retained_from_seq`.

use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::Caller;
use crate::db;
use crate::db::retention::Due;
use crate::domain::moderation::AuditAction;
use crate::error::{AppError, AppResult};

/// A room's retention as the admin API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomRetention {
    pub retention_days: Option<i32>,
    pub max_messages: Option<i32>,
    pub retained_from_seq: i64,
}

/// Sets the caller's tenant's retention (None: forever).
pub async fn set_tenant(conn: &mut db::Conn, caller: &Caller, days: Option<i32>) -> AppResult<()> {
    let tenant = caller.tenant_id.uuid();
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let before = db::retention::tenant_days(c, tenant).await?;
        db::retention::set_tenant_days(c, tenant, days).await?;
        let entry = Entry::new(AuditAction::RetentionSet).change("retention_days", before, days);
        audit::record(c, caller, entry).await
    })
    .await?;
    Ok(())
}

/// A room of the caller's tenant and its retention (404 for another tenant's room).
pub async fn room(conn: &mut db::Conn, caller: &Caller, room_id: Uuid) -> AppResult<RoomRetention> {
    db::rooms::find(conn, caller.tenant_id.uuid(), room_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (retention_days, max_messages, retained_from_seq) =
        db::retention::room(conn, room_id).await?;
    Ok(RoomRetention {
        retention_days,
        max_messages,
        retained_from_seq,
    })
}

/// Sets a room's retention (None days: the tenant's) and cap by count (None: none).
pub async fn set_room(
    conn: &mut db::Conn,
    caller: &Caller,
    room_id: Uuid,
    days: Option<i32>,
    max_messages: Option<i32>,
) -> AppResult<RoomRetention> {
    let before = room(conn, caller, room_id).await?;
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::retention::set_room(c, room_id, days, max_messages).await?;
        let entry = Entry {
            before: Some(json!({"retention_days": before.retention_days, "max_messages": before.max_messages})),
            after: Some(json!({"retention_days": days, "max_messages": max_messages})),
            ..Entry::new(AuditAction::RetentionSet).room(room_id)
        };
        audit::record(c, caller, entry).await
    })
    .await?;
    Ok(RoomRetention {
        retention_days: days,
        max_messages,
        ..before
    })
}

/// One batch of a room's sweep, in its own short transaction: at most `batch` messages past the
/// room's policy become tombstones, their stored events are rewritten, and the room's retained
/// history moves past them. Answers how many were swept (fewer than `batch`: the room is done).
pub async fn sweep_batch(conn: &mut db::Conn, due: &Due, batch: i64) -> AppResult<usize> {
    let by_age = match due.days {
        Some(d) => {
            let at = Utc::now() - Duration::days(i64::from(d));
            Some(db::retention::seq_bound_before(conn, due.room_id, at).await?)
        }
        None => None,
    };
    // The cap: every message at or below the seq past it goes.
    let by_count = match due.max_messages {
        Some(keep) => db::retention::seq_past_cap(conn, due.room_id, keep)
            .await?
            .map(|s| s + 1),
        None => None,
    };
    let Some(below) = by_age.into_iter().chain(by_count).max() else {
        return Ok(0);
    };
    let room = due.room_id;
    let n = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let swept = db::retention::sweep_batch(c, room, below, batch).await?;
            let (Some(low), Some(high)) = (
                swept.iter().map(|s| s.seq).min(),
                swept.iter().map(|s| s.seq).max(),
            ) else {
                return Ok(0);
            };
            let ids: Vec<Uuid> = swept.iter().map(|s| s.id).collect();
            db::retention::rewrite_swept(c, room, (low, high), &ids).await?;
            db::retention::advance(c, room, high + 1).await?;
            Ok(swept.len())
        })
        .await?;
    Ok(n)
}
