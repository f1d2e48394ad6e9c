//! The connection pool and the embedded migrations.

use std::time::Duration;

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseSettings;

pub type DbPool = Pool<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub fn build(settings: &DatabaseSettings) -> Result<DbPool, String> {
    build_with(settings, settings.pool_size, ManagerConfig::default())
}

/// The committer's pool: `size` connections, checked on checkout by their state alone (a
/// transaction is a handful of round trips; a test query on every checkout would add one).
pub fn build_for_commits(settings: &DatabaseSettings, size: usize) -> Result<DbPool, String> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    build_with(settings, size, config)
}

fn build_with(
    settings: &DatabaseSettings,
    size: usize,
    config: ManagerConfig<AsyncPgConnection>,
) -> Result<DbPool, String> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.clone(),
        config,
    );
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(settings.pool_timeout_secs)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| format!("database pool: {e}"))
}

/// Applies the pending embedded migrations; answers the versions it applied.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, String> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| format!("connecting to the database: {e}"))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| format!("migrations: {e}"))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    })
    .await
    .map_err(|e| format!("migrations: {e}"))?
}
