//! Reports: any member reports a message of their room; the tenant's admins resolve them
//! (dismiss, or after deleting the message or banning its sender), each resolution audited.

use chrono::Utc;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::access;
use super::audit::{self, Entry};
use super::batch::facts;
use super::Caller;
use crate::db;
use crate::db::reports::Report;
use crate::domain::moderation::{self, AuditAction, Resolution};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Access, Change, Standing};

/// A validated report, before anything is read.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub room_id: Uuid,
    pub message_id: Uuid,
    pub reason: String,
}

impl FileReport {
    pub fn parse(room_id: Uuid, message_id: Uuid, reason: &str) -> AppResult<FileReport> {
        Ok(FileReport {
            room_id,
            message_id,
            reason: moderation::report_reason("reason", reason)?,
        })
    }

    /// Files the report; answers it and whether it is new (a member's open report of the same
    /// message is answered again rather than doubled).
    pub async fn apply(&self, conn: &mut db::Conn, caller: &Caller) -> AppResult<(Report, bool)> {
        let (room, role) = access::room(conn, caller, self.room_id, Access::See).await?;
        let who = Standing {
            trusted: caller.is_trusted(),
            role,
        };
        policy::may(who, facts(&room), Change::Report)?;
        let message = db::messages::find_in_room(conn, room.id, self.message_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if message.is_deleted {
            return Err(AppError::Conflict("the message was deleted".into()));
        }
        let tenant = caller.tenant_id.uuid();
        let me = caller.user_id.uuid();
        Ok(db::reports::file(conn, tenant, room.id, message.id, me, &self.reason).await?)
    }
}

/// An open report of the caller's tenant (404 for another tenant's, 409 once resolved).
pub async fn open_report(conn: &mut db::Conn, caller: &Caller, id: Uuid) -> AppResult<Report> {
    let report = db::reports::find(conn, caller.tenant_id.uuid(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if report.status != "open" {
        return Err(AppError::Conflict("the report was already resolved".into()));
    }
    Ok(report)
}

/// Marks the report resolved so (its action already taken) and records it in the audit log.
pub async fn resolve(
    conn: &mut db::Conn,
    caller: &Caller,
    id: Uuid,
    how: Resolution,
) -> AppResult<Report> {
    let tenant = caller.tenant_id.uuid();
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let Some(report) = db::reports::find_for_update(c, tenant, id).await? else {
            return Ok(Err(AppError::NotFound));
        };
        if report.status != "open" {
            return Ok(Err(AppError::Conflict(
                "the report was already resolved".into(),
            )));
        }
        let by = caller.user_id.uuid();
        let done = db::reports::resolve(c, id, how.status(), by, Utc::now()).await?;
        let entry = Entry::new(AuditAction::ReportResolve)
            .room(report.room_id)
            .target(report.id)
            .change("status", report.status, how.status());
        audit::record(c, caller, entry).await?;
        Ok(Ok(done))
    })
    .await?
}
