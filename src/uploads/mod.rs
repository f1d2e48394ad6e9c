//! Files and images people share: a multipart stream lands in a staged temp file (never whole in
//! memory, cut off past `limits.max_upload_bytes`), its type is read from its bytes, images get
//! their size and a thumbnail off the async threads, and the result goes to `storage`. SQL stays
//! in `db::attachments`; the HTTP side is `routes::uploads`.

pub mod media;
// Issue 20: PDF and video previews, malware scanning.
pub mod preview;
pub mod scan;
pub mod signed;
pub mod storage;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_multipart::{Field, Multipart};
use actix_web::web;
use futures_util::StreamExt;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::config::{ConfigError, Settings, UploadSettings};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use media::ImageRefused;
use storage::Storage;

pub struct Uploads {
    pub storage: Arc<dyn Storage>,
    /// Makes and checks the short-lived signed URLs of files.
    pub signer: signed::UrlSigner,
    settings: UploadSettings,
    staging: PathBuf,
    max_bytes: u64,
    /// Decodes allowed at once: each may take `max_image_pixels` × 4 bytes.
    decoding: Semaphore,
    /// Issue 20: the malware scanner, when `uploads.scan` names one.
    scanner: Option<scan::Clamd>,
    /// PDF pages and video frames rendered at once.
    previewing: Semaphore,
    metrics: Arc<Metrics>,
}

/// An upload received whole: the temp file is removed when this is dropped unstored.
pub struct Staged {
    path: TempPath,
    size: u64,
    head: Vec<u8>,
    file_name: String,
}

/// A file in storage, ready to be recorded.
#[derive(Debug)]
pub struct StoredUpload {
    pub storage_key: String,
    pub thumbnail_key: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub file_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// How long a client refused because the scanner is down waits before trying again.
const SCANNER_RETRY_AFTER_MS: u64 = 5000;

/// What the form's other fields may add up to.
const OTHER_FIELDS_MAX: u64 = 64 * 1024;

fn multipart_error(e: actix_multipart::MultipartError) -> AppError {
    AppError::bad_request("file", format!("reading the upload: {e}"))
}

impl Uploads {
    pub fn new(settings: &Settings, metrics: Arc<Metrics>) -> Result<Self, ConfigError> {
        let u = &settings.uploads;
        Ok(Uploads {
            scanner: scan::from_settings(u)?,
            previewing: Semaphore::new(u.max_concurrent_previews),
            metrics,
            storage: storage::build(u)?,
            signer: signed::UrlSigner::new(&settings.auth.jwt_secret, u.url_ttl_secs),
            staging: storage::staging_dir(u),
            max_bytes: settings.limits.max_upload_bytes,
            decoding: Semaphore::new(u.max_concurrent_images),
            settings: u.clone(),
        })
    }

    /// Reads the form: its `file` field streams to a staged temp file, other fields are read and
    /// dropped. Past the size limit it answers 413 and the partial file is removed (the temp path
    /// goes with the error).
    pub async fn receive(&self, form: Multipart) -> AppResult<Staged> {
        Ok(self.receive_form(form, "file").await?.0)
    }

