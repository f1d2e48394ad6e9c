//! Answer types shared by the REST routes: the list wrapper, and the error answers operations
//! document (each is the real `ErrorEnvelope` that `AppError` renders, with its status's meaning).

use actix_web::http::StatusCode;
use actix_web::web;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::error::ErrorEnvelope;

/// A list answer.
#[derive(Serialize, ToSchema)]
pub struct Results<T> {
    pub results: Vec<T>,
}

impl<T> Results<T> {
    pub fn new(results: Vec<T>) -> Self {
        Results { results }
    }
}

/// `bad_request`: malformed JSON, query or path (an id that is not a UUID), or a field that fails
/// validation (`error.field` names it).
#[derive(ToResponse)]
pub struct BadRequest(pub ErrorEnvelope);

/// `unauthorized` or `invalid_credentials`: no token, a bad or expired one, or a suspended account.
#[derive(ToResponse)]
#[response(headers(("WWW-Authenticate" = String, description = "`Bearer`")))]
pub struct Unauthorized(pub ErrorEnvelope);

/// `forbidden`: the caller may see this but not do it.
#[derive(ToResponse)]
pub struct Forbidden(pub ErrorEnvelope);

/// `forbidden`: the admin API needs an admin or service token.
#[derive(ToResponse)]
pub struct AdminOnly(pub ErrorEnvelope);

/// `not_found`: nothing there, or nothing the caller may see.
#[derive(ToResponse)]
pub struct NotFound(pub ErrorEnvelope);

/// `conflict`: the change contradicts the current state.
#[derive(ToResponse)]
pub struct Conflict(pub ErrorEnvelope);

/// `too_large`: the body (or a field of it) is over its size limit.
#[derive(ToResponse)]
pub struct TooLarge(pub ErrorEnvelope);

/// `rate_limited`: too many requests; retry after `error.retry_after_ms`.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = String, description = "Seconds to wait")))]
pub struct RateLimited(pub ErrorEnvelope);

/// A JSON answer with its status, for operations that answer either 200 or 201.
pub type WithStatus<T> = (web::Json<T>, StatusCode);

/// 200 with `value`.
pub fn ok<T>(value: T) -> WithStatus<T> {
    (web::Json(value), StatusCode::OK)
}

/// 201 with `value`.
pub fn created<T>(value: T) -> WithStatus<T> {
    (web::Json(value), StatusCode::CREATED)
}
