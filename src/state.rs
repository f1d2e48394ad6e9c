//! `AppState`: what every handler shares (settings, pool, keys, limiters, the actors).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::actors::presence::PresenceActor;
use crate::actors::supervisor::RoomSupervisor;
use crate::auth::password::PasswordHasher;
use crate::auth::throttle::LoginThrottle;
use crate::auth::JwtKeys;
use crate::broker::Broker;
use crate::config::{ConfigError, Settings};
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::uploads::Uploads;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub jwt: Arc<JwtKeys>,
    pub hasher: PasswordHasher,
    pub login_throttle: LoginThrottle,
    pub metrics: Arc<Metrics>,
    pub broker: Arc<dyn Broker>,
    pub supervisor: Addr<RoomSupervisor>,
    pub presence: Addr<PresenceActor>,
    /// File storage and the upload pipeline.
    pub uploads: Uploads,
    /// Frames per user across all their sockets.
    frame_limiter: DefaultKeyedRateLimiter<Uuid>,
    /// Messages per user, WebSocket and REST together.
    message_limiter: DefaultKeyedRateLimiter<Uuid>,
}

/// What `AppState` is built from besides the settings.
pub struct Parts {
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub broker: Arc<dyn Broker>,
    pub supervisor: Addr<RoomSupervisor>,
    pub presence: Addr<PresenceActor>,
}

fn nonzero(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl AppState {
    pub fn new(settings: Arc<Settings>, parts: Parts) -> Result<Self, ConfigError> {
        let a = &settings.auth;
        let window = Duration::from_secs(a.login_window_secs);
        let r = &settings.rate_limits;
        let frames = Quota::per_second(nonzero(r.ws_frames_per_sec))
            .allow_burst(nonzero(r.ws_burst.max(r.ws_frames_per_sec)));
        let messages = Quota::per_minute(nonzero(r.messages_per_minute));
        Ok(AppState {
            jwt: Arc::new(JwtKeys::from_settings(a)?),
            hasher: PasswordHasher::new(a)?,
            login_throttle: LoginThrottle::new(
                a.login_max_failures_per_account,
                a.login_max_failures_per_ip,
                window,
            ),
            uploads: Uploads::new(&settings)?,
            frame_limiter: RateLimiter::keyed(frames),
            message_limiter: RateLimiter::keyed(messages),
            metrics: parts.metrics,
            broker: parts.broker,
            supervisor: parts.supervisor,
            presence: parts.presence,
            pool: parts.pool,
            settings,
        })
    }

    fn check(limiter: &DefaultKeyedRateLimiter<Uuid>, user_id: Uuid) -> AppResult<()> {
        limiter
            .check_key(&user_id)
            .map_err(|not_until| AppError::RateLimited {
                retry_after_ms: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_millis()
                    .max(1) as u64,
            })
    }

    pub fn check_frame_rate(&self, user_id: Uuid) -> AppResult<()> {
        Self::check(&self.frame_limiter, user_id)
    }

    pub fn check_message_rate(&self, user_id: Uuid) -> AppResult<()> {
        Self::check(&self.message_limiter, user_id)
    }
}
