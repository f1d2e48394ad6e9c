//! A member's own notification settings in a room: `GET`/`PATCH /api/chat/rooms/{id}/members/me`.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::{BadRequest, NotFound, TooLarge, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::Json;
use crate::auth::AuthUser;
use crate::commands::notify_settings::{self, SetNotify};
use crate::commands::Caller;
use crate::db::models::Room;
use crate::db::notifications::NotifySettings;
use crate::error::AppResult;
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

/// My notification settings in a room.
#[derive(Serialize, ToSchema)]
pub struct NotifyView {
    pub room_id: Uuid,
    /// What I am notified of when not looking: `all`, `mentions` or `none`.
    pub notify: String,
    /// Whether `notify` is the room type's default (I never chose).
    pub notify_default: bool,
    /// Muted until unmuted.
    pub muted: bool,
    /// Muted until then (absent: no timed mute).
    #[serde(with = "crate::domain::time::millis_opt")]
    pub muted_until: Option<DateTime<Utc>>,
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
    #[serde(default, deserialize_with = "present")]
    pub muted_until: Option<Value>,
}

/// A field given as `null` is `Some(Null)` (clear it), unlike a field left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
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
    let (room, s) = notify_settings::current(&mut conn, &caller, path.into_inner()).await?;
    Ok(web::Json(view(&state, &room, s)))
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
    let (room, s) = command.apply(&mut conn, &caller, path.into_inner()).await?;
    Ok(web::Json(view(&state, &room, s)))
}

fn view(state: &AppState, room: &Room, s: NotifySettings) -> NotifyView {
    let n = &state.settings.notifications;
    let default = if room.room_type == "direct" {
        &n.default_direct
    } else {
        &n.default_other
    };
    NotifyView {
        room_id: room.id,
        notify_default: s.notify.is_none(),
        notify: s.notify.unwrap_or_else(|| default.clone()),
        muted: s.muted,
        muted_until: s.muted_until,
    }
}
