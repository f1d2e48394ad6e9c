//! Typed settings: config/default.toml, then config/{CONFAB_ENV}.toml, then CONFAB__* variables.

use std::path::{Path, PathBuf};

use serde::Deserialize;

// Issue 20: the settings of scanning, file previews and link previews.
mod media;
pub use media::LinkPreviewSettings;

/// Everything Confab can be told; see config/default.toml for the meaning of each key.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub realtime: RealtimeSettings,
    pub rate_limits: RateLimitSettings,
    pub uploads: UploadSettings,
    pub broker: BrokerSettings,
    #[serde(default)]
    pub dialects: DialectSettings,
    // Issue 14: notifications and webhooks (defined at the end of this file).
    #[serde(default)]
    pub notifications: NotificationSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    // moderation (issue 17)
    #[serde(default)]
    pub retention: RetentionSettings,
    // issue 20 (defined at the end of this file)
    #[serde(default)]
    pub link_previews: LinkPreviewSettings,
}

/// The retention sweep (issue 17); the policies themselves are set through the admin API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Seconds between sweeps.
    pub sweep_interval_secs: u64,
    /// Messages one batch (one short transaction) sweeps at most.
    pub batch: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            sweep_interval_secs: 300,
            batch: 200,
        }
    }
}

/// The seed systems' dialects (docs/DIALECTS.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DialectSettings {
    /// What a per-room socket `/ws/chat/{room_id}/` speaks when the URL does not say
    /// (`?dialect=`): `drf` (seed 004) or `wasgo` (seed 003).
    pub room_socket: String,
}

impl Default for DialectSettings {
    fn default() -> Self {
        DialectSettings {
            room_socket: "drf".into(),
        }
    }
}

/// Which claims of a token name the user, the tenant and the display name, so a platform's
/// existing tokens work unchanged (e.g. SimpleJWT: `user = "user_id"`, no tenant claim).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ClaimMapping {
    pub user: String,
    pub tenant: String,
    pub name: String,
    /// The tenant of a token without the tenant claim; empty: such tokens are refused.
    pub default_tenant: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        ClaimMapping {
            user: "sub".into(),
            tenant: "tenant".into(),
            name: "name".into(),
            default_tenant: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub static_dir: String,
    pub allowed_origins: Vec<String>,
    pub content_security_policy: String,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: usize,
    pub pool_timeout_secs: u64,
    /// Connecting (or checking a pooled connection) takes at most this long, in milliseconds.
    pub connect_timeout_ms: u64,
}

#[derive(Clone, Deserialize)]
pub struct AuthSettings {
    #[serde(default)]
    pub jwt_secret: String,
    pub jwt_algorithm: String,
    pub platform_jwt_algorithm: String,
    pub platform_public_key_path: String,
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub ws_ticket_ttl_secs: i64,
    pub allow_registration: bool,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub argon2_max_concurrent: usize,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_window_secs: u64,
    #[serde(default)]
    pub claims: ClaimMapping,
}

// The secret never reaches a log through `{:?}`.
impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("platform_jwt_algorithm", &self.platform_jwt_algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    pub max_message_chars: usize,
    pub max_frame_bytes: usize,
    pub max_json_body_bytes: usize,
    pub max_upload_bytes: u64,
    pub max_resume_events: i64,
    pub max_outbound_queue: usize,
    pub max_connections_per_user: usize,
    pub edit_window_secs: i64,
    pub max_room_members: i32,
    pub max_search_query_chars: usize,
    pub max_page_size: i64,
    // Seed 001 (dialect issue 13) and moderation (issue 17):
    /// A sender may delete a message only this long after sending it (0: any time; moderators
    /// and admins always may).
    #[serde(default)]
    pub delete_window_secs: i64,
    // ---- moderation (issue 17) ----
    /// Pinned messages a room may have at once.
    #[serde(default = "default_max_pins_per_room")]
    pub max_pins_per_room: i64,
}

fn default_max_pins_per_room() -> i64 {
    50
}

