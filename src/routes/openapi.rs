//! The OpenAPI 3 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and served at `GET /api/openapi.json`.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use super::{admin, auth, embed, health, messages, presence, rooms, search, uploads, users, ws};
use crate::error::ErrorBody;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(document));
}

/// Every failure answers this envelope: `error.code` tells the kind, `error.field` names the
/// offending input where there is one, `error.retry_after_ms` comes with `rate_limited`.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// A list answer.
#[derive(ToSchema)]
pub struct Results<T> {
    pub results: Vec<T>,
}

/// `bad_request`: malformed JSON, query or path, or a field that fails validation.
#[derive(ToResponse)]
pub struct BadRequest(pub ErrorEnvelope);

/// `unauthorized` or `invalid_credentials`: no token, a bad or expired one, or a suspended account.
#[derive(ToResponse)]
#[response(headers(("WWW-Authenticate" = String, description = "`Bearer`")))]
pub struct Unauthorized(pub ErrorEnvelope);

/// `not_found`: nothing there, or nothing the caller may see.
#[derive(ToResponse)]
pub struct NotFound(pub ErrorEnvelope);

/// `too_large`: the body is over the size limit.
#[derive(ToResponse)]
pub struct TooLarge(pub ErrorEnvelope);

/// `rate_limited`: too many requests; retry after `error.retry_after_ms`.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = String, description = "Seconds to wait")))]
pub struct RateLimited(pub ErrorEnvelope);

/// Adds the `bearer` security scheme (an access token, a JWT) that operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confab",
        description = "Realtime chat server: rooms, messages, presence over REST and WebSocket. \
                       Errors answer `{\"error\": {code, message, field?, retry_after_ms?}}`."
    ),
    paths(
        uploads::upload,
        uploads::download_file,
        uploads::download_thumbnail,
        embed::room_page,
        health::healthz,
        health::readyz,
        health::metrics,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::change_password,
        admin::set_password,
        users::me,
        users::update_me,
        users::search,
        users::get_user,
        rooms::list,
        rooms::create,
        rooms::direct,
        rooms::unread_counts,
        rooms::public,
        rooms::get_by_ref,
        rooms::put_by_ref,
        rooms::get,
        rooms::patch,
        rooms::deactivate,
        rooms::join,
        rooms::leave,
        rooms::archive,
        rooms::unarchive,
        rooms::mark_read,
        rooms::typing,
        rooms::members,
        rooms::add_member,
        rooms::set_role,
        rooms::remove_member,
        messages::history,
        messages::post,
        messages::get,
        messages::edit,
        messages::delete,
        messages::thread,
        messages::edit_history,
        messages::read_by,
        messages::reactions,
        messages::react,
        messages::unreact,
        presence::query,
        presence::me,
        presence::set_me,
        presence::online,
        search::messages,
        search::rooms,
        admin::stats,
        admin::rooms,
        admin::system_message,
        admin::delete_message,
        admin::ban,
        admin::unban,
        admin::mint_token,
        admin::sessions,
        ws::ticket,
        ws::connect,
        ws::connect_tenant,
        document,
    ),
    components(
        schemas(ErrorEnvelope, ErrorBody),
        responses(BadRequest, Unauthorized, NotFound, TooLarge, RateLimited)
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness, readiness, metrics"),
        (name = "auth", description = "Own accounts: register, login, token refresh, logout"),
        (name = "users", description = "Users of the caller's tenant"),
        (name = "rooms", description = "Rooms, membership and read state"),
        (name = "messages", description = "Messages, threads, reactions"),
        (name = "presence", description = "Who is online"),
        (name = "search", description = "Full-text search of messages and rooms"),
        (name = "admin", description = "Admin and service tokens, within their tenant"),
        (name = "realtime", description = "The WebSocket endpoint and its tickets"),
        (name = "embed", description = "Pages a host platform frames"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
async fn document() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}
