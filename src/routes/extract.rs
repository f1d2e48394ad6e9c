//! `Json<T>`: a body extractor whose errors name the offending field and respect the size limit;
//! every body is a JSON object. `MaybeJson<T>`: the same for a body that may be left out.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { object(&body.await?).map(Json) })
    }
}

/// An optional JSON object body: `None` when the request has no body, or the body is `null`.
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            let text = body.trim_ascii();
            if text.is_empty() || text == b"null" {
                return Ok(MaybeJson(None));
            }
            object(&body).map(|v| MaybeJson(Some(v)))
        })
    }
}

/// A body that must be a JSON object (not an array, which serde would also read into a struct),
/// with no NUL in any string.
/// A whole number written with a fraction (`51.0`, an integer to JSON Schema) counts as that
/// integer, except inside `metadata`, which is kept as sent.
fn object<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut value: serde_json::Value = parse_json(body)?;
    let Some(fields) = value.as_object_mut() else {
        return Err(AppError::bad_request_plain(
            "invalid JSON: the body must be a JSON object",
        ));
    };
    for (name, field) in fields.iter_mut() {
        if name.contains('\0') {
            return Err(AppError::bad_request_plain(
                "text may not contain NUL characters",
            ));
        }
        if has_nul(field) {
            return Err(AppError::bad_request(
                name,
                "text may not contain NUL characters",
            ));
        }
        if name != "metadata" {
            whole_numbers_as_integers(field);
        }
    }
    with_field(serde_path_to_error::deserialize(value))
}

/// Whether a string anywhere in `v` (a key or a value) holds a NUL, which PostgreSQL stores in
/// neither text nor jsonb.
fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// The request body, checked against the size limit (declared and read) and the content type.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::BytesMut, AppError>> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.limits.max_json_body_bytes)
        .unwrap_or(256 * 1024);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.starts_with("application/json") || ct.contains("+json"))
        .unwrap_or(true);
    let mut payload = payload.take();
    Box::pin(async move {
        if declared.is_some_and(|n| n > limit) {
            return Err(AppError::TooLarge(format!(
                "body is larger than {limit} bytes"
            )));
        }
        if !is_json {
            return Err(AppError::bad_request_plain(
                "expected Content-Type: application/json",
            ));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| AppError::bad_request_plain(format!("reading body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::TooLarge(format!(
                    "body is larger than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}

/// A text query parameter `q`: at most `max` characters, and no NUL (which PostgreSQL refuses).
pub fn check_q(q: &str, max: usize) -> Result<(), AppError> {
    if q.chars().count() > max {
        return Err(AppError::bad_request(
            "q",
            format!("q must be at most {max} characters"),
        ));
    }
    if q.contains('\0') {
        return Err(AppError::bad_request(
            "q",
            "text may not contain NUL characters",
        ));
    }
    Ok(())
}

pub use crate::protocol::json::parse_json;
use crate::protocol::json::with_field;
