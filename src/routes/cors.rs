//! Browser origins: `server.allowed_origins` decides both who may open a WebSocket and who may
//! call the REST API from a page (CORS, with credentials and preflight, by `actix-cors`).

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::error::AppError;

/// An origin named in `allowed` (`*` = any); a trailing slash in the setting does not matter.
pub fn listed(origin: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/') == origin)
}

/// CORS for the configured origins: preflights are answered for them; a request from another
/// origin is served without CORS headers (the browser keeps the answer from that page), and a
/// preflight from one is refused (see `startup`, which answers it in the error shape).
pub fn middleware(allowed: &[String]) -> Cors {
    let allowed = allowed.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| listed(o.trim_end_matches('/'), &allowed))
        })
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::RANGE,
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            header::ALLOW,
            header::CONTENT_DISPOSITION,
            header::CONTENT_RANGE,
        ])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(3600)
}

/// A refused preflight in the error shape (`403`), where `actix-cors` would answer plain text.
pub async fn refused_preflight_in_error_shape(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let res = next.call(req).await?;
    if !(preflight && res.status() == StatusCode::BAD_REQUEST) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, _) = res.into_parts();
    let refused = AppError::Forbidden(
        "this origin, method or header is not allowed to call the API (CORS)".into(),
    );
    Ok(ServiceResponse::new(req, refused.error_response()))
}
