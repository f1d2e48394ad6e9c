//! Seeds 000 and 002's own example client code (tests/dialects/notifications.test.mjs: 000's
//! React component and upload snippet, 002's socket snippet) run in Node against this real
//! server, two users chatting through the multiplexed socket.

use std::process::Command;

use crate::dialect_drf_node::{node_modules, run};
use crate::dialect_notifications_rest::conversation;

#[actix_rt::test]
async fn seed_000_and_002_client_code_chats_through_confab_in_node() {
    let dir = node_modules().await;
    let (app, _files) = crate::uploads::app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = conversation(&app, &ann, &[&bob]).await;
    let mut node = Command::new("node");
    node.args([
        "--experimental-websocket",
        "--test",
        "--test-force-exit",
        "notifications.test.mjs",
    ])
    .current_dir(&dir)
    .env("CONFAB_BASE", &app.base)
    .env("ANN_TOKEN", &ann.token)
    .env("BOB_TOKEN", &bob.token)
    .env("ANN_ID", ann.id.to_string())
    .env("TENANT_ID", ann.tenant_id.to_string())
    .env("CONVERSATION_ID", id.to_string());
    run(node, "seeds 000/002's client code in node").await;
}