    /// Reads a form whose file is the field `file_field` (streamed to a staged temp file, 413
    /// past the limit) and whose other fields are small texts, answered by name (at most
    /// 64 KiB together; a field that is not UTF-8 is 400).
    pub async fn receive_form(
        &self,
        mut form: Multipart,
        file_field: &str,
    ) -> AppResult<(Staged, Vec<(String, String)>)> {
        let mut staged = None;
        let mut texts = Vec::new();
        let mut other_bytes: u64 = 0;
        while let Some(field) = form.next().await {
            let mut field = field.map_err(multipart_error)?;
            let name = field.name().unwrap_or_default().to_owned();
            if name == file_field && staged.is_none() {
                staged = Some(self.stage(&mut field).await?);
                continue;
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(multipart_error)?;
                other_bytes += chunk.len() as u64;
                if other_bytes > OTHER_FIELDS_MAX {
                    return Err(AppError::TooLarge(format!(
                        "fields besides `{file_field}` are larger than {OTHER_FIELDS_MAX} bytes"
                    )));
                }
                value.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(value)
                .map_err(|_| AppError::bad_request(&name, format!("{name} is not UTF-8 text")))?;
            texts.push((name, text));
        }
        let staged = staged.ok_or_else(|| {
            AppError::bad_request(file_field, format!("the form has no `{file_field}` field"))
        })?;
        Ok((staged, texts))
    }

    async fn stage(&self, field: &mut Field) -> AppResult<Staged> {
        let raw_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or_default()
            .to_owned();
        let dir = self.staging.clone();
        let (file, path) = web::block(move || {
            tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(dir)
                .map(tempfile::NamedTempFile::into_parts)
        })
        .await?
        .map_err(|e| AppError::internal(format!("staging an upload: {e}")))?;
        let mut out = tokio::fs::File::from_std(file);
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(media::SNIFF_BYTES);
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            size += chunk.len() as u64;
            if size > self.max_bytes {
                return Err(AppError::TooLarge(format!(
                    "the file is larger than {} bytes",
                    self.max_bytes
                )));
            }
            let want = media::SNIFF_BYTES
                .saturating_sub(head.len())
                .min(chunk.len());
            head.extend_from_slice(&chunk[..want]);
            out.write_all(&chunk)
                .await
                .map_err(|e| AppError::internal(format!("writing an upload: {e}")))?;
        }
        out.flush()
            .await
            .map_err(|e| AppError::internal(format!("writing an upload: {e}")))?;
        Ok(Staged {
            path,
            size,
            head,
            file_name: media::sanitize_file_name(&raw_name),
        })
    }

    /// Decides what the staged file is, makes an image's thumbnail, and stores both.
    pub async fn store(&self, staged: Staged) -> AppResult<StoredUpload> {
        if staged.size == 0 {
            return Err(AppError::bad_request("file", "the file is empty"));
        }
        let content_type = media::sniff(&staged.head);
        let u = &self.settings;
        if !media::accepts(&u.allowed_types, &u.denied_types, &content_type) {
            return Err(AppError::Unsupported(format!(
                "files of type {content_type} are not accepted"
            )));
        }
        self.scan(&staged).await?;
        let facts = self.image_facts(&staged, &content_type).await?;
        let preview = match facts {
            None => self.file_preview(&staged, &content_type).await,
            Some(_) => None,
        };
        let thumbnail = facts.as_ref().map(|f| &f.thumbnail).or(preview.as_ref());
        let key = storage::new_key();
        self.storage
            .put_file(&key, staged.path)
            .await
            .map_err(|e| AppError::internal(format!("storing an upload: {e}")))?;
        let mut thumbnail_key = None;
        if let Some(t) = thumbnail {
            let thumb = format!("{key}.thumb.{}", t.extension);
            if let Err(e) = self.storage.put_bytes(&thumb, t.bytes.clone()).await {
                self.discard(&[&key]).await;
                return Err(AppError::internal(format!("storing a thumbnail: {e}")));
            }
            thumbnail_key = Some(thumb);
        }
        Ok(StoredUpload {
            storage_key: key,
            thumbnail_key,
            file_name: staged.file_name,
            content_type,
            file_size: i64::try_from(staged.size).unwrap_or(i64::MAX),
            width: facts
                .as_ref()
                .map(|f| i32::try_from(f.width).unwrap_or(i32::MAX)),
            height: facts
                .as_ref()
                .map(|f| i32::try_from(f.height).unwrap_or(i32::MAX)),
        })
    }

    /// An image's size and thumbnail (None for other files): decoded on the blocking pool, at
    /// most `max_concurrent_images` at once; too many pixels is 413, undecodable 400.
    async fn image_facts(
        &self,
        staged: &Staged,
        content_type: &str,
    ) -> AppResult<Option<media::ImageFacts>> {
        let Some(format) = media::image_format(content_type) else {
            return Ok(None);
        };
        let _permit = self.decoding.acquire().await.map_err(AppError::internal)?;
        let path = staged.path.to_path_buf();
        let (px, max) = (self.settings.thumbnail_px, self.settings.max_image_pixels);
        let facts = web::block(move || media::process_image(&path, format, px, max))
            .await?
            .map_err(|e| match e {
                ImageRefused::TooManyPixels { .. } | ImageRefused::OverLimit(_) => {
                    AppError::TooLarge(e.to_string())
                }
                ImageRefused::Undecodable(_) => AppError::bad_request("file", e.to_string()),
                ImageRefused::Io(_) => AppError::internal(e),
            })?;
        Ok(Some(facts))
    }

