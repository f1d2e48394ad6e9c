//! The admin API (`/api/admin`): admin or service tokens, always within their own tenant.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{
    created, AdminOnly, BadRequest, NotFound, Results, TooLarge, Unauthorized, WithStatus,
};
use super::endpoint::Endpoint;
use super::extract::{check_q, Json};
use super::schemas;
use crate::actors::presence::{KickUser, ListSessions, SessionInfo};
use crate::actors::supervisor::{self, RunningRooms};
use crate::auth::{credentials, JwtKeys, Role, ServiceUser};
use crate::commands::{Caller, Command, DeleteMessage, Draft, SendMessage};
use crate::db;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::protocol::views::{MessageView, RoomView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/admin/stats").get(stats).build())
        .service(Endpoint::new("/api/admin/rooms").get(rooms).build())
        .service(
            Endpoint::new("/api/admin/rooms/{room_id}/system_message")
                .post(system_message)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/messages/{message_id}")
                .delete(delete_message)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/users/{user_id}/ban")
                .post(ban)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/users/{user_id}/unban")
                .post(unban)
                .build(),
        )
        .service(
            Endpoint::new("/api/admin/users/{user_id}/password")
                .post(set_password)
                .build(),
        )
        .service(Endpoint::new("/api/admin/tokens").post(mint_token).build())
        .service(Endpoint::new("/api/admin/sessions").get(sessions).build());
}

/// Counts of the caller's tenant.
#[derive(Serialize, ToSchema)]
pub struct TenantStats {
    /// Open WebSocket connections.
    pub connections: usize,
    pub rooms: i64,
    pub active_rooms: i64,
    pub messages: i64,
    /// Messages in the last minute.
    pub messages_per_minute: i64,
}

/// Counters of one node, as it publishes them (`startup::node_stats`).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeStats {
    pub node_id: Uuid,
    pub connections: i64,
    pub room_actors: usize,
    pub messages_committed: u64,
    pub room_events_committed: u64,
    pub slow_consumers_closed: u64,
    /// When another node last reported (unix seconds); absent for the node that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<i64>,
}

/// Totals over the nodes that reported in the last 30 s (this one alone without Redis).
#[derive(Serialize, ToSchema)]
pub struct ClusterStats {
    pub nodes: usize,
    pub connections: i64,
    pub room_actors: i64,
    pub messages_committed: i64,
}

/// The tenant's counts, this node's and the cluster's.
#[derive(Serialize, ToSchema)]
pub struct AdminStats {
    pub tenant: TenantStats,
    pub node: NodeStats,
    pub cluster: ClusterStats,
    /// Each node's counters, this node first.
    pub cluster_nodes: Vec<NodeStats>,
}

/// A page of the tenant's rooms.
#[derive(Serialize, ToSchema)]
pub struct AdminRoomPage {
    pub results: Vec<RoomView>,
    pub offset: i64,
}

/// A user's ban state after a ban or unban.
#[derive(Serialize, ToSchema)]
pub struct BanState {
    pub user_id: Uuid,
    pub banned: bool,
    /// Live connections the ban closed.
    pub connections_closed: usize,
}

