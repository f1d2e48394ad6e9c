//! The admin API's webhook endpoints (`/api/admin/webhooks`): create (the secret is shown once),
//! list, read, change, delete, rotate the secret, the deliveries list and a manual retry. Admin
//! or service tokens, always within their own tenant (another tenant's endpoint is 404).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{
    created, AdminOnly, BadRequest, NotFound, Results, TooLarge, Unauthorized, WithStatus,
};
use super::endpoint::Endpoint;
use super::extract::Json;
use crate::auth::ServiceUser;
use crate::commands::webhooks::{self as hooks, EndpointDraft};
use crate::commands::Caller;
use crate::db::{self, webhooks::DeliveryRow};
use crate::error::AppResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/admin/webhooks")
            .get(list)
            .post(create)
            .build(),
    )
    .service(
        Endpoint::new("/api/admin/webhooks/{webhook_id}")
            .get(get)
            .patch(patch)
            .delete(delete)
            .build(),
    )
    .service(
        Endpoint::new("/api/admin/webhooks/{webhook_id}/rotate_secret")
            .post(rotate)
            .build(),
    )
    .service(
        Endpoint::new("/api/admin/webhooks/{webhook_id}/deliveries")
            .get(deliveries)
            .build(),
    )
    .service(
        Endpoint::new("/api/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
            .post(retry)
            .build(),
    );
}

/// A webhook endpoint (never with its secret, except in the answers that made one).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// `ok`, or `failing` once a delivery was given up (until the next success).
    pub status: String,
    /// While a rotated secret still signs too (two signatures per delivery), until when.
    #[serde(with = "crate::domain::time::millis_opt")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::domain::time::millis")]
    pub updated_at: DateTime<Utc>,
    /// `whsec_<base64>`: only in the answers of creation and rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn build(e: db::webhooks::Endpoint, secret: Option<String>) -> Self {
        let overlap = e.previous_until.filter(|t| *t > Utc::now());
        WebhookView {
            id: e.id,
            url: e.url,
            events: e.events,
            description: e.description,
            enabled: e.enabled,
            status: e.status,
            previous_secret_expires_at: overlap,
            created_at: e.created_at,
            updated_at: e.updated_at,
            secret,
        }
    }
}

/// A new endpoint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// https (plain http only to hosts in `webhooks.allow_insecure_hosts`), no private address.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Event types: `notification`, `message.created`, `message.updated`, `message.deleted`,
    /// `member.added`, `member.removed`, `room.created`, `room.updated`.
    #[schema(min_items = 1, max_items = 8)]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// What to change of an endpoint; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 8)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Pause (false) or resume deliveries.
    pub enabled: Option<bool>,
}

