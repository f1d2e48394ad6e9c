//! A message's reactions over REST: list them, add mine, remove mine. Writes go through the
//! room's actor, like every other change to a room.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{created, ok, BadRequest, NotFound, TooLarge, Unauthorized, WithStatus};
use super::extract::Json;
use super::messages::load;
use super::rooms::write;
use super::schemas;
use crate::auth::AuthUser;
use crate::commands::{Command, React};
use crate::db;
use crate::error::{AppResult, ErrorEnvelope};
use crate::protocol::views::{summarize_reactions, ReactionSummary};
use crate::state::AppState;

/// A message's reactions by emoji.
#[derive(Serialize, ToSchema)]
pub struct Reactions {
    pub message_id: Uuid,
    pub results: Vec<ReactionSummary>,
}

/// A reaction the caller added; `seq` is null when it was already there.
#[derive(Serialize, ToSchema)]
pub struct Reacted {
    pub message_id: Uuid,
    pub emoji: String,
    pub seq: Option<i64>,
}

/// A message's reactions.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    operation_id = "messages_reactions",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reactions", body = Reactions),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
pub(super) async fn reactions(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<Reactions>> {
    let (room_id, message_id) = path.into_inner();
    let mut conn = state.pool.get().await?;
    load(&mut conn, &user, room_id, message_id).await?;
    let rows = db::messages::reactions_of(&mut conn, &[message_id]).await?;
    Ok(web::Json(Reactions {
        message_id,
        results: summarize_reactions(&rows),
    }))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ReactBody {
    #[schema(schema_with = schemas::emoji)]
    emoji: String,
}

/// Add the caller's reaction to a message.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    operation_id = "messages_react",
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller had already reacted so", body = Reacted),
        (status = 201, description = "Added", body = Reacted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
pub(super) async fn react(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<ReactBody>,
) -> AppResult<WithStatus<Reacted>> {
    let (room_id, message_id) = path.into_inner();
    let react = React::parse(message_id.into(), &body.emoji, true)?;
    let emoji = react.emoji.clone();
    let out = write(&state, &user, room_id, Command::React(react)).await?;
    let reacted = Reacted {
        message_id,
        emoji,
        seq: out.seq,
    };
    Ok(if out.seq.is_some() {
        created(reacted)
    } else {
        ok(reacted)
    })
}

/// The path of one reaction of the caller's.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct ReactionPath {
    room_id: Uuid,
    message_id: Uuid,
    #[param(schema_with = schemas::emoji)]
    emoji: String,
}

/// Remove the caller's reaction from a message.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
    operation_id = "messages_unreact",
    params(ReactionPath),
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed (also when there was none)"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted", body = ErrorEnvelope)
    )
)]
pub(super) async fn unreact(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<ReactionPath>,
) -> AppResult<HttpResponse> {
    let ReactionPath {
        room_id,
        message_id,
        emoji,
    } = path.into_inner();
    let react = React::parse(message_id.into(), &emoji, false)?;
    write(&state, &user, room_id, Command::React(react)).await?;
    Ok(HttpResponse::NoContent().finish())
}
