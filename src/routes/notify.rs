//! A member's own notification settings in a room: `GET`/`PATCH /api/chat/rooms/{id}/members/me`.

use actix_web::web;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::{BadRequest, NotFound, TooLarge, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::Json;
use crate::auth::AuthUser;
use crate::commands::notify_settings::{self, SetNotify};
use crate::commands::Caller;
use crate::error::AppResult;
use crate::protocol::notify::NotifyView;
use crate::state::AppState;

/// Registered before the rooms' `/members/{user_id}`, which `me` would not parse as.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/chat/rooms/{room_id}/members/me")
            .get(get_me)
            .patch(patch_me)
            .build(),
    );
}

/// What to change (at least one field).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyBody {
    /// `all`, `mentions` or `none`.
    #[schema(pattern = "^(all|mentions|none)$")]
    pub notify: Option<String>,
    pub muted: Option<bool>,
    /// An RFC 3339 time, or null to clear.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::protocol::notify::present")]
    pub muted_until: Option<Value>,
}

/// My notification settings in a room.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/members/me",
    operation_id = "rooms_my_notify_settings",
    tag = "rooms",
    security(("bearer" = [])),
    params(("room_id" = Uuid, Path, description = "The room")),
    responses(
        (status = 200, description = "My settings", body = NotifyView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub async fn get_me(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<NotifyView>> {
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    let room_id = path.into_inner();
    let view = notify_settings::current(&mut conn, &state.settings, &caller, room_id).await?;
    Ok(web::Json(view))
}

/// Change my notification settings in a room.
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}/members/me",
    operation_id = "rooms_set_my_notify_settings",
    tag = "rooms",
    security(("bearer" = [])),
    params(("room_id" = Uuid, Path, description = "The room")),
    request_body = NotifyBody,
    responses(
        (status = 200, description = "My settings after the change", body = NotifyView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
pub async fn patch_me(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<NotifyBody>,
) -> AppResult<web::Json<NotifyView>> {
    let command = SetNotify::parse(
        body.notify.as_deref(),
        body.muted,
        body.muted_until.as_ref(),
    )?;
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    let room_id = path.into_inner();
    let view = command
        .apply(&mut conn, &state.settings, &caller, room_id)
        .await?;
    Ok(web::Json(view))
}
