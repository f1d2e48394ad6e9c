//! Seed 003's own example client code (tests/dialects/wasgo.test.mjs: the "Frontend Integration
//! Guide" snippets) run in Node against this real server, two users chatting. The server's
//! `dialects.room_socket` is `wasgo`, so the snippets' URL needs only the host and the token.

use std::process::Command;

use awc::http::StatusCode;

use crate::dialect_drf_node::run;
use crate::helpers::*;

#[actix_rt::test]
async fn seed_003_client_code_chats_through_confab_in_node() {
    let dir = manifest_dir().join("tests/dialects");
    if !dir.join("node_modules/sucrase/package.json").exists() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir);
        run(npm, "npm ci in tests/dialects").await;
    }
    let app = spawn_app_with(|s| s.dialects.room_socket = "wasgo".into()).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    assert_eq!(
        app.get(&format!("/chat/conversations/{room}/"), &bob.token)
            .await
            .status,
        StatusCode::OK
    );
    let mut node = Command::new("node");
    node.args([
        "--experimental-websocket",
        "--test",
        "--test-force-exit",
        "wasgo.test.mjs",
    ])
    .current_dir(&dir)
    .env("CONFAB_BASE", &app.base)
    .env("ANN_TOKEN", &ann.token)
    .env("BOB_TOKEN", &bob.token)
    .env("CONVERSATION_ID", room.to_string());
    run(node, "seed 003's client code in node").await;
}
