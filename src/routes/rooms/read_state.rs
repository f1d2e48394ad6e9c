//! The caller's state in a room: archived or not, read up to where, and who is typing.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{member_room, own_room, write};
use crate::actors::room::ListTyping;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::{Command, MarkRead};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::routes::answers::{BadRequest, NotFound, TooLarge, Unauthorized};
use crate::routes::extract::MaybeJson;
use crate::state::AppState;

/// Whether the room is archived for the caller.
#[derive(Serialize, ToSchema)]
pub struct ArchiveState {
    pub room_id: Uuid,
    pub archived: bool,
}

/// The caller's read state in a room after marking it read.
#[derive(Serialize, ToSchema)]
pub struct ReadState {
    pub room_id: Uuid,
    pub last_read_seq: Option<i64>,
    pub unread_count: Option<i64>,
    pub mention_count: Option<i64>,
    pub last_seq: i64,
}

/// Who is typing in a room (the caller left out).
#[derive(Serialize, ToSchema)]
pub struct Typing {
    pub room_id: Uuid,
    pub user_ids: Vec<Uuid>,
}

async fn set_archived(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    archived: bool,
) -> AppResult<web::Json<ArchiveState>> {
    let mut conn = state.pool.get().await?;
    own_room(&mut conn, user, room_id).await?;
    db::rooms::set_archived(&mut conn, room_id, user.id, archived).await?;
    Ok(web::Json(ArchiveState { room_id, archived }))
}

/// Archive a room for the caller.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/archive",
    operation_id = "rooms_archive",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Archived", body = ArchiveState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn archive(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<ArchiveState>> {
    set_archived(&state, &user, path.into_inner(), true).await
}

/// Unarchive a room for the caller.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/unarchive",
    operation_id = "rooms_unarchive",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unarchived", body = ArchiveState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn unarchive(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<ArchiveState>> {
    set_archived(&state, &user, path.into_inner(), false).await
}

#[derive(Deserialize, Default, ToSchema)]
pub(super) struct MarkReadBody {
    /// Read up to this seq; the room's last seq when absent.
    #[schema(minimum = 0)]
    seq: Option<i64>,
}

/// Mark a room read up to a seq (the last one by default); the body is optional.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/mark_read",
    operation_id = "rooms_mark_read",
    tag = "rooms",
    request_body(content = Option<MarkReadBody>, description = "Optional"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The read state", body = ReadState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn mark_read(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    MaybeJson(body): MaybeJson<MarkReadBody>,
) -> AppResult<web::Json<ReadState>> {
    let room_id = path.into_inner();
    let seq = body.and_then(|b| b.seq);
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(
        &state,
        &user,
        room_id,
        Command::MarkRead(MarkRead::parse(seq)?),
    )
    .await?;
    Ok(web::Json(ReadState {
        room_id,
        last_read_seq: out.last_read_seq,
        unread_count: out.unread_count,
        mention_count: out.mention_count,
        last_seq: out.last_seq,
    }))
}

/// Who is typing in a room now.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/typing",
    operation_id = "rooms_typing",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Users typing", body = Typing),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn typing(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<Typing>> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        own_room(&mut conn, &user, room_id).await?;
    }
    let addr = supervisor::room(&state.supervisor, room_id.into()).await?;
    let users = addr
        .send(ListTyping {
            tenant_id: user.tenant_id.into(),
            user_id: user.id.into(),
        })
        .await
        .map_err(AppError::internal)??;
    Ok(web::Json(Typing {
        room_id,
        user_ids: users,
    }))
}
