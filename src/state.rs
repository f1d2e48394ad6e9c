//! `AppState`: what every handler shares (settings, pool, keys, limiters, the actors).

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;

use crate::actors::presence::PresenceActor;
use crate::actors::session::SessionDeps;
use crate::actors::supervisor::RoomSupervisor;
use crate::auth::password::PasswordHasher;
use crate::auth::throttle::LoginThrottle;
use crate::auth::JwtKeys;
use crate::broker::Broker;
use crate::commands::RateLimits;
use crate::config::{ConfigError, Settings};
use crate::db::DbPool;
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
    /// Frames and messages per user.
    pub rates: Arc<RateLimits>,
    /// What each WebSocket session is handed.
    pub sessions: Arc<SessionDeps>,
    /// Issue 14: the webhook subscriptions cache (forgotten per tenant on endpoint changes).
    pub hooks: Arc<crate::db::webhooks::HookGate>,
    /// Issue 14: the webhook worker's thread (it ends when the state is dropped).
    pub webhook_thread: actix::ArbiterHandle,
}

/// What `AppState` is built from besides the settings.
pub struct Parts {
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub broker: Arc<dyn Broker>,
    pub supervisor: Addr<RoomSupervisor>,
    pub presence: Addr<PresenceActor>,
    pub hooks: Arc<crate::db::webhooks::HookGate>,
    pub webhook_thread: actix::ArbiterHandle,
}

impl AppState {
    pub fn new(settings: Arc<Settings>, parts: Parts) -> Result<Self, ConfigError> {
        let a = &settings.auth;
        let window = Duration::from_secs(a.login_window_secs);
        let rates = Arc::new(RateLimits::new(&settings.rate_limits));
        Ok(AppState {
            jwt: Arc::new(JwtKeys::from_settings(a)?),
            hasher: PasswordHasher::new(a)?,
            login_throttle: LoginThrottle::new(
                a.login_max_failures_per_account,
                a.login_max_failures_per_ip,
                window,
            ),
            uploads: Uploads::new(&settings, parts.metrics.clone())?,
            rates: rates.clone(),
            sessions: Arc::new(SessionDeps {
                settings: settings.clone(),
                pool: parts.pool.clone(),
                metrics: parts.metrics.clone(),
                rates,
                supervisor: parts.supervisor.clone(),
                presence: parts.presence.clone(),
            }),
            hooks: parts.hooks,
            webhook_thread: parts.webhook_thread,
            metrics: parts.metrics,
            broker: parts.broker,
            supervisor: parts.supervisor,
            presence: parts.presence,
            pool: parts.pool,
            settings,
        })
    }
}

impl Drop for AppState {
    /// The webhook worker's thread is registered with the actix System too, so dropping its
    /// handle alone would leave it running: it is stopped here.
    fn drop(&mut self) {
        self.webhook_thread.stop();
    }
}
