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
        // A server that does not answer (stopped, unreachable) is told fast: `unavailable`.
        .create_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .recycle_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| format!("database pool: {e}"))
}

/// The advisory lock key that serialises migration runs across nodes ("confab:migrate").
const MIGRATION_LOCK: i64 = 0x636f_6e66_6162_6d67;

/// Applies the pending embedded migrations; answers the versions it applied.
///
/// Nodes started together take turns: each holds a session advisory lock for the whole run, so
/// one migrates and the others then find nothing pending. A node whose build does not know every
/// migration the database has (an older binary during a rolling upgrade) refuses to start.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, String> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| format!("connecting to the database: {e}"))?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)
            .map_err(|e| format!("migrations: taking the migration lock: {e}"))?;
        let result = migrate_locked(&mut conn);
        // Closing the connection releases the lock too; unlocking says so sooner.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .execute(&mut conn);
        result
    })
    .await
    .map_err(|e| format!("migrations: {e}"))?
}

fn migrate_locked(
    conn: &mut AsyncConnectionWrapper<AsyncPgConnection>,
) -> Result<Vec<String>, String> {
    use diesel::migration::MigrationSource;
    let known: std::collections::HashSet<String> =
        MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .map_err(|e| format!("migrations: {e}"))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
    let unknown: Vec<String> = conn
        .applied_migrations()
        .map_err(|e| format!("migrations: reading the applied ones: {e}"))?
        .iter()
        .map(|v| v.to_string())
        .filter(|v| !known.contains(v))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "the database schema is newer than this build of confab: it has migration(s) {} \
             that this build does not know. Refusing to start; run the newer build (or restore \
             a database of this build's schema).",
            unknown.join(", ")
        ));
    }
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| format!("migrations: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}
