//! Issue 20's settings: malware scanning and file previews (fields of `uploads`, checked here)
//! and link previews (`[link_previews]`).

use serde::Deserialize;

use super::{bad, ConfigError, UploadSettings};

pub(super) fn default_scan_timeout_ms() -> u64 {
    30_000
}

pub(super) fn default_true() -> bool {
    true
}

pub(super) fn default_preview_timeout_ms() -> u64 {
    10_000
}

pub(super) fn default_max_concurrent_previews() -> usize {
    2
}

impl UploadSettings {
    /// `uploads.scan`, `uploads.clamd` and the scan's time.
    pub(super) fn validate_media(&self) -> Result<(), ConfigError> {
        match self.scan.as_str() {
            "" | "none" => {}
            "clamav" => {
                crate::domain::media::ClamdAddr::parse(&self.clamd)
                    .map_err(|why| bad("uploads.clamd", why))?;
            }
            _ => return Err(bad("uploads.scan", "must be empty, none or clamav")),
        }
        if !(100..=600_000).contains(&self.preview_timeout_ms) || self.max_concurrent_previews == 0
        {
            return Err(bad(
                "uploads.preview_timeout_ms",
                "must be between 100 and 600000, and max_concurrent_previews at least 1",
            ));
        }
        if !(100..=600_000).contains(&self.scan_timeout_ms) {
            return Err(bad(
                "uploads.scan_timeout_ms",
                "must be between 100 and 600000",
            ));
        }
        Ok(())
    }
}

/// Link previews (docs/PROTOCOL.md, *Link previews*).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LinkPreviewSettings {
    pub enabled: bool,
    /// Hosts exempt from the address guard (may be private, may be plain http): tests, loopback.
    pub allow_hosts: Vec<String>,
    /// Tenants (ids) whose messages never get previews.
    pub off_tenants: Vec<uuid::Uuid>,
    /// Tenants (ids) whose direct rooms get previews too (others: group rooms and up only).
    pub direct_tenants: Vec<uuid::Uuid>,
    /// The whole fetch of a page (every redirect) and of its image, each.
    pub timeout_ms: u64,
    /// A page (or image) larger than this is not previewed.
    pub max_bytes: u64,
    pub max_redirects: usize,
    /// How long what a URL gave is reused.
    pub cache_secs: u64,
    /// The preview image fits a square this many pixels wide.
    pub image_px: u32,
    /// Fetches one node runs at once (more wait).
    pub max_parallel: usize,
}

impl Default for LinkPreviewSettings {
    fn default() -> Self {
        LinkPreviewSettings {
            enabled: true,
            allow_hosts: Vec::new(),
            off_tenants: Vec::new(),
            direct_tenants: Vec::new(),
            timeout_ms: 5_000,
            max_bytes: 1024 * 1024,
            max_redirects: 3,
            cache_secs: 86_400,
            image_px: 160,
            max_parallel: 4,
        }
    }
}

impl LinkPreviewSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(100..=60_000).contains(&self.timeout_ms) || self.max_parallel == 0 {
            return Err(bad(
                "link_previews.timeout_ms",
                "must be between 100 and 60000, and max_parallel at least 1",
            ));
        }
        if self.max_bytes < 1024 || self.image_px < 16 || self.max_redirects > 10 {
            return Err(bad(
                "link_previews.max_bytes",
                "must be at least 1024, image_px at least 16, max_redirects at most 10",
            ));
        }
        Ok(())
    }
}
