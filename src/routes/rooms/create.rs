//! New rooms: group, channel and public rooms, the direct room of a pair, and the room of a
//! platform reference (get-or-create).

use actix_web::web;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{announce, room_view, visible_room};
use crate::auth::AuthUser;
use crate::commands::create_room::external_ref;
use crate::commands::{self, Caller, CreateRoom, RoomDraft};
use crate::db;
use crate::db::models::Room;
use crate::error::ErrorEnvelope;
use crate::error::{AppError, AppResult};
use crate::protocol::views::RoomView;
use crate::routes::answers::{
    created, ok, BadRequest, NotFound, TooLarge, Unauthorized, WithStatus,
};
use crate::routes::extract::Json;
use crate::routes::schemas;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub(super) struct RefBody {
    #[schema(schema_with = schemas::ref_kind)]
    kind: String,
    #[schema(schema_with = schemas::ref_id)]
    id: String,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct CreateBody {
    #[schema(schema_with = schemas::room_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = schemas::new_room_type)]
    room_type: String,
    #[schema(schema_with = schemas::room_description)]
    description: Option<String>,
    /// Users of the caller's tenant (404 naming the field for any other id).
    #[serde(default)]
    participant_ids: Vec<Uuid>,
    /// Ignored by `PUT /by-ref/..`, which takes the reference from its path.
    external_ref: Option<RefBody>,
    /// `limits.max_room_members` at most; more first members than this is 409.
    #[schema(schema_with = schemas::max_participants)]
    max_participants: Option<i32>,
}

/// A room as the body asks for it: the command parses and writes it; its first members hear of it.
async fn create_room(
    state: &AppState,
    user: &AuthUser,
    body: &CreateBody,
    reference: Option<(String, String)>,
) -> AppResult<Room> {
    let caller = Caller::from_auth(user);
    let draft = RoomDraft {
        name: body.name.as_deref(),
        room_type: &body.room_type,
        description: body.description.as_deref(),
        participant_ids: &body.participant_ids,
        max_participants: body.max_participants,
    };
    let command = CreateRoom::parse(&state.settings, &caller, &draft, reference)?;
    let mut conn = state.pool.get().await?;
    let room = command.apply(&mut conn, &caller).await?;
    announce(state, &room, command.participants, user.id);
    Ok(room)
}

/// Create a group, channel or public room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms",
    operation_id = "rooms_create",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, description = "A participant is not a user of the caller's tenant", body = ErrorEnvelope),
        (status = 409, description = "More participants than the room allows, or the external_ref is taken", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<CreateBody>,
) -> AppResult<WithStatus<RoomView>> {
    let reference = body
        .external_ref
        .as_ref()
        .map(|r| external_ref(&r.kind, &r.id))
        .transpose()?;
    let room = create_room(&state, &user, &body, reference).await?;
    let mut conn = state.pool.get().await?;
    let view = room_view(&mut conn, &state.settings, &user, &room).await?;
    Ok(created(view))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct DirectBody {
    user_id: Uuid,
}

/// The direct room of a pair: the existing one, or a new one; concurrent first calls make one.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/direct",
    operation_id = "rooms_direct",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The existing direct room", body = RoomView),
        (status = 201, description = "A new direct room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Service tokens do not chat, or the caller cannot message this user", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The user is the caller", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn direct(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<DirectBody>,
) -> AppResult<WithStatus<RoomView>> {
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let direct = commands::direct::open(&mut conn, &caller, body.user_id).await?;
    let view = room_view(&mut conn, &state.settings, &user, &direct.room).await?;
    if !direct.created {
        return Ok(ok(view));
    }
    let other = body.user_id;
    announce(&state, &direct.room, vec![other], user.id);
    Ok(created(view))
}

/// A platform reference in a path: `/by-ref/{kind}/{ref_id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct RefPath {
    #[param(schema_with = schemas::ref_kind)]
    kind: String,
    #[param(schema_with = schemas::ref_id)]
    ref_id: String,
}

/// The room of a platform reference.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/by-ref/{kind}/{ref_id}",
    operation_id = "rooms_get_by_ref",
    params(RefPath),
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn get_by_ref(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<RefPath>,
) -> AppResult<web::Json<RoomView>> {
    let (kind, id) = external_ref(&path.kind, &path.ref_id)?;
    let mut conn = state.pool.get().await?;
    let room = db::rooms::find_by_ref(&mut conn, user.tenant_id, &kind, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (room, _) = visible_room(&mut conn, &user, room.id).await?;
    Ok(web::Json(
        room_view(&mut conn, &state.settings, &user, &room).await?,
    ))
}

/// Get-or-create for platform modules (service or admin tokens); idempotent, also when racing.
#[utoipa::path(
    put,
    path = "/api/chat/rooms/by-ref/{kind}/{ref_id}",
    operation_id = "rooms_put_by_ref",
    params(RefPath),
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The existing room", body = RoomView),
        (status = 201, description = "A new room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Needs a service or admin token", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn put_by_ref(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<RefPath>,
    Json(body): Json<CreateBody>,
) -> AppResult<WithStatus<RoomView>> {
    commands::create_room::may_claim_reference(&Caller::from_auth(&user))?;
    let reference = external_ref(&path.kind, &path.ref_id)?;
    {
        let mut conn = state.pool.get().await?;
        if let Some(room) =
            db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1).await?
        {
            return Ok(ok(
                room_view(&mut conn, &state.settings, &user, &room).await?
            ));
        }
    }
    match create_room(&state, &user, &body, Some(reference.clone())).await {
        Ok(room) => {
            let mut conn = state.pool.get().await?;
            Ok(created(
                room_view(&mut conn, &state.settings, &user, &room).await?,
            ))
        }
        Err(AppError::Conflict(_)) => {
            let mut conn = state.pool.get().await?;
            let room =
                db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1)
                    .await?
                    .ok_or(AppError::NotFound)?;
            Ok(ok(
                room_view(&mut conn, &state.settings, &user, &room).await?
            ))
        }
        Err(e) => Err(e),
    }
}
