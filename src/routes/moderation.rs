//! Moderation for members (issue 17): pins, blocks and reporting a message. Each handler only
//! translates: the commands decide (pins go through the room's actor, so they are room events).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::{
    created, ok, BadRequest, Conflict, Forbidden, NotFound, Results, TooLarge, Unauthorized,
    WithStatus,
};
use super::endpoint::Endpoint;
use super::extract::Json;
use super::messages::{signed, views};
use super::rooms::member_room;
use crate::actors::presence::NotifyUsers;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::reports::FileReport;
use crate::commands::{access, blocks, Caller, Command, PinMessage};
use crate::db;
use crate::db::reports::Report;
use crate::error::AppResult;
use crate::policy::Access;
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::protocol::views::{MessageView, UserView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/chat/rooms/{room_id}/pins")
            .get(pins)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/pins/{message_id}")
            .post(pin)
            .delete(unpin)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/messages/{message_id}/report")
            .post(report)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/reports")
            .get(room_reports)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/users/me/blocks")
            .get(blocked)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/users/me/blocks/{user_id}")
            .put(block)
            .delete(unblock)
            .build(),
    );
}

/// A message's pin after a pin or unpin.
#[derive(Serialize, ToSchema)]
pub struct PinState {
    pub room_id: Uuid,
    pub message_id: Uuid,
    pub pinned: bool,
    /// The seq of the `message_pinned` / `message_unpinned` event; absent when nothing changed.
    pub seq: Option<i64>,
}

/// A pinned message, who pinned it and when.
#[derive(Serialize, ToSchema)]
pub struct Pinned {
    pub message: MessageView,
    pub pinned_by: Uuid,
    #[serde(with = "crate::domain::time::millis")]
    pub pinned_at: DateTime<Utc>,
}

/// A user I block.
#[derive(Serialize, ToSchema)]
pub struct Blocked {
    pub user: UserView,
    #[serde(with = "crate::domain::time::millis")]
    pub blocked_at: DateTime<Utc>,
}

/// A report of a message.
#[derive(Serialize, ToSchema)]
pub struct ReportView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub message_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    /// `open`, `dismissed`, `message_deleted` or `user_banned`.
    pub status: String,
    pub resolved_by: Option<Uuid>,
    #[serde(with = "crate::domain::time::millis_opt")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
    /// The reported message (admin listings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        ReportView {
            id: r.id,
            room_id: r.room_id,
            message_id: r.message_id,
            reporter_id: r.reporter_id,
            reason: r.reason,
            status: r.status,
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
            message: None,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct ReportBody {
    /// 1 to 1000 characters (413 past it).
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

async fn set_pin(
    state: &AppState,
    user: &AuthUser,
    path: (Uuid, Uuid),
    pin: bool,
) -> AppResult<web::Json<PinState>> {
    let (room_id, message_id) = path;
    let command = Command::Pin(PinMessage {
        message_id: message_id.into(),
        pin,
    });
    let caller = Caller::from_auth(user);
    let out = supervisor::apply(&state.supervisor, room_id.into(), caller, command).await?;
    Ok(web::Json(PinState {
        room_id,
        message_id,
        pinned: pin,
        seq: out.seq,
    }))
}

/// Pin a message (moderators and up; either member of a direct room).
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/pins/{message_id}",
    operation_id = "pins_pin",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pinned (seq absent when it already was)", body = PinState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "The message was deleted, or the room has `limits.max_pins_per_room` pins", body = crate::error::ErrorEnvelope)
    )
)]
async fn pin(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<PinState>> {
    set_pin(&state, &user, path.into_inner(), true).await
}

/// Unpin a message.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/pins/{message_id}",
    operation_id = "pins_unpin",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unpinned (seq absent when it was not pinned)", body = PinState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound)
    )
)]
async fn unpin(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<PinState>> {
    set_pin(&state, &user, path.into_inner(), false).await
}

/// A room's pinned messages, most recently pinned first.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/pins",
    operation_id = "pins_list",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pinned messages", body = Results<Pinned>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn pins(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<Results<Pinned>>> {
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    member_room(&mut conn, &user, room_id).await?;
    let rows = db::pins::list(&mut conn, room_id).await?;
    let messages: Vec<_> = rows.iter().map(|(m, _, _)| m.clone()).collect();
    let shown = signed(&state, &user, views(&mut conn, &messages).await?);
    let results = shown
        .into_iter()
        .zip(rows)
        .map(|(message, (_, pinned_by, pinned_at))| Pinned {
            message,
            pinned_by,
            pinned_at,
        })
        .collect();
    Ok(web::Json(Results::new(results)))
}