/// One delivery of an event to an endpoint that is kept: a `notification` or `room.created`,
/// and a room event whose first attempt failed (one that went on its first attempt is only
/// counted, in `confab_webhook_delivered_total`).
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` header (the same on every attempt).
    pub webhook_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (given up after the retry window).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The HTTP status of the last answer.
    pub last_status: Option<i32>,
    /// When a pending delivery is tried next.
    #[serde(with = "crate::domain::time::millis_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::domain::time::millis_opt")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(d: DeliveryRow) -> Self {
        DeliveryView {
            id: d.id,
            webhook_id: d.msg_id,
            event_type: d.kind,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            last_status: d.last_status,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Deliveries older than this delivery id (the previous page's last).
    #[param(minimum = 1)]
    before: Option<i64>,
    /// Page size (default 50, at most `limits.max_page_size`).
    #[param(minimum = 1)]
    limit: Option<i64>,
}

/// Add a webhook endpoint; its secret is in this answer only.
#[utoipa::path(
    post,
    path = "/api/admin/webhooks",
    operation_id = "admin_webhooks_create",
    tag = "admin",
    security(("bearer" = [])),
    request_body = WebhookCreate,
    responses(
        (status = 201, description = "The endpoint, with its secret", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 413, response = TooLarge)
    )
)]
async fn create(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    Json(body): Json<WebhookCreate>,
) -> AppResult<WithStatus<WebhookView>> {
    let draft = EndpointDraft {
        url: Some(&body.url),
        events: Some(&body.events),
        description: body.description.as_deref(),
        enabled: None,
    };
    let mut conn = state.pool.get().await?;
    let (e, secret) = hooks::create(
        &mut conn,
        &state.hooks,
        &state.settings,
        &Caller::from_auth(&user),
        &draft,
    )
    .await?;
    Ok(created(WebhookView::build(e, Some(secret))))
}

/// The tenant's webhook endpoints.
#[utoipa::path(
    get,
    path = "/api/admin/webhooks",
    operation_id = "admin_webhooks_list",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints", body = Results<WebhookView>),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn list(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<web::Json<Results<WebhookView>>> {
    let mut conn = state.pool.get().await?;
    let rows = db::webhooks::list(&mut conn, user.tenant_id).await?;
    let views = rows
        .into_iter()
        .map(|e| WebhookView::build(e, None))
        .collect();
    Ok(web::Json(Results::new(views)))
}

/// One webhook endpoint.
#[utoipa::path(
    get,
    path = "/api/admin/webhooks/{webhook_id}",
    operation_id = "admin_webhooks_get",
    tag = "admin",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn get(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<WebhookView>> {
    let mut conn = state.pool.get().await?;
    let e = db::webhooks::get(&mut conn, user.tenant_id, path.into_inner())
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(web::Json(WebhookView::build(e, None)))
}

/// Change a webhook endpoint (url, events, description, enabled).
#[utoipa::path(
    patch,
    path = "/api/admin/webhooks/{webhook_id}",
    operation_id = "admin_webhooks_patch",
    tag = "admin",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint")),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "The endpoint after the change", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn patch(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<WebhookPatch>,
) -> AppResult<web::Json<WebhookView>> {
    let draft = EndpointDraft {
        url: body.url.as_deref(),
        events: body.events.as_deref(),
        description: body.description.as_deref(),
        enabled: body.enabled,
    };
    let mut conn = state.pool.get().await?;
    let id = path.into_inner();
    let e = hooks::update(
        &mut conn,
        &state.hooks,
        &state.settings,
        &Caller::from_auth(&user),
        id,
        &draft,
    )
    .await?;
    Ok(web::Json(WebhookView::build(e, None)))
}

/// Delete a webhook endpoint and its deliveries.
#[utoipa::path(
    delete,
    path = "/api/admin/webhooks/{webhook_id}",
    operation_id = "admin_webhooks_delete",
    tag = "admin",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn delete(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    hooks::delete(&mut conn, &state.hooks, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret (in this answer only); the old one keeps signing, as a second signature, for
/// `webhooks.rotation_overlap_secs` (24 h by default).
#[utoipa::path(
    post,
    path = "/api/admin/webhooks/{webhook_id}/rotate_secret",
    operation_id = "admin_webhooks_rotate_secret",
    tag = "admin",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint, with its new secret", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn rotate(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<WebhookView>> {
    let mut conn = state.pool.get().await?;
    let (e, secret) = hooks::rotate(
        &mut conn,
        &state.settings,
        &Caller::from_auth(&user),
        path.into_inner(),
    )
    .await?;
    Ok(web::Json(WebhookView::build(e, Some(secret))))
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/webhooks/{webhook_id}/deliveries",
    operation_id = "admin_webhooks_deliveries",
    tag = "admin",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The endpoint"), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Results<DeliveryView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn deliveries(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    q: web::Query<DeliveriesQuery>,
) -> AppResult<web::Json<Results<DeliveryView>>> {
    let id = path.into_inner();
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    let mut conn = state.pool.get().await?;
    db::webhooks::get(&mut conn, user.tenant_id, id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let rows = db::webhooks::deliveries(&mut conn, user.tenant_id, id, q.before, limit).await?;
    Ok(web::Json(Results::new(
        rows.into_iter().map(Into::into).collect(),
    )))
}

/// Send a delivery again now (same `webhook-id`, a fresh retry window).
#[utoipa::path(
    post,
    path = "/api/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    operation_id = "admin_webhooks_retry",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("webhook_id" = Uuid, Path, description = "The endpoint"),
        ("delivery_id" = i64, Path, description = "The delivery", minimum = 1)
    ),
    responses(
        (status = 202, description = "Queued"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn retry(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<(Uuid, i64)>,
) -> AppResult<HttpResponse> {
    let (id, delivery) = path.into_inner();
    let mut conn = state.pool.get().await?;
    if !db::webhooks::retry(&mut conn, user.tenant_id, id, delivery).await? {
        return Err(crate::error::AppError::NotFound);
    }
    Ok(HttpResponse::Accepted().finish())
}
