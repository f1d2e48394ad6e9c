//! A tenant's notification defaults (issue 14): `GET`/`PUT`/`DELETE /api/admin/notify_defaults`.
//! Admin or service tokens, within their own tenant; each change is audited.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answers::{AdminOnly, BadRequest, TooLarge, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::Json;
use crate::auth::ServiceUser;
use crate::commands::notify_defaults::{self, Effective};
use crate::commands::Caller;
use crate::error::AppResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/admin/notify_defaults")
            .get(get_defaults)
            .put(set_defaults)
            .delete(clear_defaults)
            .build(),
    );
}

/// What members who never chose are notified of (`all`, `mentions` or `none`).
#[derive(Serialize, ToSchema)]
pub struct NotifyDefaultsView {
    /// In direct rooms.
    pub direct: String,
    /// In every other room.
    pub other: String,
    /// `tenant` (set here) or `server` (the server's settings, none set).
    pub source: String,
}

impl From<Effective> for NotifyDefaultsView {
    fn from(e: Effective) -> Self {
        NotifyDefaultsView {
            direct: e.defaults.direct,
            other: e.defaults.other,
            source: if e.tenant_set { "tenant" } else { "server" }.into(),
        }
    }
}

/// The tenant's defaults to set.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyDefaultsBody {
    #[schema(pattern = "^(all|mentions|none)$")]
    pub direct: String,
    #[schema(pattern = "^(all|mentions|none)$")]
    pub other: String,
}

/// The tenant's notification defaults.
#[utoipa::path(
    get,
    path = "/api/admin/notify_defaults",
    operation_id = "admin_notify_defaults",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The defaults that apply", body = NotifyDefaultsView),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
pub async fn get_defaults(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<web::Json<NotifyDefaultsView>> {
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let found = notify_defaults::get(&mut conn, &caller, &state.settings).await?;
    Ok(web::Json(found.into()))
}

/// Set the tenant's notification defaults (audited).
#[utoipa::path(
    put,
    path = "/api/admin/notify_defaults",
    operation_id = "admin_set_notify_defaults",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NotifyDefaultsBody,
    responses(
        (status = 200, description = "The defaults that apply now", body = NotifyDefaultsView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 413, response = TooLarge)
    )
)]
pub async fn set_defaults(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    Json(body): Json<NotifyDefaultsBody>,
) -> AppResult<web::Json<NotifyDefaultsView>> {
    let to = notify_defaults::parse(&body.direct, &body.other)?;
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let now = notify_defaults::set(&mut conn, &caller, &state.settings, Some(to)).await?;
    Ok(web::Json(now.into()))
}

/// Clear the tenant's defaults: the server's apply again (audited).
#[utoipa::path(
    delete,
    path = "/api/admin/notify_defaults",
    operation_id = "admin_clear_notify_defaults",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server's defaults, which apply now", body = NotifyDefaultsView),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
pub async fn clear_defaults(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<web::Json<NotifyDefaultsView>> {
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let now = notify_defaults::set(&mut conn, &caller, &state.settings, None).await?;
    Ok(web::Json(now.into()))
}
