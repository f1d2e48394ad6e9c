//! The WebSocket endpoint (`/ws/chat/`) and its one-time tickets (`POST /api/chat/ws-ticket`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{BadRequest, NotFound, RateLimited, Unauthorized};
use super::endpoint::Endpoint;
use crate::actors::presence::Connect;
use crate::actors::session::Prepared;
use crate::auth::extractor::{authenticate, authenticate_ticket, bearer};
use crate::auth::{random_token, token_hash, AuthUser, Role};
use crate::db;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::state::AppState;
use crate::transport;

/// The WebSocket paths are registered without their trailing slash, which `NormalizePath`
/// trims from every request (`/ws/chat/` is served here).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/chat/ws-ticket").post(ticket).build())
        .service(Endpoint::new("/ws/chat").get(connect).build())
        .service(
            Endpoint::new("/ws/chat/{tenant_id}")
                .get(connect_tenant)
                .build(),
        );
}

/// A one-time WebSocket ticket.
#[derive(Serialize, ToSchema)]
pub struct WsTicket {
    /// Give as `?ticket=` on the handshake.
    pub ticket: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// A one-time ticket for a browser's WebSocket handshake (tokens in URLs end up in logs).
#[utoipa::path(
    post,
    path = "/api/chat/ws-ticket",
    operation_id = "ws_ticket",
    tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket", body = WsTicket),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Service tokens do not connect as chat users", body = ErrorEnvelope)
    )
)]
async fn ticket(state: web::Data<AppState>, user: AuthUser) -> AppResult<web::Json<WsTicket>> {
    if user.role == Role::Service {
        return Err(AppError::Forbidden(
            "service tokens do not connect as chat users".into(),
        ));
    }
    let ttl = state.settings.auth.ws_ticket_ttl_secs;
    let ticket = random_token();
    let mut conn = state.pool.get().await?;
    let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl);
    db::tokens::insert_ticket(
        &mut conn,
        &token_hash(&ticket),
        user.id,
        user.tenant_id,
        expires,
    )
    .await?;
    Ok(web::Json(WsTicket {
        ticket,
        expires_in: ttl,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConnectQuery {
    /// A one-time ticket from `POST /api/chat/ws-ticket` (for browsers).
    ticket: Option<String>,
    /// An access token, when neither a header nor a ticket is given.
    token: Option<String>,
}

/// The headers of a WebSocket handshake (RFC 6455); without them the answer is 400.
/// `transport::accept` reads them from the request.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct Handshake {
    #[param(rename = "Upgrade", pattern = "^websocket$")]
    upgrade: String,
    #[param(rename = "Connection", pattern = "^Upgrade$")]
    connection: String,
    #[param(rename = "Sec-WebSocket-Version", pattern = "^13$")]
    version: String,
    /// 16 random bytes, base64.
    #[param(rename = "Sec-WebSocket-Key", pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$")]
    key: String,
}

/// Open the WebSocket (also without the trailing slash).
#[utoipa::path(
    get,
    path = "/ws/chat/",
    operation_id = "ws_connect",
    params(ConnectQuery, Handshake),
    tag = "realtime",
    security((), ("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (frames: docs/PROTOCOL.md)"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "A service token, or an origin the server does not accept", body = ErrorEnvelope),
        (status = 429, response = RateLimited)
    )
)]
async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<ConnectQuery>,
) -> AppResult<HttpResponse> {
    open(state, req, body, query.into_inner(), None).await
}

/// Open the WebSocket, naming the caller's tenant (also without the trailing slash).
#[utoipa::path(
    get,
    path = "/ws/chat/{tenant_id}/",
    operation_id = "ws_connect_tenant",
    params(ConnectQuery, Handshake),
    tag = "realtime",
    security((), ("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "A service token, or an origin the server does not accept", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited)
    )
)]
async fn connect_tenant(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<ConnectQuery>,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    open(
        state,
        req,
        body,
        query.into_inner(),
        Some(path.into_inner()),
    )
    .await
}

/// An `Origin` the server accepts: its own, or one in `server.allowed_origins` (`*` = any).
/// Non-browser clients send none.
fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin == own || super::cors::listed(origin, allowed)
}

async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: ConnectQuery,
    path_tenant: Option<Uuid>,
) -> AppResult<HttpResponse> {
    let anonymous = bearer(&req).is_none() && query.ticket.is_none() && query.token.is_none();
    if let Some(id) = path_tenant.filter(|_| anonymous) {
        // Seed 000: the token may come in the first frame (`dialects/notifications`).
        check_origin(&state, &req)?;
        return crate::dialects::notifications::socket::first_frame(state, req, body, id).await;
    }
    let user = authenticate_query(&state, &req, query).await?;
    match path_tenant {
        // Not the caller's tenant: a seed's per-room socket (`/ws/chat/{room_id}/`), or 404.
        Some(id) if id != user.tenant_id => {
            crate::dialects::room_socket(state, req, body, user, id).await
        }
        // The caller's tenant: the multiplexed socket, native frames with seed 000's fields.
        Some(_) => crate::dialects::notifications::socket::tenant(&state, &req, body, user).await,
        None => start(&state, &req, body, user, None).await,
    }
}

