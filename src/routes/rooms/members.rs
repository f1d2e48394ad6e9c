//! Membership: join a public room, leave, list, add, change a role, remove.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{member_room, room_view, visible_room, write};
use crate::auth::AuthUser;
use crate::commands::{AddMember, Command, JoinRoom, RemoveMember, SetRole};
use crate::db;
use crate::domain::role::Role;
use crate::error::ErrorEnvelope;
use crate::error::{AppError, AppResult};
use crate::protocol::views::{MemberView, RoomView};
use crate::routes::answers::{
    created, BadRequest, NotFound, Results, TooLarge, Unauthorized, WithStatus,
};
use crate::routes::extract::Json;
use crate::routes::schemas;
use crate::state::AppState;

/// Join a public room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/join",
    operation_id = "rooms_join",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The joined room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not a public room", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "Already a member, or the room is full", body = ErrorEnvelope)
    )
)]
pub(super) async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<RoomView>> {
    let room_id = path.into_inner();
    let room = {
        let mut conn = state.pool.get().await?;
        visible_room(&mut conn, &user, room_id).await?.0
    };
    write(&state, &user, room_id, Command::Join(JoinRoom)).await?;
    let mut conn = state.pool.get().await?;
    Ok(web::Json(
        room_view(&mut conn, &state.settings, &user, &room).await?,
    ))
}

/// Leave a room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/leave",
    operation_id = "rooms_leave",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Left"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Nobody leaves a direct room", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope)
    )
)]
pub(super) async fn leave(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let leave = RemoveMember {
        user_id: user.id.into(),
    };
    write(&state, &user, room_id, Command::RemoveMember(leave)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The current members of a room.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/members",
    operation_id = "rooms_members",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Members", body = Results<MemberView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn members(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<Results<MemberView>>> {
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    member_room(&mut conn, &user, room_id).await?;
    let rows = db::rooms::active_members(&mut conn, room_id).await?;
    let results: Vec<MemberView> = rows.iter().map(|(m, u)| MemberView::build(m, u)).collect();
    Ok(web::Json(Results::new(results)))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct AddMemberBody {
    user_id: Uuid,
    /// `member` when absent.
    #[schema(schema_with = schemas::room_role_or_null)]
    role: Option<String>,
}

/// Add a user of the tenant to a room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/members",
    operation_id = "rooms_add_member",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new member", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "Already a member, or the room is full", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn add_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<AddMemberBody>,
) -> AppResult<WithStatus<MemberView>> {
    let room_id = path.into_inner();
    let role = Role::parse("role", body.role.as_deref().unwrap_or("member"))?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(
        &state,
        &user,
        room_id,
        Command::AddMember(AddMember {
            user_id: body.user_id.into(),
            role,
        }),
    )
    .await?;
    let member = out
        .member
        .ok_or_else(|| AppError::internal("the room actor answered no member"))?;
    Ok(created(member))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct RoleBody {
    #[schema(schema_with = schemas::room_role)]
    role: String,
}

/// Change a member's role.
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}/members/{user_id}",
    operation_id = "rooms_set_role",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn set_role(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<RoleBody>,
) -> AppResult<web::Json<MemberView>> {
    let (room_id, target) = path.into_inner();
    let role = Role::parse("role", &body.role)?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(
        &state,
        &user,
        room_id,
        Command::SetRole(SetRole {
            user_id: target.into(),
            role,
        }),
    )
    .await?;
    match out.member {
        Some(m) => Ok(web::Json(m)),
        None => {
            // The role was already that: answer the member as they are.
            let mut conn = state.pool.get().await?;
            let m = db::rooms::membership(&mut conn, room_id, target)
                .await?
                .ok_or(AppError::NotFound)?;
            let u = db::users::find(&mut conn, target)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(web::Json(MemberView::build(&m, &u)))
        }
    }
}

/// Remove a member from a room.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/members/{user_id}",
    operation_id = "rooms_remove_member",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope)
    )
)]
pub(super) async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, target) = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    write(
        &state,
        &user,
        room_id,
        Command::RemoveMember(RemoveMember {
            user_id: target.into(),
        }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
