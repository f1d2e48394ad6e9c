//! One room: read it, change it (PATCH, or PUT with the same meaning), deactivate it.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{member_room, room_view, visible_room, write};
use crate::auth::AuthUser;
use crate::commands::{Command, UpdateRoom};
use crate::error::ErrorEnvelope;
use crate::error::{AppError, AppResult};
use crate::protocol::views::RoomView;
use crate::routes::answers::{BadRequest, NotFound, TooLarge, Unauthorized};
use crate::routes::extract::Json;
use crate::routes::schemas;
use crate::routes::users::double_option;
use crate::state::AppState;

/// One room, with the caller's counts when a member.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_get",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<RoomView>> {
    let mut conn = state.pool.get().await?;
    let (room, _) = visible_room(&mut conn, &user, path.into_inner()).await?;
    Ok(web::Json(
        room_view(&mut conn, &state.settings, &user, &room).await?,
    ))
}

/// The fields to change; absent ones stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PatchBody {
    #[schema(schema_with = schemas::room_name_or_null)]
    name: Option<String>,
    #[schema(schema_with = schemas::room_description)]
    description: Option<String>,
    /// Null lifts the limit; a direct room's cannot change (409).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schemas::max_participants)]
    max_participants: Option<Option<i32>>,
}

/// Change a room's name, description or size limit.
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_patch",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "A direct room's size cannot change", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<PatchBody>,
) -> AppResult<web::Json<RoomView>> {
    let room_id = path.into_inner();
    let update = UpdateRoom::parse(
        &state.settings,
        body.name.as_deref(),
        body.description.as_deref(),
        body.max_participants,
    )?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(&state, &user, room_id, Command::UpdateRoom(update)).await?;
    let room = out
        .room
        .ok_or_else(|| AppError::internal("the room actor answered no room"))?;
    Ok(web::Json(room))
}

/// Change a room (the same as PATCH: absent fields stay as they are), for clients that update
/// with PUT.
#[utoipa::path(
    put,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_put",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "A direct room's size cannot change", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn put(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: Json<PatchBody>,
) -> AppResult<web::Json<RoomView>> {
    patch(state, user, path, body).await
}

/// Deactivate a room.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_deactivate",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn deactivate(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    write(
        &state,
        &user,
        room_id,
        Command::UpdateRoom(UpdateRoom::deactivate()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