#[derive(Debug, Clone, Deserialize)]
pub struct RealtimeSettings {
    pub heartbeat_secs: u64,
    pub client_timeout_secs: u64,
    pub typing_timeout_secs: u64,
    pub presence_grace_secs: u64,
    pub room_idle_secs: u64,
    pub group_commit_max: usize,
    /// Transactions each room thread's committer may run at once.
    pub commit_parallel: usize,
    /// Writes (of any number of rooms) one committer transaction takes at most.
    pub commit_max_writes: usize,
    // Seed 001 (dialect issue 13):
    /// Typing expires after this many milliseconds when set (seed 001's `CHAT_TYPING_TIMEOUT`);
    /// 0: `typing_timeout_secs`.
    #[serde(default)]
    pub typing_timeout_ms: u64,
    /// A user joining or leaving a room also posts a `system` message (seed 001).
    #[serde(default)]
    pub membership_messages: bool,
}

impl RealtimeSettings {
    /// How long a `start_typing` holds without another.
    pub fn typing_timeout(&self) -> std::time::Duration {
        if self.typing_timeout_ms > 0 {
            std::time::Duration::from_millis(self.typing_timeout_ms)
        } else {
            std::time::Duration::from_secs(self.typing_timeout_secs)
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    pub ws_frames_per_sec: u32,
    pub ws_burst: u32,
    pub messages_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadSettings {
    pub dir: String,
    pub thumbnail_px: u32,
    pub max_image_pixels: u64,
    /// How many images may be decoded at once (each can take max_image_pixels × 4 bytes).
    pub max_concurrent_images: usize,
    /// Content types accepted (`image/*` style patterns); empty accepts every type.
    pub allowed_types: Vec<String>,
    /// Content types refused even when allowed.
    pub denied_types: Vec<String>,
    /// "local" (files under `dir`), "s3" (an S3-compatible bucket) or "memory" (tests).
    pub storage: String,
    /// How long a signed file URL works.
    pub url_ttl_secs: i64,
    /// An upload no message carries is deleted (row and stored file) after this many seconds.
    pub unattached_ttl_secs: u64,
    /// How often the sweep for such uploads runs.
    pub sweep_interval_secs: u64,
    pub s3: S3Settings,
    // ---- issue 20: malware scanning and file previews (see `UploadSettings::validate_media`) ----
    /// "" (no scanning) or "clamav".
    #[serde(default)]
    pub scan: String,
    /// Where clamd listens: `unix:/path/clamd.sock` or `tcp:host:port`.
    #[serde(default)]
    pub clamd: String,
    /// When clamd cannot answer: accept the file unscanned (true) or refuse it (false).
    #[serde(default)]
    pub scan_fail_open: bool,
    /// One scan (connect, stream, answer) takes at most this long.
    #[serde(default = "media::default_scan_timeout_ms")]
    pub scan_timeout_ms: u64,
    /// PDFs get a first-page thumbnail and videos a poster frame (pdftoppm, ffmpeg).
    #[serde(default = "media::default_true")]
    pub file_previews: bool,
    /// One PDF page or video frame is rendered within this long, or not at all.
    #[serde(default = "media::default_preview_timeout_ms")]
    pub preview_timeout_ms: u64,
    /// Previews rendered at once.
    #[serde(default = "media::default_max_concurrent_previews")]
    pub max_concurrent_previews: usize,
}

/// An S3-compatible bucket; credentials come from the environment (AWS_ACCESS_KEY_ID, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Empty = AWS; set for MinIO, Ceph, R2 and the like.
    pub endpoint: String,
    /// Prefix prepended to every object key.
    pub prefix: String,
    pub allow_http: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BrokerSettings {
    pub redis_url: String,
    pub presence_ttl_secs: u64,
}

/// A setting that cannot be used, named by its key.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn bad(key: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("`{key}` {why}"))
}

/// Where config/ lives: CONFAB_CONFIG_DIR, else ./config, else the one beside Cargo.toml.
pub fn config_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CONFAB_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("config");
    if local.join("default.toml").exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

impl Settings {
    /// Loads and validates the settings from the files and the environment.
    pub fn load() -> Result<Settings, ConfigError> {
        Self::load_from(&config_dir())
    }

    pub fn load_from(dir: &Path) -> Result<Settings, ConfigError> {
        Self::load_with(dir, &[])
    }

    /// Like `load_from`, with `overrides` (key, value) applied last: how tests set their keys
    /// without touching the process environment.
    pub fn load_with(dir: &Path, overrides: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env_name = std::env::var("CONFAB_ENV").unwrap_or_else(|_| "development".into());
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")))
            .add_source(config::File::from(dir.join(format!("{env_name}.toml"))).required(false))
            .add_source(
                config::Environment::with_prefix("CONFAB")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.allowed_origins")
                    .with_list_parse_key("uploads.allowed_types")
                    .with_list_parse_key("uploads.denied_types")
                    .with_list_parse_key("webhooks.allow_insecure_hosts")
                    .with_list_parse_key("link_previews.allow_hosts")
                    .with_list_parse_key("link_previews.off_tenants")
                    .with_list_parse_key("link_previews.direct_tenants"),
            );
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, *value)
                .map_err(|e| ConfigError(e.to_string()))?;
        }
        let built = builder.build().map_err(|e| ConfigError(e.to_string()))?;
        let mut settings: Settings = built
            .try_deserialize()
            .map_err(|e| ConfigError(e.to_string()))?;
        if settings.database.url.is_empty() {
            settings.database.url = std::env::var("DATABASE_URL").unwrap_or_default();
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Rejects values that would make the server misbehave, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.auth.validate()?;
        self.limits.validate()?;
        self.realtime.validate()?;
        self.uploads.validate()?;
        self.webhooks.validate()?;
        self.link_previews.validate()?;
        if self.rate_limits.ws_frames_per_sec == 0 || self.rate_limits.messages_per_minute == 0 {
            return Err(bad("rate_limits", "limits must be at least 1"));
        }
        if self.database.pool_size == 0 {
            return Err(bad("database.pool_size", "must be at least 1"));
        }
        if !(50..=60_000).contains(&self.database.connect_timeout_ms) {
            return Err(bad(
                "database.connect_timeout_ms",
                "must be between 50 and 60000",
            ));
        }
        if self.database.url.is_empty() {
            return Err(bad("database.url", "is empty: set DATABASE_URL"));
        }
        if self.broker.presence_ttl_secs < 3 {
            return Err(bad("broker.presence_ttl_secs", "must be at least 3"));
        }
        if !self.broker.redis_url.is_empty() && !self.broker.redis_url.starts_with("redis") {
            return Err(bad(
                "broker.redis_url",
                "must be a redis:// or rediss:// URL",
            ));
        }
        Ok(())
    }
}

impl AuthSettings {
    /// Token, key and password-hashing settings.
    fn validate(&self) -> Result<(), ConfigError> {
        let a = self;
        if !matches!(a.jwt_algorithm.as_str(), "HS256" | "HS384" | "HS512") {
            return Err(bad("auth.jwt_algorithm", "must be HS256, HS384 or HS512"));
        }
        if a.jwt_secret.len() < 32 {
            return Err(bad(
                "auth.jwt_secret",
                "must be set from the environment (CONFAB__AUTH__JWT_SECRET) to at least 32 bytes",
            ));
        }
        match a.platform_jwt_algorithm.as_str() {
            "" => {}
            "RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "EdDSA" => {
                if a.platform_public_key_path.is_empty() {
                    return Err(bad(
                        "auth.platform_public_key_path",
                        "must name a PEM public key when auth.platform_jwt_algorithm is set",
                    ));
                }
            }
            _ => {
                return Err(bad(
                    "auth.platform_jwt_algorithm",
                    "must be empty, RS256, RS384, RS512, ES256, ES384 or EdDSA",
                ))
            }
        }
        if !(30..=60).contains(&a.leeway_secs) {
            return Err(bad("auth.leeway_secs", "must be between 30 and 60"));
        }
        for (key, v) in [
            ("auth.access_token_ttl_secs", a.access_token_ttl_secs),
            ("auth.refresh_token_ttl_secs", a.refresh_token_ttl_secs),
            ("auth.ws_ticket_ttl_secs", a.ws_ticket_ttl_secs),
        ] {
            if v <= 0 {
                return Err(bad(key, "must be positive"));
            }
        }
        if a.argon2_memory_kib < 8 * a.argon2_parallelism.max(1)
            || a.argon2_iterations == 0
            || a.argon2_parallelism == 0
        {
            return Err(bad(
                "auth.argon2_memory_kib",
                "argon2 parameters are out of range",
            ));
        }
        if a.argon2_max_concurrent == 0 {
            return Err(bad("auth.argon2_max_concurrent", "must be at least 1"));
        }
        Ok(())
    }
}

