//! Where uploaded bytes live, behind one small interface: local disk (the default) or an
//! S3-compatible bucket through `object_store`. Keys are Confab's own random names, never a
//! user's file name.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use tempfile::TempPath;
use tokio::io::AsyncReadExt;

use crate::config::{ConfigError, UploadSettings};

/// A stored object as it is read back.
pub enum Stored {
    /// A file on local disk: served with ranges, validators and the exact length by actix-files.
    File(PathBuf),
    /// Bytes from elsewhere, of a known length.
    Stream {
        len: u64,
        body: BoxStream<'static, io::Result<Bytes>>,
    },
}

#[async_trait]
pub trait Storage: Send + Sync {
    /// Stores the finished upload staged at `staged` under `key`; the staged file is consumed.
    async fn put_file(&self, key: &str, staged: TempPath) -> io::Result<()>;
    /// Stores a small object (a thumbnail) under `key`.
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()>;
    /// Opens `key`; `ErrorKind::NotFound` when there is no such object.
    async fn get(&self, key: &str) -> io::Result<Stored>;
    async fn delete(&self, key: &str) -> io::Result<()>;
}

/// A fresh random key, fanned out over 256 prefixes: `ab/ab12...`.
pub fn new_key() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{hex}", &hex[..2])
}

/// Keys are ours (`new_key` plus a suffix); anything else is refused rather than joined to a path.
fn checked(key: &str) -> io::Result<&str> {
    let ok = !key.is_empty()
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "./-".contains(c));
    if ok {
        Ok(key)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a storage key: {key:?}"),
        ))
    }
}

/// The backend `uploads.storage` names, with the staging directory made.
pub fn build(settings: &UploadSettings) -> Result<Arc<dyn Storage>, ConfigError> {
    let root = PathBuf::from(&settings.dir);
    std::fs::create_dir_all(staging_dir(settings))
        .map_err(|e| ConfigError(format!("`uploads.dir` {}: {e}", root.display())))?;
    match settings.storage.as_str() {
        "s3" => Ok(Arc::new(S3Storage::new(settings)?)),
        _ => Ok(Arc::new(LocalStorage { root })),
    }
}

/// Where uploads stream to before they are stored (on the same disk as local storage, so
/// storing is a rename).
pub fn staging_dir(settings: &UploadSettings) -> PathBuf {
    Path::new(&settings.dir).join("tmp")
}

/// Files under `uploads.dir`.
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    fn path(&self, key: &str) -> io::Result<PathBuf> {
        Ok(self.root.join(checked(key)?))
    }

    async fn make_parent(path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(parent) => tokio::fs::create_dir_all(parent).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Storage for LocalStorage {
    async fn put_file(&self, key: &str, staged: TempPath) -> io::Result<()> {
        let dest = self.path(key)?;
        Self::make_parent(&dest).await?;
        tokio::task::spawn_blocking(move || staged.persist(dest).map_err(|e| e.error))
            .await
            .map_err(io::Error::other)?
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let dest = self.path(key)?;
        Self::make_parent(&dest).await?;
        tokio::fs::write(dest, bytes).await
    }

    async fn get(&self, key: &str) -> io::Result<Stored> {
        let path = self.path(key)?;
        tokio::fs::metadata(&path).await?;
        Ok(Stored::File(path))
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Objects in an S3-compatible bucket. Reads stream whole objects (no ranges yet).
pub struct S3Storage {
    store: AmazonS3,
    prefix: String,
}

impl S3Storage {
    fn new(settings: &UploadSettings) -> Result<Self, ConfigError> {
        let s3 = &settings.s3;
        // Credentials (and anything not set here) come from the AWS_* environment variables.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_allow_http(s3.allow_http);
        if !s3.region.is_empty() {
            builder = builder.with_region(&s3.region);
        }
        if !s3.endpoint.is_empty() {
            builder = builder.with_endpoint(&s3.endpoint);
        }
        let store = builder
            .build()
            .map_err(|e| ConfigError(format!("`uploads.s3`: {e}")))?;
        Ok(S3Storage {
            store,
            prefix: s3.prefix.trim_matches('/').to_owned(),
        })
    }

    fn location(&self, key: &str) -> io::Result<object_store::path::Path> {
        let key = checked(key)?;
        Ok(if self.prefix.is_empty() {
            object_store::path::Path::from(key)
        } else {
            object_store::path::Path::from(format!("{}/{key}", self.prefix))
        })
    }
}

fn s3_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        other => io::Error::other(other),
    }
}

#[async_trait]
impl Storage for S3Storage {
    async fn put_file(&self, key: &str, staged: TempPath) -> io::Result<()> {
        let location = self.location(key)?;
        let mut file = tokio::fs::File::open(&staged).await?;
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(s3_error)?;
        // Parts of 5 MiB at most go up while the next is read: the file is never held whole.
        let mut writer = WriteMultipart::new(upload);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = writer.wait_for_capacity(4).await {
                let _ = writer.abort().await;
                return Err(s3_error(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(s3_error)?;
        drop(staged);
        Ok(())
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        self.store
            .put(&self.location(key)?, PutPayload::from(bytes))
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> io::Result<Stored> {
        let got = self
            .store
            .get(&self.location(key)?)
            .await
            .map_err(s3_error)?;
        Ok(Stored::Stream {
            len: got.meta.size,
            body: got.into_stream().map_err(s3_error).boxed(),
        })
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.location(key)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(s3_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_keys_become_paths() {
        let key = new_key();
        assert!(checked(&key).is_ok());
        assert!(checked(&format!("{key}.thumb.webp")).is_ok());
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "ab/../../x",
            "ab//c",
            "AB/x",
            "",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }
}
