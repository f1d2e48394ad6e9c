//! The admin side of moderation (issue 17): the audit log, and the reports members filed.
//! Admin or service tokens, always within their own tenant (another tenant's report is 404).

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{AdminOnly, BadRequest, Conflict, NotFound, Results, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::Json;
use super::messages::{signed, views};
use super::moderation::{with_messages, ReportView};
use crate::actors::supervisor;
use crate::auth::ServiceUser;
use crate::commands::retention::RoomRetention;
use crate::commands::{reports, retention, Caller, Command, DeleteMessage};
use crate::db;
use crate::db::audit::{AuditEntry, AuditFilter};
use crate::domain::moderation::{self, AuditAction, Resolution};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/admin/audit").get(audit).build())
        .service(
            Endpoint::new("/api/admin/reports")
                .get(list_reports)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/reports/{report_id}/resolve")
                .post(resolve)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/retention")
                .get(tenant_retention)
                .put(set_tenant_retention)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/rooms/{room_id}/retention")
                .get(room_retention)
                .put(set_room_retention)
                .build(),
        );
}

/// One recorded action.
#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub actor_id: Uuid,
    /// `message.delete`, `message.pin`, `message.unpin`, `member.role`, `member.remove`,
    /// `user.ban`, `user.unban`, `report.resolve`, `token.mint`, `retention.set`, `webhook.*` or
    /// `notify_defaults.set`.
    pub action: String,
    pub room_id: Option<Uuid>,
    /// The message, user or report acted on.
    pub target_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            actor_id: e.actor_id,
            action: e.action,
            room_id: e.room_id,
            target_id: e.target_id,
            before: e.before,
            after: e.after,
            created_at: e.created_at,
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub results: Vec<AuditView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    room_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    /// One action (see `AuditView.action`).
    action: Option<String>,
    /// Only entries before this time (RFC 3339).
    before: Option<DateTime<Utc>>,
    /// Only entries after this time (RFC 3339).
    after: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    #[param(minimum = 1)]
    cursor: Option<i64>,
    /// Page size (default 50, at most `limits.max_page_size`).
    #[param(minimum = 1)]
    limit: Option<i64>,
}

/// The tenant's audit log: moderation and administrative actions, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/audit",
    operation_id = "admin_audit",
    params(AuditQuery),
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn audit(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    q: web::Query<AuditQuery>,
) -> AppResult<web::Json<AuditPage>> {
    let limit = page_size(&state, q.limit)?;
    let action = q
        .action
        .as_deref()
        .map(|a| AuditAction::parse("action", a))
        .transpose()?;
    let filter = AuditFilter {
        room_id: q.room_id,
        actor_id: q.actor_id,
        action: action.map(AuditAction::as_str),
        before: q.before,
        after: q.after,
        cursor: q.cursor,
    };
    let mut conn = state.pool.get().await?;
    let rows = db::audit::list(&mut conn, user.tenant_id, &filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let results: Vec<AuditView> = rows
        .into_iter()
        .take(limit as usize)
        .map(AuditView::from)
        .collect();
    let next_cursor = if more {
        results.last().map(|e| e.id)
    } else {
        None
    };
    Ok(web::Json(AuditPage {
        results,
        next_cursor,
    }))
}

/// A page size from a query (default 50; 400 outside 1 to `limits.max_page_size`).
fn page_size(state: &AppState, limit: Option<i64>) -> AppResult<i64> {
    let max = state.settings.limits.max_page_size;
    let limit = limit.unwrap_or(50.min(max));
    if !(1..=max).contains(&limit) {
        return Err(AppError::bad_request(
            "limit",
            format!("limit must be 1 to {max}"),
        ));
    }
    Ok(limit)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportsQuery {
    /// Only reports in this state: `open`, `dismissed`, `message_deleted`, `user_banned`.
    status: Option<String>,
    /// Skip this many (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Page size (default 50, at most `limits.max_page_size`).
    #[param(minimum = 1)]
    limit: Option<i64>,
}

const STATUSES: [&str; 4] = ["open", "dismissed", "message_deleted", "user_banned"];

/// The tenant's reports, newest first, each with the reported message as it is now.
#[utoipa::path(
    get,
    path = "/api/admin/reports",
    operation_id = "admin_reports",
    params(ReportsQuery),
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of reports", body = Results<ReportView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn list_reports(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    q: web::Query<ReportsQuery>,
) -> AppResult<web::Json<Results<ReportView>>> {
    let limit = page_size(&state, q.limit)?;
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(AppError::bad_request(
            "status",
            format!(
                "status must be one of {} (not {s:.40})",
                STATUSES.join(", ")
            ),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::bad_request("offset", "offset must be >= 0"));
    }
    let mut conn = state.pool.get().await?;
    let rows = db::reports::list(
        &mut conn,
        user.tenant_id,
        q.status.as_deref(),
        offset,
        limit,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.message_id).collect();
    let messages = db::messages::by_ids(&mut conn, &ids).await?;
    let shown = signed(&state, &user, views(&mut conn, &messages).await?);
    Ok(web::Json(Results::new(with_messages(rows, &shown))))
}

#[derive(Deserialize, ToSchema)]
struct ResolveBody {
    /// `dismiss`, `delete_message` (the message becomes a tombstone) or `ban_user` (its sender is
    /// banned).
    #[schema(pattern = "^(dismiss|delete_message|ban_user)$")]
    action: String,
}

/// Resolve an open report, taking its action first; recorded in the audit log.
#[utoipa::path(
    post,
    path = "/api/admin/reports/{report_id}/resolve",
    operation_id = "admin_resolve_report",
    tag = "admin",
    security(("bearer" = [])),
    request_body = ResolveBody,
    responses(
        (status = 200, description = "The resolved report", body = ReportView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict)
    )
)]
async fn resolve(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<ResolveBody>,
) -> AppResult<web::Json<ReportView>> {
    let how = Resolution::parse("action", &body.action)?;
    let caller = Caller::from_auth(&user);
    let id = path.into_inner();
    let mut conn = state.pool.get().await?;
    let report = reports::open_report(&mut conn, &caller, id).await?;
    match how {
        Resolution::Dismiss => {}
        Resolution::DeleteMessage => {
            let delete = Command::Delete(DeleteMessage {
                message_id: report.message_id.into(),
            });
            let room = report.room_id.into();
            supervisor::apply(&state.supervisor, room, caller.clone(), delete).await?;
        }
        Resolution::BanUser => {
            let sender = db::messages::find_in_room(&mut conn, report.room_id, report.message_id)
                .await?
                .ok_or(AppError::NotFound)?
                .sender_id;
            super::admin::set_ban(&state, &user, sender, true).await?;
        }
    }
    let done = reports::resolve(&mut conn, &caller, id, how).await?;
    Ok(web::Json(ReportView::from(done)))
}