impl LimitSettings {
    /// Sizes and counts.
    fn validate(&self) -> Result<(), ConfigError> {
        let l = self;
        for (key, v) in [
            ("limits.max_message_chars", l.max_message_chars),
            ("limits.max_frame_bytes", l.max_frame_bytes),
            ("limits.max_json_body_bytes", l.max_json_body_bytes),
            ("limits.max_outbound_queue", l.max_outbound_queue),
            (
                "limits.max_connections_per_user",
                l.max_connections_per_user,
            ),
            ("limits.max_search_query_chars", l.max_search_query_chars),
        ] {
            if v == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if l.max_message_chars > 100_000 {
            return Err(bad("limits.max_message_chars", "must be at most 100000"));
        }
        if l.max_outbound_queue < 4 {
            return Err(bad("limits.max_outbound_queue", "must be at least 4"));
        }
        if l.max_resume_events < 1 || l.max_page_size < 1 || l.max_room_members < 2 {
            return Err(bad(
                "limits",
                "max_resume_events, max_page_size must be >= 1 and max_room_members >= 2",
            ));
        }
        if l.delete_window_secs < 0 || l.max_pins_per_room < 0 {
            return Err(bad(
                "limits",
                "delete_window_secs and max_pins_per_room must be >= 0",
            ));
        }
        Ok(())
    }
}

impl RealtimeSettings {
    /// Heartbeats, typing and the commit path.
    fn validate(&self) -> Result<(), ConfigError> {
        let r = self;
        if r.heartbeat_secs == 0 || r.client_timeout_secs <= r.heartbeat_secs {
            return Err(bad(
                "realtime.client_timeout_secs",
                "must be greater than realtime.heartbeat_secs (> 0)",
            ));
        }
        if r.typing_timeout_secs == 0 || r.group_commit_max == 0 || r.room_idle_secs == 0 {
            return Err(bad(
                "realtime",
                "typing_timeout_secs, room_idle_secs and group_commit_max must be >= 1",
            ));
        }
        if r.commit_parallel == 0 || r.commit_parallel > 64 {
            return Err(bad("realtime.commit_parallel", "must be between 1 and 64"));
        }
        if r.commit_max_writes < r.group_commit_max {
            return Err(bad(
                "realtime.commit_max_writes",
                "must be at least realtime.group_commit_max",
            ));
        }
        Ok(())
    }
}

impl UploadSettings {
    /// Files: where they go, their sizes and types.
    fn validate(&self) -> Result<(), ConfigError> {
        let u = self;
        if u.unattached_ttl_secs == 0 || u.sweep_interval_secs == 0 {
            return Err(bad(
                "uploads.unattached_ttl_secs",
                "and uploads.sweep_interval_secs must be at least 1",
            ));
        }
        if u.thumbnail_px < 16 {
            return Err(bad("uploads.thumbnail_px", "must be at least 16"));
        }
        if !(10..=86_400).contains(&u.url_ttl_secs) {
            return Err(bad("uploads.url_ttl_secs", "must be between 10 and 86400"));
        }
        if u.dir.is_empty() {
            return Err(bad("uploads.dir", "must name a directory"));
        }
        if u.max_image_pixels == 0 || u.max_concurrent_images == 0 {
            return Err(bad(
                "uploads.max_image_pixels",
                "max_image_pixels and max_concurrent_images must be at least 1",
            ));
        }
        for pattern in u.allowed_types.iter().chain(&u.denied_types) {
            if !crate::domain::is_type_pattern(pattern) {
                return Err(bad(
                    "uploads.allowed_types",
                    format!("has `{pattern}`, not a type like `image/png` or `image/*`"),
                ));
            }
        }
        match u.storage.as_str() {
            "local" | "memory" => {}
            "s3" if u.s3.bucket.is_empty() => {
                return Err(bad(
                    "uploads.s3.bucket",
                    "must be set when uploads.storage is s3",
                ))
            }
            "s3" => {}
            _ => return Err(bad("uploads.storage", "must be local, s3 or memory")),
        }
        self.validate_media()
    }
}

// ---- Issue 14: notifications and webhooks ----------------------------------------------------

/// Who is told of messages they have not read (docs/PROTOCOL.md, *Notifications*).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// A message unread this long (on every device) is notified.
    pub delay_secs: u64,
    /// The newest messages one notification carries at most (its `count` says how many).
    pub max_messages: usize,
    /// A member's `notify` when they chose none: in direct rooms, and in the others.
    pub default_direct: String,
    pub default_other: String,
}

