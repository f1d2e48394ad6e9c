//! Migrations apply to an empty database, and each one reverts and re-applies (`migration redo`).

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::MigrationHarness;

use crate::helpers::*;

#[actix_rt::test]
async fn every_migration_applies_reverts_and_reapplies() {
    let db = TestDb::empty().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        let total = conn
            .pending_migrations(confab::db::MIGRATIONS)
            .unwrap()
            .len();
        assert!(total >= 3);
        for _ in 0..total {
            let applied = conn
                .run_next_migration(confab::db::MIGRATIONS)
                .unwrap()
                .to_string();
            let reverted = conn
                .revert_last_migration(confab::db::MIGRATIONS)
                .unwrap()
                .to_string();
            assert_eq!(applied, reverted);
            conn.run_next_migration(confab::db::MIGRATIONS).unwrap();
        }
        assert!(conn
            .pending_migrations(confab::db::MIGRATIONS)
            .unwrap()
            .is_empty());
        // And all the way down and up again.
        conn.revert_all_migrations(confab::db::MIGRATIONS).unwrap();
        conn.run_pending_migrations(confab::db::MIGRATIONS).unwrap();
    })
    .await
    .unwrap();
    let mut conn = db.conn().await;
    // The default tenant exists after migrating.
    let name = crate::sql::text(
        &mut conn,
        "SELECT name AS s FROM tenants WHERE id = '00000000-0000-0000-0000-000000000001'",
    )
    .await;
    assert_eq!(name, "default");
}
