//! HTTP routes: thin handlers that validate, authorize, call the store or the actors.

pub mod admin;
pub mod answers;
pub mod auth;
pub mod cors;
pub mod embed;
pub mod endpoint;
pub mod extract;
pub mod health;
pub mod messages;
pub mod openapi;
pub mod presence;
pub mod reactions;
pub mod rooms;
pub mod schemas;
pub mod search;
pub mod uploads;
pub mod users;
pub mod ws;
// Issue 14: notification settings and webhook endpoints.
pub mod admin_notify;
pub mod notify;
pub mod webhooks;

// moderation (issue 17)
pub mod admin_moderation;
pub mod moderation;

use actix_web::{web, HttpResponse};

use crate::error::AppError;

/// Every route of the API, plus the error handlers that keep failures in the error shape.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|err, _| {
        AppError::bad_request_plain(format!("invalid path: {err}")).into()
    }))
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        let message = err.to_string();
        let field = message.split('`').nth(1).map(str::to_owned);
        AppError::BadRequest {
            message: format!("invalid query: {message}"),
            field,
        }
        .into()
    }))
    // First: a seed's path (`rooms/direct_message`) must not be taken for a native `{room_id}`.
    .configure(crate::dialects::configure)
    .configure(health::configure)
    .configure(auth::configure)
    .configure(users::configure)
    // Issue 14: before rooms, whose `/members/{user_id}` would take `/members/me`.
    .configure(notify::configure)
    .configure(webhooks::configure)
    .configure(admin_notify::configure)
    .configure(rooms::configure)
    .configure(messages::configure)
    .configure(presence::configure)
    .configure(search::configure)
    .configure(admin::configure)
    .configure(uploads::configure)
    .configure(embed::configure)
    .configure(ws::configure)
    .configure(openapi::configure)
    // moderation (issue 17)
    .configure(moderation::configure)
    .configure(admin_moderation::configure)
    // Paths under /api and /ws that nothing above serves: the JSON 404, never a static file.
    .service(web::scope("/api").default_service(web::to(not_found)))
    .service(web::scope("/ws").default_service(web::to(not_found)));
}

/// What a path nothing serves answers.
pub async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&AppError::NotFound)
}