impl NotificationSettings {
    /// The server's defaults (direct rooms', others'), as `db::notifications` takes them.
    pub fn defaults(&self) -> (&str, &str) {
        (&self.default_direct, &self.default_other)
    }
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            delay_secs: 30,
            max_messages: 5,
            default_direct: "all".into(),
            default_other: "mentions".into(),
        }
    }
}

/// Webhook endpoints and their delivery (docs/PROTOCOL.md, *Webhooks*).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Hosts that may be called over plain http and may be private addresses (tests: loopback).
    pub allow_insecure_hosts: Vec<String>,
    /// One delivery attempt (connect, send, answer) takes at most this long.
    pub timeout_ms: u64,
    /// The first retry waits about this long, each next one twice as long (with jitter) ...
    pub backoff_base_ms: u64,
    /// ... but never longer than this.
    pub backoff_max_secs: u64,
    /// A delivery still failing this long after its first attempt is given up and its endpoint
    /// marked `failing`.
    pub give_up_after_secs: u64,
    /// After a rotation the old secret signs too for this long.
    pub rotation_overlap_secs: u64,
    /// How often a node looks for due notifications and deliveries.
    pub poll_ms: u64,
    /// Endpoints one node delivers to at once.
    pub max_parallel: usize,
    /// How often a node looks for room events past the cursors in every room (other nodes'
    /// commits, and what a crash left); its own commits are delivered at the next poll.
    pub rescan_secs: u64,
    /// The delivery worker's thread runs in the idle scheduling class (only when no other
    /// thread wants a core); false: as the rest of the server.
    pub idle_priority: bool,
    /// How long a node believes what it read of a tenant's subscriptions. Changes are relayed to
    /// every node at once; this bounds what a lost relay (Redis down) leaves stale.
    pub subscription_cache_secs: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_insecure_hosts: Vec::new(),
            timeout_ms: 10_000,
            backoff_base_ms: 5_000,
            backoff_max_secs: 3_600,
            give_up_after_secs: 86_400,
            rotation_overlap_secs: 86_400,
            poll_ms: 200,
            max_parallel: 32,
            rescan_secs: 5,
            idle_priority: true,
            subscription_cache_secs: 5,
        }
    }
}

impl WebhookSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout_ms < 100 || self.poll_ms < 10 || self.backoff_base_ms == 0 {
            return Err(bad(
                "webhooks",
                "timeout_ms must be >= 100, poll_ms >= 10, backoff_base_ms >= 1",
            ));
        }
        if self.max_parallel == 0 {
            return Err(bad("webhooks.max_parallel", "must be at least 1"));
        }
        if self.rescan_secs == 0 {
            return Err(bad("webhooks.rescan_secs", "must be at least 1"));
        }
        Ok(())
    }
}