fn check_origin(state: &AppState, req: &HttpRequest) -> AppResult<()> {
    if origin_allowed(req, &state.settings.server.allowed_origins) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this origin may not open a WebSocket".into(),
        ))
    }
}

/// The chat user of a token (service tokens never connect as one).
pub async fn token_user(state: &AppState, token: &str) -> AppResult<AuthUser> {
    chat_user(authenticate(state, token).await?)
}

fn chat_user(user: AuthUser) -> AppResult<AuthUser> {
    if user.role == Role::Service {
        return Err(AppError::Forbidden(
            "service tokens do not connect as chat users".into(),
        ));
    }
    Ok(user)
}

/// The user of a handshake (its origin checked): the header, else `?ticket=`, else `?token=`.
pub async fn authenticate_handshake(state: &AppState, req: &HttpRequest) -> AppResult<AuthUser> {
    let query = web::Query::<ConnectQuery>::from_query(req.query_string())
        .map_err(|e| AppError::bad_request_plain(format!("invalid query: {e}")))?;
    authenticate_query(state, req, query.into_inner()).await
}

async fn authenticate_query(
    state: &AppState,
    req: &HttpRequest,
    query: ConnectQuery,
) -> AppResult<AuthUser> {
    check_origin(state, req)?;
    // Header first (non-browser clients), then a one-time ticket, then a token in the URL.
    let user = match (bearer(req), query.ticket, query.token) {
        (Some(token), _, _) => authenticate(state, &token).await?,
        (None, Some(ticket), _) => authenticate_ticket(state, &ticket).await?,
        (None, None, Some(token)) => authenticate(state, &token).await?,
        (None, None, None) => return Err(AppError::Unauthorized("missing token or ticket".into())),
    };
    chat_user(user)
}

/// A dialect's translation of a connection, and the native frames its session starts with
/// (as if the client had sent them first: a per-room socket joins its room).
pub struct Dialect {
    pub translate: std::sync::Arc<dyn transport::Translate>,
    pub first_frames: Vec<String>,
}

/// Accepts the handshake and runs the session of an authenticated user.
pub async fn start(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
    user: AuthUser,
    dialect: Option<Dialect>,
) -> AppResult<HttpResponse> {
    let (prepared, outbound) = Prepared::new(
        state.settings.limits.max_outbound_queue,
        &user,
        state.settings.realtime.heartbeat_secs,
    );
    let max = state.settings.limits.max_frame_bytes;
    let (outbound, translate) = match &dialect {
        Some(d) => (
            outbound.translated(d.translate.clone()),
            Some(d.translate.clone()),
        ),
        None => (outbound, None),
    };
    let (response, reader) = transport::accept(req, body, max, outbound)?;
    let first_frames = dialect.map(|d| d.first_frames).unwrap_or_default();
    begin(state, prepared, user, reader, translate, first_frames).await?;
    Ok(response)
}

/// Registers a prepared session (its socket accepted) and runs it on `reader`, the dialect's
/// first frames before anything the client sends.
pub async fn begin(
    state: &AppState,
    prepared: Prepared,
    user: AuthUser,
    reader: transport::FrameReader,
    translate: Option<std::sync::Arc<dyn transport::Translate>>,
    first_frames: Vec<String>,
) -> AppResult<()> {
    let reader = match translate {
        Some(t) => reader.translated(t),
        None => reader,
    };
    // moderation (issue 17): whom the user blocks, right after `connection_established` (on a
    // dialect's socket too, which passes the frame on as it is: `dialects::as_is`).
    let blocked = db::blocks::blocked_ids(&mut *state.pool.get().await?, user.id).await?;
    if !blocked.is_empty() {
        let frame = ServerFrame::Blocks { user_ids: blocked };
        prepared.outbox.push(&frame_text(&frame), false);
    }
    state
        .presence
        .send(Connect {
            user_id: user.id,
            tenant_id: user.tenant_id,
            login: user.session_id,
            outbox: prepared.outbox.clone(),
        })
        .await
        .map_err(AppError::internal)??;
    for text in first_frames {
        prepared
            .addr
            .do_send(crate::actors::session::Inbound { text });
    }
    prepared.run(state.sessions.clone(), user, reader);
    Ok(())
}
