//! Files: `POST /api/chat/uploads` and the downloads of a file and its thumbnail, served so that
//! no upload can run as a page of Confab's origin.

use actix_files::{HttpRange, NamedFile};
use actix_multipart::Multipart;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::Utc;
use uuid::Uuid;

use super::answers::{created, BadRequest, NotFound, TooLarge, Unauthorized, WithStatus};
use super::endpoint::Endpoint;
use crate::auth::AuthUser;
use crate::db;
use crate::db::attachments::Reader;
use crate::db::models::{Attachment, NewAttachment};
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::protocol::views::AttachmentView;
use crate::state::AppState;
use crate::uploads::media;
use crate::uploads::signed::{self, SignedQuery};
use crate::uploads::storage::{ByteStream, Stored};
use crate::uploads::Staged;

/// What a multipart envelope may add to the file itself before the declared length alone is
/// enough to refuse a request unread.
const FORM_OVERHEAD: u64 = 64 * 1024;

/// Sent with every file: nothing in it may load, run or be sniffed into something else.
const CSP: &str = "default-src 'none'; sandbox";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/chat/uploads").post(upload).build())
        .service(
            Endpoint::new("/api/chat/uploads/{id}")
                .get(download_file)
                .build(),
        )
        .service(
            Endpoint::new("/api/chat/uploads/{id}/thumbnail")
                .get(download_thumbnail)
                .build(),
        );
}

/// The form an upload sends: the handler streams its parts (`uploads::receive`) instead of
/// building this type, which is here to describe them.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The file (`limits.max_upload_bytes` at most, 413 past it); other parts are ignored.
    #[schema(value_type = String, format = Binary, min_length = 1)]
    file: Vec<u8>,
}

/// Upload a file (multipart, one `file` field); images get a thumbnail.
#[utoipa::path(
    post,
    path = "/api/chat/uploads",
    operation_id = "uploads_create",
    tag = "uploads",
    security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses(
        (status = 201, description = "Stored", body = AttachmentView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, description = "The file's type is not allowed here", body = ErrorEnvelope),
        (status = 422, description = "`infected`: the malware scanner found something; nothing was stored", body = ErrorEnvelope),
        (status = 503, description = "`unavailable`: the malware scanner cannot be reached (`uploads.scan_fail_open` is false); try again after `retry_after_ms`", body = ErrorEnvelope)
    )
)]
async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    form: Multipart,
) -> AppResult<WithStatus<AttachmentView>> {
    Ok(created(store(&state, &user, &req, form).await?))
}

/// Stores an upload of `user` (also seed 000's `/api/notifications/chat/upload/`): the file's
/// view, its URLs signed for the uploader.
pub async fn store(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    form: Multipart,
) -> AppResult<AttachmentView> {
    Ok(store_form(state, user, req, form, "file").await?.0)
}

/// Stores the file of a form whose file field is `file_field` (seed 004's message form sends
/// `file_attachment`); answers the file's view and the form's other fields.
pub async fn store_form(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    form: Multipart,
    file_field: &str,
) -> AppResult<(AttachmentView, Vec<(String, String)>)> {
    let limit = state.settings.limits.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(FORM_OVERHEAD)) {
        return Err(AppError::TooLarge(format!(
            "the file is larger than {limit} bytes"
        )));
    }
    let (staged, texts) = state.uploads.receive_form(form, file_field).await?;
    Ok((record(state, user, staged).await?, texts))
}

/// Stores a received file and records it as the user's.
async fn record(state: &AppState, user: &AuthUser, staged: Staged) -> AppResult<AttachmentView> {
    let stored = state.uploads.store(staged).await?;
    let new = NewAttachment {
        tenant_id: user.tenant_id,
        uploader_id: user.id,
        storage_key: &stored.storage_key,
        file_name: &stored.file_name,
        content_type: &stored.content_type,
        file_size: stored.file_size,
        width: stored.width,
        height: stored.height,
        thumbnail_key: stored.thumbnail_key.as_deref(),
    };
    let recorded = async {
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(db::attachments::insert(&mut conn, &new).await?)
    }
    .await;
    match recorded {
        Ok(row) => {
            let mut view = AttachmentView::from(&row);
            state.uploads.signer.stamp(&mut view, user.id, Utc::now());
            Ok(view)
        }
        Err(e) => {
            let mut keys = vec![stored.storage_key.as_str()];
            keys.extend(stored.thumbnail_key.as_deref());
            state.uploads.discard(&keys).await;
            Err(e)
        }
    }
}

/// The attachment if the caller may read it; 404 for everyone else. The caller is the user a
/// signed URL names (`?uid=&exp=&sig=`, checked by `uploads::signed`), else the bearer token's.
/// Also answers until when a signed URL works (None for the bearer path).
async fn readable(
    state: &AppState,
    req: &HttpRequest,
    id: Uuid,
) -> AppResult<(Attachment, Option<i64>)> {
    let signed = SignedQuery::from_query(req.query_string())?;
    let mut conn = state.pool.get().await?;
    let reader = match &signed {
        Some(q) => signed::reader(&mut conn, &state.uploads.signer, id, q).await?,
        None => {
            let user = AuthUser::extract(req).await?;
            Reader {
                user_id: user.id,
                tenant_id: user.tenant_id,
                trusted: user.is_admin_or_service(),
            }
        }
    };
    let a = db::attachments::readable(&mut conn, reader, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((a, signed.map(|q| q.exp)))
}

/// Download a file (uploader, or a current member of a room where a message carries it).
#[utoipa::path(
    get,
    path = "/api/chat/uploads/{id}",
    operation_id = "uploads_get",
    tag = "uploads",
    security(("bearer" = []), ("signed_url" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
        ("uid" = Option<Uuid>, Query, description = "Signed URL: the user it was made for (instead of a bearer token)"),
        ("exp" = Option<i64>, Query, description = "Signed URL: when it ends (Unix seconds)"),
        ("sig" = Option<String>, Query, description = "Signed URL: its signature")
    ),
    responses(
        (status = 200, description = "The file, as its type (or `application/octet-stream` for types that could run in a page); Range requests answer 206", content_type = "*/*"),
        (status = 206, description = "The range asked for", content_type = "*/*"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "A signed URL that is wrong or expired", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 416, description = "The range lies outside the file")
    )
)]
async fn download_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    download(state, req, path).await
}

