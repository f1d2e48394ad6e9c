//! What seeds 000/002's REST endpoints share: DRF's error shape with 000's field names, ids in
//! paths, JSON bodies, and DRF's page-number pages (`{count, next, previous, results}`).

use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

pub use crate::dialects::drf::rest::page_answer;
use crate::dialects::drf::rest::{DrfError, Paging};
use crate::error::{AppError, AppResult};

pub type Answer = Result<HttpResponse, DrfError>;

/// A handler's work, its error answered in DRF's shape with 000's field names.
pub async fn seed(work: impl std::future::Future<Output = AppResult<HttpResponse>>) -> Answer {
    work.await.map_err(seed_error)
}

/// Confab's field names as 000 writes them (`name` is 000's `title`, …).
const FIELDS: [(&str, &str); 4] = [
    ("name", "title"),
    ("room_type", "conversation_type"),
    ("attachment_id", "file_url"),
    ("current_room", "current_conversation"),
];

/// An error in DRF's shape, its field named as 000 names it.
pub fn seed_error(e: impl Into<AppError>) -> DrfError {
    DrfError(match e.into() {
        AppError::BadRequest {
            message,
            field: Some(f),
        } => {
            let field = FIELDS
                .iter()
                .find(|(native, _)| *native == f)
                .map_or(f, |(_, seed)| (*seed).to_owned());
            AppError::BadRequest {
                message,
                field: Some(field),
            }
        }
        other => other,
    })
}

/// An id in a path: anything but a UUID is a path that does not exist (DRF's `<uuid:pk>`).
pub fn path_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// The page asked for (`?page=&page_size=`, as seed 004's: page from 1, size 50 by default and
/// at most `max`).
pub fn page_of(req: &HttpRequest, max: i64) -> Result<(i64, i64), AppError> {
    Paging::of(req)?.resolve(max)
}

/// The part of `all` on page `(page, size)`.
pub fn cut<T>(all: Vec<T>, (page, size): (i64, i64)) -> Vec<T> {
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(0);
    all.into_iter().skip(skip).take(take).collect()
}
