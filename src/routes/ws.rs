//! The WebSocket endpoint (`/ws/chat/`) and its one-time tickets (`POST /api/chat/ws-ticket`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::actors::presence::Connect;
use crate::actors::session::Prepared;
use crate::auth::extractor::{authenticate, authenticate_ticket, bearer};
use crate::auth::{random_token, token_hash, AuthUser, Role};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/chat/ws-ticket", web::post().to(ticket))
        .route("/ws/chat/", web::get().to(connect))
        .route("/ws/chat", web::get().to(connect))
        .route("/ws/chat/{tenant_id}/", web::get().to(connect_tenant))
        .route("/ws/chat/{tenant_id}", web::get().to(connect_tenant));
}

/// A one-time ticket for a browser's WebSocket handshake (tokens in URLs end up in logs).
async fn ticket(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ticket": ticket, "expires_in": ttl })))
}

#[derive(Deserialize)]
struct ConnectQuery {
    ticket: Option<String>,
    token: Option<String>,
}

async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<ConnectQuery>,
) -> AppResult<HttpResponse> {
    open(state, req, body, query.into_inner(), None).await
}

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
    origin == own
        || allowed
            .iter()
            .any(|a| a == "*" || a.trim_end_matches('/') == origin)
}

async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: ConnectQuery,
    path_tenant: Option<Uuid>,
) -> AppResult<HttpResponse> {
    if !origin_allowed(&req, &state.settings.server.allowed_origins) {
        return Err(AppError::Forbidden(
            "this origin may not open a WebSocket".into(),
        ));
    }
    // Header first (non-browser clients), then a one-time ticket, then a token in the URL.
    let user = match (bearer(&req), query.ticket, query.token) {
        (Some(token), _, _) => authenticate(&state, &token).await?,
        (None, Some(ticket), _) => authenticate_ticket(&state, &ticket).await?,
        (None, None, Some(token)) => authenticate(&state, &token).await?,
        (None, None, None) => return Err(AppError::Unauthorized("missing token or ticket".into())),
    };
    if user.role == Role::Service {
        return Err(AppError::Forbidden(
            "service tokens do not connect as chat users".into(),
        ));
    }
    if path_tenant.is_some_and(|t| t != user.tenant_id) {
        return Err(AppError::NotFound);
    }
    let (response, ws, stream) = actix_ws::handle(&req, body)
        .map_err(|e| AppError::bad_request_plain(format!("not a WebSocket handshake: {e}")))?;
    let max = state.settings.limits.max_frame_bytes;
    let stream = stream
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    let prepared = Prepared::new(
        state.settings.limits.max_outbound_queue,
        &user,
        state.settings.realtime.heartbeat_secs,
    );
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
    prepared.run(state.clone(), user, ws, stream);
    Ok(response)
}
