//! Webhook endpoints changed through one node apply on the others at once (issue 14): the change
//! is relayed through Redis, so no node goes on committing a tenant's events without their
//! outbox rows for as long as it caches the tenant's subscriptions (an hour here).

use std::time::Duration;

use awc::http::StatusCode;
use confab::auth::{JwtKeys, Role};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;
use crate::nodes::{Node, Redis};
use crate::receiver::Receiver;
use crate::webhooks::add_endpoint;

fn token(keys: &JwtKeys, name: &str, role: Role) -> String {
    let claims = JwtKeys::claims_for(Uuid::new_v4(), DEFAULT_TENANT, name, role, 3600, None);
    keys.mint(claims).expect("token")
}

#[actix_rt::test]
async fn an_endpoint_created_through_one_node_gets_the_next_message_committed_on_another() {
    let db = TestDb::new().await;
    let secret = format!("cluster-secret-{}", Uuid::new_v4());
    let redis = Redis::start();
    let env = [
        ("CONFAB__WEBHOOKS__ALLOW_INSECURE_HOSTS", "127.0.0.1"),
        ("CONFAB__WEBHOOKS__SUBSCRIPTION_CACHE_SECS", "3600"),
        ("CONFAB__WEBHOOKS__POLL_MS", "50"),
    ];
    let a = Node::launch(&db.url, &secret, &redis.url(), &env).ready();
    let b = Node::launch(&db.url, &secret, &redis.url(), &env).ready();
    let keys = JwtKeys::from_settings(&test_settings(&db.url, &secret).auth).expect("keys");
    let (ann, admin) = (
        token(&keys, "ann", Role::User),
        token(&keys, "admin", Role::Admin),
    );
    let room = a
        .post(
            "/api/chat/rooms",
            &ann,
            json!({"name": "hooks", "room_type": "group"}),
        )
        .await;
    assert_eq!(room.status, StatusCode::CREATED, "{:?}", room.body);
    let room = room.body["id"].as_str().expect("id").to_owned();
    // Node A reads (and caches) that the tenant has no endpoint.
    let said = a
        .post(&messages_path(&room), &ann, json!({"content": "before"}))
        .await;
    assert_eq!(said.status, StatusCode::CREATED);

    let rx = Receiver::start(0).await;
    add_endpoint(&b, &admin, &rx.url, &["message.created"]).await;
    // The relay is pub/sub: give it a moment, far less than the cache's hour.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let said = a
        .post(&messages_path(&room), &ann, json!({"content": "after"}))
        .await;
    assert_eq!(said.status, StatusCode::CREATED);
    let got = rx.wait_delivered(1, 15).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let event = got[0].json();
    assert_eq!(event["type"], "message.created");
    assert_eq!(
        event["data"]["event"]["message"]["content"], "after",
        "{event}"
    );
    drop((a, b));
}