/// Report a message of the room to the tenant's admins (any member).
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/messages/{message_id}/report",
    operation_id = "messages_report",
    tag = "moderation",
    security(("bearer" = [])),
    request_body = ReportBody,
    responses(
        (status = 200, description = "My open report of this message, already filed", body = ReportView),
        (status = 201, description = "Filed", body = ReportView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge)
    )
)]
async fn report(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<ReportBody>,
) -> AppResult<WithStatus<ReportView>> {
    let (room_id, message_id) = path.into_inner();
    let command = FileReport::parse(room_id, message_id, &body.reason)?;
    let mut conn = state.pool.get().await?;
    let (filed, new) = command.apply(&mut conn, &Caller::from_auth(&user)).await?;
    let view = ReportView::from(filed);
    Ok(if new { created(view) } else { ok(view) })
}

/// The users I block (nobody else sees this list).
#[utoipa::path(
    get,
    path = "/api/chat/users/me/blocks",
    operation_id = "blocks_list",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Whom I block, most recent first", body = Results<Blocked>),
        (status = 401, response = Unauthorized)
    )
)]
async fn blocked(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<web::Json<Results<Blocked>>> {
    let mut conn = state.pool.get().await?;
    let rows = db::blocks::list(&mut conn, user.id).await?;
    let results = rows
        .iter()
        .map(|(u, at)| Blocked {
            user: UserView::from(u),
            blocked_at: *at,
        })
        .collect();
    Ok(web::Json(Results::new(results)))
}

async fn set_block(
    state: &AppState,
    user: &AuthUser,
    target: Uuid,
    block: bool,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let changed = blocks::set(&mut conn, &Caller::from_auth(user), target, block).await?;
    // My clients (on every node) learn the whole list when it changed.
    if let Some(user_ids) = changed {
        state.presence.do_send(NotifyUsers {
            user_ids: vec![user.id],
            frame: frame_text(&ServerFrame::Blocks { user_ids }),
            ephemeral: false,
            relay: true,
        });
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Block a user of my tenant: they cannot open or write in a direct room with me, and their
/// mentions of me are not delivered. They are not told.
#[utoipa::path(
    put,
    path = "/api/chat/users/me/blocks/{user_id}",
    operation_id = "blocks_block",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Blocked (also when already)"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, description = "The user is the caller", body = crate::error::ErrorEnvelope)
    )
)]
async fn block(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_block(&state, &user, path.into_inner(), true).await
}

/// Lift a block.
#[utoipa::path(
    delete,
    path = "/api/chat/users/me/blocks/{user_id}",
    operation_id = "blocks_unblock",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Not blocked (also when it was not)"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, description = "The user is the caller", body = crate::error::ErrorEnvelope)
    )
)]
async fn unblock(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_block(&state, &user, path.into_inner(), false).await
}

/// The open reports of a room's messages (its moderators and up), newest first, each with the
/// message as it is now.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/reports",
    operation_id = "rooms_reports",
    tag = "moderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The open reports", body = Results<ReportView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound)
    )
)]
async fn room_reports(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<Results<ReportView>>> {
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    access::room(
        &mut conn,
        &Caller::from_auth(&user),
        room_id,
        Access::Reports,
    )
    .await?;
    let limit = state.settings.limits.max_page_size;
    let rows = db::reports::open_in_room(&mut conn, room_id, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.message_id).collect();
    let messages = db::messages::by_ids(&mut conn, &ids).await?;
    let shown = signed(&state, &user, views(&mut conn, &messages).await?);
    Ok(web::Json(Results::new(with_messages(rows, &shown))))
}

/// Reports as views, each with its message (when shown).
pub fn with_messages(rows: Vec<Report>, shown: &[MessageView]) -> Vec<ReportView> {
    rows.into_iter()
        .map(|r| {
            let message = shown.iter().find(|m| m.id == r.message_id).cloned();
            ReportView {
                message,
                ..ReportView::from(r)
            }
        })
        .collect()
}
