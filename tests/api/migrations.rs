//! Migrations apply to an empty database, and each one reverts and re-applies (`migration redo`).

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::MigrationHarness;

use crate::helpers::*;
use crate::nodes::{Launching, Node};
use diesel::migration::MigrationSource;

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

#[actix_rt::test]
async fn three_nodes_started_at_the_same_instant_on_an_empty_database_all_come_up() {
    let db = TestDb::empty().await;
    let secret = "a-test-secret-that-is-long-enough-0123456789";
    // Started back to back (microseconds apart), before any has migrated.
    let launching: Vec<Launching> = (0..3)
        .map(|_| Node::launch(&db.url, secret, "", &[]))
        .collect();
    let nodes: Vec<Node> = launching.into_iter().map(Launching::ready).collect();
    for node in &nodes {
        let ready = node.get("/readyz", "").await;
        assert_eq!(ready.status, awc::http::StatusCode::OK, "{:?}", ready.body);
        let user = node.register(&format!("u{}", node.http.port)).await;
        assert!(!user.token.is_empty());
    }
    // Migrated once: every embedded migration recorded exactly once.
    let mut conn = db.conn().await;
    let recorded = crate::sql::count_on(
        &mut conn,
        "SELECT count(*) AS n FROM __diesel_schema_migrations",
    )
    .await;
    let known = MigrationSource::<diesel::pg::Pg>::migrations(&confab::db::MIGRATIONS)
        .unwrap()
        .len();
    assert_eq!(recorded as usize, known);
}

#[actix_rt::test]
async fn a_node_older_than_the_schema_refuses_to_start_and_says_why() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    crate::sql::exec(
        &mut conn,
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')",
    )
    .await;
    let secret = "a-test-secret-that-is-long-enough-0123456789";
    let error = Node::launch(&db.url, secret, "", &[]).failure();
    assert!(
        error.contains("schema is newer than this build") && error.contains("29991231000000"),
        "{error}"
    );
    // Nothing was changed: the unknown migration is still recorded and nothing was reverted.
    let rows = crate::sql::count_on(
        &mut conn,
        "SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = '29991231000000'",
    )
    .await;
    assert_eq!(rows, 1);
}
