//! The OpenAPI 3 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and served at `GET /api/openapi.json`.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::answers::{
    BadRequest, Conflict, Forbidden, NotFound, RateLimited, TooLarge, Unauthorized,
};
use super::endpoint::Endpoint;
use super::rooms::{create, list, manage, members, read_state};
use super::{admin, auth, health, messages, presence, search, uploads, users, ws};
use crate::error::{ErrorBody, ErrorEnvelope};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/openapi.json").get(document).build());
}

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
        health::healthz,
        health::readyz,
        health::metrics,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        users::me,
        users::update_me,
        users::search,
        users::get_user,
        list::list,
        create::create,
        create::direct,
        list::unread_counts,
        list::public,
        create::get_by_ref,
        create::put_by_ref,
        manage::get,
        manage::patch,
        manage::put,
        manage::deactivate,
        members::join,
        members::leave,
        read_state::archive,
        read_state::unarchive,
        read_state::mark_read,
        read_state::typing,
        members::members,
        members::add_member,
        members::set_role,
        members::remove_member,
        messages::history,
        messages::post,
        messages::get,
        messages::edit,
        messages::put,
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
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge, RateLimited)
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
