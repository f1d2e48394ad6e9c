//! `AppState`: what every handler and actor shares (settings, pool, keys, counters).

use std::sync::Arc;
use std::time::Duration;

use crate::auth::password::PasswordHasher;
use crate::auth::throttle::LoginThrottle;
use crate::auth::JwtKeys;
use crate::config::{ConfigError, Settings};
use crate::db::DbPool;
use crate::metrics::Metrics;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub jwt: Arc<JwtKeys>,
    pub hasher: PasswordHasher,
    pub login_throttle: LoginThrottle,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(settings: Settings, pool: DbPool) -> Result<Self, ConfigError> {
        let a = &settings.auth;
        let window = Duration::from_secs(a.login_window_secs);
        Ok(AppState {
            jwt: Arc::new(JwtKeys::from_settings(a)?),
            hasher: PasswordHasher::new(a)?,
            login_throttle: LoginThrottle::new(
                a.login_max_failures_per_account,
                a.login_max_failures_per_ip,
                window,
            ),
            metrics: Arc::new(Metrics::default()),
            settings: Arc::new(settings),
            pool,
        })
    }
}
