//! Where uploaded bytes live, behind one small interface: local disk (the default) or an
//! S3-compatible bucket through `object_store`. Keys are Confab's own random names, never a
//! user's file name.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tempfile::TempPath;
use tokio::io::AsyncReadExt;

use crate::config::{ConfigError, UploadSettings};

pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A stored object as it is read back.
pub enum Stored {
    /// A file on local disk: served with ranges, validators and the exact length by actix-files.
    File(PathBuf),
    /// Bytes from elsewhere, of a known length.
    Stream { len: u64, body: ByteStream },
}

#[async_trait]
pub trait Storage: Send + Sync {
    /// Stores the finished upload staged at `staged` under `key`; the staged file is consumed.
    async fn put_file(&self, key: &str, staged: TempPath) -> io::Result<()>;
    /// Stores a small object (a thumbnail) under `key`.
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()>;
    /// Opens `key`; `ErrorKind::NotFound` when there is no such object.
    async fn get(&self, key: &str) -> io::Result<Stored>;
    /// Bytes `range` of `key`, for backends whose `get` answers a stream (a local file's ranges
    /// are actix-files' job).
    async fn get_range(&self, key: &str, range: Range<u64>) -> io::Result<ByteStream> {
        let _ = (key, range);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "ranges are served from the file",
        ))
    }
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
    let staging = staging_dir(settings);
    std::fs::create_dir_all(&staging)
        .map_err(|e| ConfigError(format!("`uploads.dir` {}: {e}", root.display())))?;
    sweep_staging(&staging, STALE_STAGED);
    match settings.storage.as_str() {
        "s3" => Ok(Arc::new(ObjectStorage::s3(settings)?)),
        "memory" => Ok(Arc::new(ObjectStorage::new(
            Arc::new(object_store::memory::InMemory::new()),
            "",
        ))),
        _ => Ok(Arc::new(LocalStorage { root })),
    }
}

/// Where uploads stream to before they are stored (on the same disk as local storage, so
/// storing is a rename).
pub fn staging_dir(settings: &UploadSettings) -> PathBuf {
    Path::new(&settings.dir).join("tmp")
}

/// A staged file this old was left by a process that stopped mid-upload (younger ones may be
/// another node's uploads in progress, when several share the directory).
const STALE_STAGED: Duration = Duration::from_secs(3600);

/// Removes abandoned staged files (start-up only: it blocks).
fn sweep_staging(dir: &Path, older_than: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > older_than);
        if stale {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                log::warn!("could not remove {}: {e}", entry.path().display());
            }
        }
    }
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

/// Objects in an object store: an S3-compatible bucket in production (any `object_store` backend
/// works the same; "memory" keeps them in this process, for tests).
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl ObjectStorage {
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        ObjectStorage {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
        }
    }

    fn s3(settings: &UploadSettings) -> Result<Self, ConfigError> {
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
        Ok(Self::new(Arc::new(store), &s3.prefix))
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

fn store_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        other => io::Error::other(other),
    }
}

#[async_trait]
impl Storage for ObjectStorage {
    async fn put_file(&self, key: &str, staged: TempPath) -> io::Result<()> {
        let location = self.location(key)?;
        let mut file = tokio::fs::File::open(&staged).await?;
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(store_error)?;
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
                return Err(store_error(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(store_error)?;
        drop(staged);
        Ok(())
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        self.store
            .put(&self.location(key)?, PutPayload::from(bytes))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> io::Result<Stored> {
        let got = self
            .store
            .get(&self.location(key)?)
            .await
            .map_err(store_error)?;
        Ok(Stored::Stream {
            len: got.meta.size,
            body: got.into_stream().map_err(store_error).boxed(),
        })
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> io::Result<ByteStream> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&self.location(key)?, options)
            .await
            .map_err(store_error)?;
        Ok(got.into_stream().map_err(store_error).boxed())
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.location(key)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    async fn staged(bytes: &[u8]) -> TempPath {
        let (file, path) = tempfile::NamedTempFile::new()
            .expect("temp file")
            .into_parts();
        drop(file);
        tokio::fs::write(&path, bytes).await.expect("write");
        path
    }

    async fn read_back(storage: &dyn Storage, key: &str) -> Vec<u8> {
        match storage.get(key).await.expect("stored") {
            Stored::File(path) => tokio::fs::read(path).await.expect("read"),
            Stored::Stream { len, body } => {
                let chunks: Vec<Bytes> = body.try_collect().await.expect("stream");
                let all = chunks.concat();
                assert_eq!(all.len() as u64, len);
                all
            }
        }
    }

    /// Both backends keep, return and forget bytes the same way.
    async fn round_trip(storage: &dyn Storage) {
        let key = new_key();
        // Larger than one 5 MiB multipart part, so the object store path uploads several.
        let big: Vec<u8> = (0..6 * 1024 * 1024 + 7).map(|i| (i % 253) as u8).collect();
        let path = staged(&big).await;
        let staged_at = path.to_path_buf();
        storage.put_file(&key, path).await.expect("put file");
        assert!(!staged_at.exists(), "the staged file is consumed");
        assert_eq!(read_back(storage, &key).await, big);
        let thumb = format!("{key}.thumb.jpg");
        storage
            .put_bytes(&thumb, b"small".to_vec())
            .await
            .expect("put bytes");
        assert_eq!(read_back(storage, &thumb).await, b"small");
        storage.delete(&key).await.expect("delete");
        storage.delete(&key).await.expect("deleting twice is fine");
        let gone = storage.get(&key).await.err().map(|e| e.kind());
        assert_eq!(gone, Some(io::ErrorKind::NotFound));
        assert!(storage.get("../../etc/passwd").await.is_err());
    }

    #[test]
    fn abandoned_staged_files_are_swept_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let old = dir.path().join("upload-old");
        let fresh = dir.path().join("upload-fresh");
        std::fs::write(&old, b"x").expect("write");
        std::fs::write(&fresh, b"x").expect("write");
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(two_hours_ago))
            .expect("age the file");
        sweep_staging(dir.path(), STALE_STAGED);
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[actix_rt::test]
    async fn local_storage_round_trips() {
        let dir = tempfile::tempdir().expect("dir");
        round_trip(&LocalStorage {
            root: dir.path().to_path_buf(),
        })
        .await;
    }

    #[actix_rt::test]
    async fn object_storage_round_trips_in_parts() {
        let store = Arc::new(object_store::memory::InMemory::new());
        round_trip(&ObjectStorage::new(store.clone(), "/confab/")).await;
        // Keys live under the prefix.
        let listed: Vec<_> = store
            .list(Some(&object_store::path::Path::from("confab")))
            .try_collect()
            .await
            .expect("list");
        assert_eq!(listed.len(), 1, "{listed:?}");
    }

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