    /// Issue 20: a PDF's first page or a video's poster frame as a thumbnail, made on the
    /// blocking pool (at most `max_concurrent_previews` at once, each within
    /// `preview_timeout_ms`). A file that cannot be previewed is still stored, without one
    /// (counted in `confab_file_previews_failed_total`).
    async fn file_preview(&self, staged: &Staged, content_type: &str) -> Option<media::Thumbnail> {
        let u = &self.settings;
        let source = preview::source_of(content_type).filter(|_| u.file_previews)?;
        let _permit = self.previewing.acquire().await.ok()?;
        let (path, staging) = (staged.path.to_path_buf(), self.staging.clone());
        let (px, max) = (u.thumbnail_px, u.max_image_pixels);
        let limit = std::time::Duration::from_millis(u.preview_timeout_ms);
        let made = web::block(move || {
            let dir = tempfile::Builder::new()
                .prefix("preview-")
                .tempdir_in(staging)
                .map_err(|e| e.to_string())?;
            let png =
                preview::render(&path, source, dir.path(), px, limit).map_err(|e| e.to_string())?;
            media::process_image(&png, image::ImageFormat::Png, px, max)
                .map(|f| f.thumbnail)
                .map_err(|e| e.to_string())
        })
        .await;
        match made {
            Ok(Ok(thumbnail)) => Some(thumbnail),
            Ok(Err(e)) => {
                self.metrics
                    .previews_failed_total
                    .fetch_add(1, Ordering::Relaxed);
                log::info!("no preview of a {content_type} upload: {e}");
                None
            }
            Err(e) => {
                log::warn!("preview of a {content_type} upload: {e}");
                None
            }
        }
    }

    /// Issue 20: asks the scanner, when there is one. Infected: `422 infected` (the staged file
    /// is removed with `staged`). Scanner down: refused with 503, or with `scan_fail_open`
    /// accepted unscanned; both counted.
    async fn scan(&self, staged: &Staged) -> AppResult<()> {
        let Some(clamd) = &self.scanner else {
            return Ok(());
        };
        let m = &self.metrics;
        match clamd.scan_file(&staged.path).await {
            Ok(scan::Verdict::Clean) => Ok(()),
            Ok(scan::Verdict::Infected(name)) => {
                m.uploads_infected_total.fetch_add(1, Ordering::Relaxed);
                log::warn!("refused an infected upload ({name})");
                Err(AppError::Infected(format!(
                    "the file is infected ({name}) and was not stored"
                )))
            }
            Err(scan::ScanError::File(e)) => Err(AppError::internal(format!("scanning: {e}"))),
            Err(e) => {
                m.upload_scanner_down_total.fetch_add(1, Ordering::Relaxed);
                if self.settings.scan_fail_open {
                    m.uploads_unscanned_total.fetch_add(1, Ordering::Relaxed);
                    log::warn!("upload accepted unscanned (uploads.scan_fail_open): {e}");
                    Ok(())
                } else {
                    log::error!("upload refused, the scanner is down: {e}");
                    Err(AppError::Unavailable {
                        retry_after_ms: SCANNER_RETRY_AFTER_MS,
                    })
                }
            }
        }
    }

    /// One sweep: removes the uploads no message carried within `uploads.unattached_ttl_secs`
    /// (rows first, then their files); answers how many went.
    pub async fn sweep_unattached(&self, pool: &crate::db::DbPool) -> AppResult<usize> {
        const BATCH: i64 = 500;
        let ttl = i64::try_from(self.settings.unattached_ttl_secs).unwrap_or(i64::MAX);
        let before = chrono::Utc::now() - chrono::Duration::seconds(ttl);
        let mut swept = 0;
        loop {
            let mut conn = pool.get().await?;
            let keys = crate::db::attachments::delete_unattached(&mut conn, before, BATCH).await?;
            drop(conn);
            for (file, thumb) in &keys {
                let mut stored = vec![file.as_str()];
                stored.extend(thumb.as_deref());
                self.discard(&stored).await;
            }
            swept += keys.len();
            if (keys.len() as i64) < BATCH {
                return Ok(swept);
            }
        }
    }

    /// Removes stored objects that will not be recorded (best effort: a leftover is only logged).
    pub async fn discard(&self, keys: &[&str]) {
        for key in keys {
            if let Err(e) = self.storage.delete(key).await {
                log::warn!("could not remove stored upload {key}: {e}");
            }
        }
    }
}
