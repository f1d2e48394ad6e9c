//! Seed 004's own example client code (tests/dialects/drf.test.mjs: the React component and the
//! connection-flow snippets) run in Node against this real server, two users chatting.

use std::process::Command;

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Runs `cmd` off the server's thread; panics with its output unless it succeeds.
pub(crate) async fn run(mut cmd: Command, what: &'static str) {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("joined")
        .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// tests/dialects, its packages installed (`npm ci` once).
pub(crate) async fn node_modules() -> std::path::PathBuf {
    let dir = manifest_dir().join("tests/dialects");
    if !dir
        .join("node_modules/react-test-renderer/package.json")
        .exists()
    {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir);
        run(npm, "npm ci in tests/dialects").await;
    }
    dir
}

#[actix_rt::test]
async fn seed_004_client_code_chats_through_confab_in_node() {
    let dir = node_modules().await;
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let before = json!({"content": "before the component", "message_type": "text"});
    let a = app.post_message(room, &bob.token, before).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let mut node = Command::new("node");
    node.args([
        "--experimental-websocket",
        "--test",
        "--test-force-exit",
        "drf.test.mjs",
    ])
    .current_dir(&dir)
    .env("CONFAB_BASE", &app.base)
    .env("ANN_TOKEN", &ann.token)
    .env("BOB_TOKEN", &bob.token)
    .env("ROOM_ID", room.to_string());
    run(node, "seed 004's client code in node").await;
}
