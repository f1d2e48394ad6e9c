//! New rooms: group, channel and public rooms, the direct room of a pair, and the room of a
//! platform reference (get-or-create).

use actix_web::web;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{announce, room_view, visible_room};
use crate::auth::{AuthUser, Role};
use crate::db;
use crate::db::models::{NewRoom, Room};
use crate::domain;
use crate::error::ErrorEnvelope;
use crate::error::{is_unique_violation, AppError, AppResult};
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

fn external_ref(kind: &str, id: &str) -> AppResult<(String, String)> {
    let ok_kind = (1..=32).contains(&kind.len())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_kind {
        return Err(AppError::bad_request(
            "external_ref.kind",
            "kind must be 1 to 32 of a-z, 0-9, _",
        ));
    }
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "external_ref.id",
            "id must be 1 to 128 characters",
        ));
    }
    Ok((kind.to_owned(), id.to_owned()))
}

/// A room as the body asks for it, validated; answers the new room and its first members.
async fn create_room(
    state: &AppState,
    user: &AuthUser,
    body: &CreateBody,
    reference: Option<(String, String)>,
) -> AppResult<Room> {
    let room_type = body.room_type.as_str();
    if !["group", "channel", "public"].contains(&room_type) {
        let hint = if room_type == "direct" {
            ": use POST /api/chat/rooms/direct"
        } else {
            ""
        };
        return Err(AppError::bad_request(
            "room_type",
            format!("room_type must be group, channel or public{hint}"),
        ));
    }
    let name = domain::text("name", body.name.as_deref().unwrap_or(""), 1, 100, false)?;
    let description = domain::text(
        "description",
        body.description.as_deref().unwrap_or(""),
        0,
        1000,
        true,
    )?;
    let max = state.settings.limits.max_room_members;
    if let Some(m) = body.max_participants {
        if !(1..=max).contains(&m) {
            return Err(AppError::bad_request(
                "max_participants",
                format!("max_participants must be 1 to {max}"),
            ));
        }
    }
    let mut participants: Vec<Uuid> = body
        .participant_ids
        .iter()
        .copied()
        .filter(|p| *p != user.id)
        .collect();
    participants.sort();
    participants.dedup();
    let creator_joins = user.role != Role::Service;
    let total = participants.len() + usize::from(creator_joins);
    if total as i64 > i64::from(body.max_participants.unwrap_or(max)) {
        return Err(AppError::Conflict(
            "more participants than the room allows".into(),
        ));
    }
    let mut conn = state.pool.get().await?;
    let found = db::users::existing_in_tenant(&mut conn, user.tenant_id, &participants).await?;
    if found.len() != participants.len() {
        return Err(AppError::unknown(
            "participant_ids",
            "every participant must be a user of your tenant",
        ));
    }
    let mut members: Vec<(Uuid, &str)> = participants.iter().map(|p| (*p, "member")).collect();
    if creator_joins {
        members.insert(0, (user.id, "owner"));
    }
    let new = NewRoom {
        tenant_id: user.tenant_id,
        name: &name,
        description: &description,
        room_type,
        external_ref_kind: reference.as_ref().map(|r| r.0.as_str()),
        external_ref_id: reference.as_ref().map(|r| r.1.as_str()),
        direct_key: None,
        created_by: Some(user.id),
        max_participants: body.max_participants,
    };
    let room = db::rooms::create(&mut conn, &new, &members)
        .await
        .map_err(|e| {
            AppError::unique_or_internal(e, "a room with this external_ref already exists")
        })?;
    announce(state, &room, participants, user.id);
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
    let view = room_view(&mut conn, &user, &room).await?;
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
        (status = 403, description = "Service tokens do not chat", body = ErrorEnvelope),
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
    if body.user_id == user.id {
        return Err(AppError::Conflict(
            "a direct room needs another user".into(),
        ));
    }
    if user.role == Role::Service {
        return Err(AppError::Forbidden("service tokens do not chat".into()));
    }
    let mut conn = state.pool.get().await?;
    let other = db::users::find_in_tenant(&mut conn, user.tenant_id, body.user_id)
        .await?
        .filter(|u| u.role != "service")
        .ok_or(AppError::NotFound)?;
    let (a, b) = if user.id < other.id {
        (user.id, other.id)
    } else {
        (other.id, user.id)
    };
    let key = format!("{a}:{b}");
    if let Some(room) = db::rooms::find_direct(&mut conn, user.tenant_id, &key).await? {
        return Ok(ok(room_view(&mut conn, &user, &room).await?));
    }
    let name = format!("{} & {}", user.display_name, other.display_name);
    let name: String = name.chars().take(100).collect();
    let new = NewRoom {
        tenant_id: user.tenant_id,
        name: &name,
        description: "",
        room_type: "direct",
        external_ref_kind: None,
        external_ref_id: None,
        direct_key: Some(&key),
        created_by: Some(user.id),
        max_participants: Some(2),
    };
    match db::rooms::create(&mut conn, &new, &[(user.id, "owner"), (other.id, "owner")]).await {
        Ok(room) => {
            announce(&state, &room, vec![other.id], user.id);
            Ok(created(room_view(&mut conn, &user, &room).await?))
        }
        // The other user asked at the same moment: theirs is the room.
        Err(e) if is_unique_violation(&e) => {
            let room = db::rooms::find_direct(&mut conn, user.tenant_id, &key)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(ok(room_view(&mut conn, &user, &room).await?))
        }
        Err(e) => Err(e.into()),
    }
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
    Ok(web::Json(room_view(&mut conn, &user, &room).await?))
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
    if !user.is_admin_or_service() {
        return Err(AppError::Forbidden("needs a service or admin token".into()));
    }
    let reference = external_ref(&path.kind, &path.ref_id)?;
    {
        let mut conn = state.pool.get().await?;
        if let Some(room) =
            db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1).await?
        {
            return Ok(ok(room_view(&mut conn, &user, &room).await?));
        }
    }
    match create_room(&state, &user, &body, Some(reference.clone())).await {
        Ok(room) => {
            let mut conn = state.pool.get().await?;
            Ok(created(room_view(&mut conn, &user, &room).await?))
        }
        Err(AppError::Conflict(_)) => {
            let mut conn = state.pool.get().await?;
            let room =
                db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1)
                    .await?
                    .ok_or(AppError::NotFound)?;
            Ok(ok(room_view(&mut conn, &user, &room).await?))
        }
        Err(e) => Err(e),
    }
}