/// The tenant's retention: messages older than `retention_days` are removed (null: kept forever).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TenantRetention {
    #[schema(minimum = 1, maximum = 36500)]
    pub retention_days: Option<i64>,
}

/// A room's retention.
#[derive(Serialize, ToSchema)]
pub struct RoomRetentionView {
    /// The room's own (null: the tenant's).
    pub retention_days: Option<i32>,
    /// Only the newest this many messages are kept (null: no cap).
    pub max_messages: Option<i32>,
    /// Messages below this seq were removed by retention (0: none).
    pub retained_from_seq: i64,
}

impl From<RoomRetention> for RoomRetentionView {
    fn from(r: RoomRetention) -> Self {
        RoomRetentionView {
            retention_days: r.retention_days,
            max_messages: r.max_messages,
            retained_from_seq: r.retained_from_seq,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct RoomRetentionBody {
    /// Days (null: the tenant's).
    #[schema(minimum = 1, maximum = 36500)]
    retention_days: Option<i64>,
    /// The newest this many messages are kept (null: no cap).
    #[schema(minimum = 1, maximum = 100000000)]
    max_messages: Option<i64>,
}

/// The tenant's retention.
#[utoipa::path(
    get,
    path = "/api/admin/retention",
    operation_id = "admin_retention",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's retention", body = TenantRetention),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn tenant_retention(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<web::Json<TenantRetention>> {
    let mut conn = state.pool.get().await?;
    let days = db::retention::tenant_days(&mut conn, user.tenant_id).await?;
    Ok(web::Json(TenantRetention {
        retention_days: days.map(i64::from),
    }))
}

/// Set the tenant's retention (audited).
#[utoipa::path(
    put,
    path = "/api/admin/retention",
    operation_id = "admin_set_retention",
    tag = "admin",
    security(("bearer" = [])),
    request_body = TenantRetention,
    responses(
        (status = 200, description = "The tenant's retention", body = TenantRetention),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn set_tenant_retention(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    Json(body): Json<TenantRetention>,
) -> AppResult<web::Json<TenantRetention>> {
    let days = moderation::retention_days("retention_days", body.retention_days)?;
    let mut conn = state.pool.get().await?;
    retention::set_tenant(&mut conn, &Caller::from_auth(&user), days).await?;
    Ok(web::Json(body))
}

/// A room's retention.
#[utoipa::path(
    get,
    path = "/api/admin/rooms/{room_id}/retention",
    operation_id = "admin_room_retention",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room's retention", body = RoomRetentionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn room_retention(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<RoomRetentionView>> {
    let mut conn = state.pool.get().await?;
    let r = retention::room(&mut conn, &Caller::from_auth(&user), path.into_inner()).await?;
    Ok(web::Json(r.into()))
}

/// Set a room's retention and cap by count (audited).
#[utoipa::path(
    put,
    path = "/api/admin/rooms/{room_id}/retention",
    operation_id = "admin_set_room_retention",
    tag = "admin",
    security(("bearer" = [])),
    request_body = RoomRetentionBody,
    responses(
        (status = 200, description = "The room's retention", body = RoomRetentionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn set_room_retention(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<RoomRetentionBody>,
) -> AppResult<web::Json<RoomRetentionView>> {
    let days = moderation::retention_days("retention_days", body.retention_days)?;
    let max = moderation::max_messages("max_messages", body.max_messages)?;
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let r = retention::set_room(&mut conn, &caller, path.into_inner(), days, max).await?;
    Ok(web::Json(r.into()))
}