/// Download an image's thumbnail (same access as the file).
#[utoipa::path(
    get,
    path = "/api/chat/uploads/{id}/thumbnail",
    operation_id = "uploads_thumbnail",
    tag = "uploads",
    security(("bearer" = []), ("signed_url" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
        ("uid" = Option<Uuid>, Query, description = "Signed URL: the user it was made for"),
        ("exp" = Option<i64>, Query, description = "Signed URL: when it ends (Unix seconds)"),
        ("sig" = Option<String>, Query, description = "Signed URL: its signature")
    ),
    responses(
        (status = 200, description = "The thumbnail", content(("image/jpeg"), ("image/webp"))),
        (status = 204, description = "The file is not an image and has no thumbnail"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "A signed URL that is wrong or expired", body = ErrorEnvelope),
        (status = 404, response = NotFound)
    )
)]
async fn download_thumbnail(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    download(state, req, path).await
}

/// The file, or with `/thumbnail` its thumbnail (one function: the same check guards both).
async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (a, signed_until) = readable(&state, &req, path.into_inner()).await?;
    let mut resp = if !req.path().ends_with("/thumbnail") {
        let (content_type, inline) = media::served_as(&a.content_type);
        serve(
            &state,
            &req,
            &a.storage_key,
            content_type,
            inline,
            &a.file_name,
        )
        .await?
    } else {
        let Some(key) = a.thumbnail_key.as_deref() else {
            return Ok(HttpResponse::NoContent().finish());
        };
        let stem = a
            .file_name
            .rsplit_once('.')
            .map_or(a.file_name.as_str(), |(s, _)| s);
        let ext = key.rsplit('.').next().unwrap_or("jpg");
        let name = format!("{stem}-thumbnail.{ext}");
        serve(&state, &req, key, media::thumbnail_type(key), true, &name).await?
    };
    // A signed URL's answer may be kept by the browser until the URL ends.
    if let Some(exp) = signed_until {
        let left = (exp - Utc::now().timestamp()).max(0);
        if let Ok(v) = HeaderValue::from_str(&format!("private, max-age={left}")) {
            resp.headers_mut().insert(header::CACHE_CONTROL, v);
        }
    }
    Ok(resp)
}

/// The stored object with its length, a Content-Disposition, `nosniff` and a sandboxing CSP, and
/// Range requests answered (what audio and video players need); local files answer conditional
/// requests too.
async fn serve(
    state: &AppState,
    req: &HttpRequest,
    key: &str,
    content_type: &str,
    inline: bool,
    file_name: &str,
) -> AppResult<HttpResponse> {
    let mime: mime::Mime = content_type
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let disposition = disposition(inline, file_name);
    let stored = state.uploads.storage.get(key).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            log::warn!("stored upload {key} is missing");
            AppError::NotFound
        } else {
            AppError::internal(format!("reading stored upload {key}: {e}"))
        }
    })?;
    let mut resp = match stored {
        Stored::File(path) => NamedFile::open_async(&path)
            .await
            .map_err(|e| AppError::internal(format!("opening stored upload {key}: {e}")))?
            .set_content_type(mime)
            .set_content_disposition(disposition)
            .into_response(req),
        Stored::Stream { len, body } => {
            stream(state, req, key, len, body, mime, disposition).await?
        }
    };
    let headers = resp.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(resp)
}

/// An object from a streaming backend: whole, or one range of it (fetched as that range).
async fn stream(
    state: &AppState,
    req: &HttpRequest,
    key: &str,
    len: u64,
    body: ByteStream,
    mime: mime::Mime,
    disposition: ContentDisposition,
) -> AppResult<HttpResponse> {
    let mut resp = HttpResponse::Ok();
    resp.content_type(mime)
        .insert_header(disposition)
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| HttpRange::parse(v, len));
    match range {
        Some(Ok(ranges)) if ranges.len() == 1 => {
            drop(body);
            let HttpRange { start, length } = ranges[0];
            let part = state
                .uploads
                .storage
                .get_range(key, start..start + length)
                .await
                .map_err(|e| AppError::internal(format!("reading stored upload {key}: {e}")))?;
            let end = start + length - 1;
            Ok(resp
                .status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")))
                .no_chunking(length)
                .streaming(part))
        }
        Some(Err(_)) => Ok(resp
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
            .finish()),
        // No range, or several: the whole object.
        _ => Ok(resp.no_chunking(len).streaming(body)),
    }
}

/// `inline` or `attachment` with the file's name: plain ASCII for every client, and the exact
/// UTF-8 name (RFC 6266 `filename*`) when it has other characters.
fn disposition(inline: bool, file_name: &str) -> ContentDisposition {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut parameters = vec![DispositionParam::Filename(ascii)];
    if !file_name.is_ascii() {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: file_name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters,
    }
}
