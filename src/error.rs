//! `AppError`: the one error type, and the one place that picks status codes and error codes.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// A field of the request names something that does not exist (or that the caller may not
    /// see): `404 not_found` naming the field.
    #[error("{message}")]
    Unknown { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// A file of a type the server does not take.
    #[error("{0}")]
    Unsupported(String),
    /// Issue 20: the malware scanner found something in an upload (nothing was stored).
    #[error("{0}")]
    Infected(String),
    #[error("too many requests")]
    RateLimited { retry_after_ms: u64 },
    /// Not stored, try again soon: the database cannot be reached, or the node is shutting down.
    #[error("temporarily unavailable, try again")]
    Unavailable { retry_after_ms: u64 },
    /// A method the path does not serve; `allow` lists the ones it does.
    #[error("this method is not allowed here (allowed: {allow})")]
    MethodNotAllowed { allow: String },
    /// Anything unexpected: logged in full, answered without detail.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// Every failed REST answer: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The wire shape of an error, shared by REST answers and WebSocket `error` frames: `code`
/// tells the kind, `field` names the offending input where there is one, `retry_after_ms`
/// comes with `rate_limited`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl AppError {
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn unknown(field: &str, message: impl Into<String>) -> Self {
        AppError::Unknown {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_request_plain(message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
            field: None,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound | AppError::Unknown { .. } => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::Unsupported(_) => "unsupported_media_type",
            AppError::Infected(_) => "infected",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable { .. } => "unavailable",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let message = match self {
            // The detail is for the log, never for the client.
            AppError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            code: self.code().to_owned(),
            message,
            field: match self {
                AppError::BadRequest { field, .. } => field.clone(),
                AppError::Unknown { field, .. } => Some(field.clone()),
                _ => None,
            },
            retry_after_ms: match self {
                AppError::RateLimited { retry_after_ms }
                | AppError::Unavailable { retry_after_ms } => Some(*retry_after_ms),
                _ => None,
            },
        }
    }

    /// Maps a unique-constraint violation to `409 conflict` with `message`, anything else to 500.
    pub fn unique_or_internal(e: diesel::result::Error, message: &str) -> Self {
        if is_unique_violation(&e) {
            AppError::Conflict(message.to_owned())
        } else {
            AppError::from(e)
        }
    }
}

pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::Unknown { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Infected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            log::error!("internal error: {detail}");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let AppError::RateLimited { retry_after_ms } | AppError::Unavailable { retry_after_ms } =
            self
        {
            resp.insert_header(("Retry-After", retry_after_ms.div_ceil(1000).to_string()));
        }
        if matches!(
            self,
            AppError::Unauthorized(_) | AppError::InvalidCredentials
        ) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let AppError::MethodNotAllowed { allow } = self {
            resp.insert_header((header::ALLOW, allow.as_str()));
        }
        resp.json(ErrorEnvelope { error: self.body() })
    }
}

/// How long a client told `unavailable` because of the database waits before trying again.
pub const DB_RETRY_AFTER_MS: u64 = 1000;

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            // The connection broke (the server stopped or restarts): nothing was stored.
            Error::DatabaseError(Kind::UnableToSendCommand | Kind::ClosedConnection, ref info) => {
                unavailable(info.message())
            }
            // 57P01-57P03: the server is shutting down, crashed or starting up.
            Error::DatabaseError(Kind::Unknown, ref info)
                if info.message().starts_with("terminating connection")
                    || info.message().contains("the database system is") =>
            {
                unavailable(info.message())
            }
            Error::BrokenTransactionManager => unavailable("broken transaction manager"),
            // 22021 / 22P05: text or JSON with a NUL character (PostgreSQL stores neither): the
            // input is bad, whichever field carried it.
            Error::DatabaseError(Kind::Unknown, ref info)
                if info.message().starts_with("invalid byte sequence")
                    || info
                        .message()
                        .starts_with("unsupported Unicode escape sequence") =>
            {
                AppError::bad_request_plain("text must not contain NUL characters")
            }
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

fn unavailable(detail: &str) -> AppError {
    log::warn!("database unavailable: {detail}");
    AppError::Unavailable {
        retry_after_ms: DB_RETRY_AFTER_MS,
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        use diesel_async::pooled_connection::deadpool::PoolError;
        match e {
            // No connection could be made in time, or none was free: try again soon.
            PoolError::Timeout(_) | PoolError::Backend(_) => unavailable(&e.to_string()),
            other => AppError::Internal(format!("database pool: {other}")),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(format!("blocking pool: {e}"))
    }
}