/// A minted access token.
#[derive(Serialize, ToSchema)]
pub struct MintedToken {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Counts of the tenant and of this node.
#[utoipa::path(
    get,
    path = "/api/admin/stats",
    operation_id = "admin_stats",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = AdminStats),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn stats(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
) -> AppResult<web::Json<AdminStats>> {
    let sessions = state
        .presence
        .send(ListSessions {
            tenant_id: user.tenant_id,
            user_id: None,
        })
        .await
        .map_err(AppError::internal)?;
    let running = state
        .supervisor
        .send(RunningRooms)
        .await
        .map_err(AppError::internal)?;
    let mut conn = state.pool.get().await?;
    let (rooms, active_rooms, last_minute, messages) =
        db::admin::counts(&mut conn, user.tenant_id).await?;
    let node = crate::metrics::node_stats(state.broker.node_id(), &state.metrics);
    let mut node: NodeStats = serde_json::from_value(node).map_err(AppError::internal)?;
    node.room_actors = running.len();
    let mut nodes: Vec<NodeStats> = state
        .broker
        .cluster_stats()
        .await
        .into_iter()
        // A node that publishes another shape (another version) is left out of the totals.
        .filter_map(|n| serde_json::from_value::<NodeStats>(n).ok())
        .filter(|n| n.node_id != node.node_id)
        .collect();
    let cluster = ClusterStats {
        nodes: nodes.len() + 1,
        connections: node.connections + nodes.iter().map(|n| n.connections).sum::<i64>(),
        room_actors: (node.room_actors + nodes.iter().map(|n| n.room_actors).sum::<usize>()) as i64,
        messages_committed: (node.messages_committed
            + nodes.iter().map(|n| n.messages_committed).sum::<u64>())
            as i64,
    };
    let tenant = TenantStats {
        connections: sessions.len(),
        rooms,
        active_rooms,
        messages,
        messages_per_minute: last_minute,
    };
    let this = node.clone();
    nodes.insert(0, node);
    Ok(web::Json(AdminStats {
        tenant,
        node: this,
        cluster,
        cluster_nodes: nodes,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RoomsQuery {
    /// Part of a room's name.
    #[param(schema_with = schemas::name_filter)]
    q: Option<String>,
    /// Skip this many (default 0).
    offset: Option<i64>,
    /// Page size (default 50).
    limit: Option<i64>,
}

/// The tenant's rooms, a page at a time.
#[utoipa::path(
    get,
    path = "/api/admin/rooms",
    operation_id = "admin_rooms",
    params(RoomsQuery),
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of rooms", body = AdminRoomPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn rooms(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    p: web::Query<RoomsQuery>,
) -> AppResult<web::Json<AdminRoomPage>> {
    let limit = p
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    let offset = p.offset.unwrap_or(0).max(0);
    if let Some(q) = &p.q {
        check_q(q, state.settings.limits.max_search_query_chars)?;
    }
    let mut conn = state.pool.get().await?;
    let rows = db::admin::rooms(&mut conn, user.tenant_id, p.q.as_deref(), offset, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let counts = db::rooms::member_counts(&mut conn, &ids).await?;
    let results: Vec<RoomView> = rows
        .iter()
        .map(|r| RoomView::build(r, counts.get(&r.id).copied().unwrap_or(0)))
        .collect();
    Ok(web::Json(AdminRoomPage { results, offset }))
}

#[derive(Deserialize, ToSchema)]
struct SystemBody {
    /// `limits.max_message_chars` at most (413 past it).
    #[schema(schema_with = schemas::message_content)]
    content: String,
    #[schema(schema_with = schemas::metadata)]
    metadata: Option<serde_json::Value>,
    #[schema(schema_with = schemas::client_id)]
    client_id: Option<String>,
}

/// Post a system message to a room.
#[utoipa::path(
    post,
    path = "/api/admin/rooms/{room_id}/system_message",
    operation_id = "admin_system_message",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The message", body = MessageView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not an admin or service token, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "client_id was already used for a different message", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn system_message(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<SystemBody>,
) -> AppResult<WithStatus<MessageView>> {
    let room_id = path.into_inner();
    let draft = Draft {
        content: &body.content,
        message_type: Some("system"),
        metadata: body.metadata.as_ref(),
        client_id: body.client_id.as_deref(),
        ..Default::default()
    };
    let post = SendMessage::parse(&state.settings, &draft)?;
    let out = supervisor::apply(
        &state.supervisor,
        room_id.into(),
        Caller::from_auth(&user),
        Command::Send(post),
    )
    .await?;
    let message = out
        .message
        .ok_or_else(|| AppError::internal("the room actor answered no message"))?;
    Ok(created(message))
}

/// Delete any message of the tenant.
#[utoipa::path(
    delete,
    path = "/api/admin/messages/{message_id}",
    operation_id = "admin_delete_message",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn delete_message(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let message_id = path.into_inner();
    let room_id = {
        let mut conn = state.pool.get().await?;
        db::messages::room_of(&mut conn, user.tenant_id, message_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    supervisor::apply(
        &state.supervisor,
        room_id.into(),
        Caller::from_auth(&user),
        Command::Delete(DeleteMessage {
            message_id: message_id.into(),
        }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn set_ban(
    state: &AppState,
    user: &crate::auth::AuthUser,
    target: Uuid,
    banned: bool,
) -> AppResult<web::Json<BanState>> {
    let mut conn = state.pool.get().await?;
    crate::commands::ban::set(&mut conn, &Caller::from_auth(user), target, banned).await?;
    let closed = if banned {
        state
            .presence
            .send(KickUser {
                user_id: target,
                login: None,
                reason: "banned".into(),
                relay: true,
            })
            .await
            .map_err(AppError::internal)?
    } else {
        0
    };
    Ok(web::Json(BanState {
        user_id: target,
        banned,
        connections_closed: closed,
    }))
}

/// Ban a user: their tokens stop working and their sockets close.
#[utoipa::path(
    post,
    path = "/api/admin/users/{user_id}/ban",
    operation_id = "admin_ban",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Banned", body = BanState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn ban(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<BanState>> {
    set_ban(&state, &user, path.into_inner(), true).await
}

/// Lift a ban.
#[utoipa::path(
    post,
    path = "/api/admin/users/{user_id}/unban",
    operation_id = "admin_unban",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbanned", body = BanState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound)
    )
)]
async fn unban(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<BanState>> {
    set_ban(&state, &user, path.into_inner(), false).await
}

#[derive(Deserialize, ToSchema)]
struct TokenBody {
    user_id: Uuid,
    /// Seconds (default 3600).
    #[schema(minimum = 60, maximum = 86400)]
    ttl_secs: Option<i64>,
    /// Display name for a user the server has not seen yet (provisioned on first use; without
    /// it an unknown user is 404).
    #[schema(schema_with = schemas::display_name)]
    name: Option<String>,
}

/// Mints a user token for the platform (service tokens only).
#[utoipa::path(
    post,
    path = "/api/admin/tokens",
    operation_id = "admin_mint_token",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The token", body = MintedToken),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not a service token, or the user is banned or a service account", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn mint_token(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    Json(body): Json<TokenBody>,
) -> AppResult<WithStatus<MintedToken>> {
    if user.role != Role::Service {
        return Err(AppError::Forbidden(
            "only service tokens mint user tokens".into(),
        ));
    }
    let ttl = body.ttl_secs.unwrap_or(3600);
    if !(60..=86_400).contains(&ttl) {
        return Err(AppError::bad_request(
            "ttl_secs",
            "ttl_secs must be 60 to 86400",
        ));
    }
    let mut conn = state.pool.get().await?;
    let (name, role) = match db::users::find(&mut conn, body.user_id).await? {
        Some(u) if u.tenant_id == user.tenant_id => {
            if u.is_banned {
                return Err(AppError::Forbidden("the user is banned".into()));
            }
            (u.display_name, Role::parse(&u.role).unwrap_or_default())
        }
        Some(_) => return Err(AppError::NotFound),
        None => {
            let name = body.name.as_deref().ok_or(AppError::NotFound)?;
            (crate::domain::display_name("name", name)?, Role::User)
        }
    };
    if role == Role::Service {
        return Err(AppError::Forbidden(
            "tokens for service accounts are not minted here".into(),
        ));
    }
    let claims = JwtKeys::claims_for(body.user_id, user.tenant_id, &name, role, ttl, None);
    let token = state.jwt.mint(claims)?;
    crate::commands::audit::token_minted(&mut conn, &Caller::from_auth(&user), body.user_id, ttl)
        .await?;
    Ok(created(MintedToken {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: ttl,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SessionsQuery {
    /// Only this user's connections.
    user_id: Option<Uuid>,
}

/// The tenant's open WebSocket connections.
#[utoipa::path(
    get,
    path = "/api/admin/sessions",
    operation_id = "admin_sessions",
    params(SessionsQuery),
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The connections", body = Results<SessionInfo>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly)
    )
)]
async fn sessions(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    p: web::Query<SessionsQuery>,
) -> AppResult<web::Json<Results<SessionInfo>>> {
    let list = state
        .presence
        .send(ListSessions {
            tenant_id: user.tenant_id,
            user_id: p.user_id,
        })
        .await
        .map_err(AppError::internal)?;
    Ok(web::Json(Results::new(list)))
}

#[derive(Deserialize, ToSchema)]
struct NewPasswordBody {
    /// 8 to 256 characters.
    new_password: String,
}

/// After a forced password change.
#[derive(serde::Serialize, ToSchema)]
struct PasswordReset {
    user_id: Uuid,
    /// Sockets of the user closed on this node (other nodes close theirs too).
    connections_closed: usize,
}

/// Set a user's password (an admin's reset): every login of theirs ends, refresh tokens revoked
/// and sockets closed with `closing {reason: "password_changed"}`.
#[utoipa::path(
    post,
    path = "/api/admin/users/{user_id}/password",
    operation_id = "admin_set_password",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewPasswordBody,
    responses(
        (status = 200, description = "Changed", body = PasswordReset),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = AdminOnly),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn set_password(
    state: web::Data<AppState>,
    ServiceUser(user): ServiceUser,
    path: web::Path<Uuid>,
    Json(body): Json<NewPasswordBody>,
) -> AppResult<HttpResponse> {
    let target = path.into_inner();
    let closed =
        credentials::set_password(&state, user.tenant_id, target, &body.new_password).await?;
    Ok(HttpResponse::Ok().json(PasswordReset {
        user_id: target,
        connections_closed: closed,
    }))
}
