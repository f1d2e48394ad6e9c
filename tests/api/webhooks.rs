//! Webhooks (issue 14): endpoints through the admin API, Standard Webhooks signatures checked
//! with the `standardwebhooks` crate, retries with the same id in commit order, delivery after
//! a SIGKILL, tenants kept apart, and the URL rules — against real receivers on port 0.

use std::collections::HashMap;
use std::time::Duration;

use awc::http::StatusCode;
use confab::auth::Role;
use confab::config::Settings;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::nodes::Node;
use crate::receiver::Receiver;

/// Settings for webhook tests: loopback receivers allowed, quick polling and retries.
pub fn hook_settings(s: &mut Settings) {
    s.webhooks.allow_insecure_hosts = vec!["127.0.0.1".into()];
    s.webhooks.poll_ms = 50;
    s.webhooks.backoff_base_ms = 100;
    s.webhooks.rotation_overlap_secs = 3;
    s.notifications.delay_secs = 1;
}

pub async fn hook_app() -> TestApp {
    spawn_app_with(hook_settings).await
}

/// An admin token of `tenant`.
pub fn admin_of(app: &TestApp, tenant: Uuid) -> String {
    app.platform_token(Uuid::new_v4(), tenant, "Admin", Role::Admin)
}

/// Creates an endpoint; answers its id and secret.
pub async fn add_endpoint(http: &Http, admin: &str, url: &str, events: &[&str]) -> (Uuid, String) {
    let a = http
        .post(
            "/api/admin/webhooks",
            admin,
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let secret = a.body["secret"].as_str().expect("the secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (
        a.body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("id"),
        secret,
    )
}

/// Two platform users of `tenant` (both seen by the server) and a group room of theirs: the
/// first's token, the second's, the room.
pub async fn tenant_room(app: &TestApp, tenant: Uuid) -> (String, String, Uuid) {
    let (u1, u2) = (Uuid::new_v4(), Uuid::new_v4());
    let t1 = app.platform_token(u1, tenant, "B one", Role::User);
    let t2 = app.platform_token(u2, tenant, "B two", Role::User);
    let me = app.get("/api/chat/users/me", &t2).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    let room = app
        .post(
            "/api/chat/rooms",
            &t1,
            json!({"name": "b", "room_type": "group", "participant_ids": [u2]}),
        )
        .await;
    assert_eq!(room.status, StatusCode::CREATED, "{:?}", room.body);
    let id = room.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    (t1, t2, id)
}

/// A group room of a new owner and member in the default tenant.
pub async fn group(http: &Http) -> (User, User, Uuid) {
    let owner = http.register("owner").await;
    let member = http.register("member").await;
    let room = http.room(&owner, "group", &[&member]).await;
    (owner, member, room)
}

/// The message texts of `message.created` deliveries, in the order received.
pub fn contents(got: &[crate::receiver::Got]) -> Vec<Value> {
    got.iter()
        .map(|g| g.json()["data"]["event"]["message"]["content"].clone())
        .collect()
}

pub async fn say(http: &Http, room: Uuid, user: &User, text: &str) -> Value {
    let a = http
        .post(&messages_path(room), &user.token, json!({"content": text}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

#[actix_rt::test]
async fn signatures_verify_and_a_rotated_secret_also_signs_for_the_overlap_and_not_after() {
    let app = hook_app().await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let (id, first) = add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;

    let sent = say(&app, room, &owner, "hello hooks").await;
    let got = rx.wait_delivered(1, 15).await.remove(0);
    got.verify(&first).expect("verifies with the secret");
    let body = got.json();
    assert_eq!(body["type"], "message.created");
    assert!(body["timestamp"].as_str().is_some());
    assert_eq!(body["data"]["tenant_id"], DEFAULT_TENANT.to_string());
    assert_eq!(body["data"]["room_id"], room.to_string());
    assert_eq!(body["data"]["seq"], sent["seq"]);
    assert_eq!(body["data"]["event"]["message"]["content"], "hello hooks");
    assert!(got
        .verify("whsec_c29tZSBvdGhlciBzZWNyZXQgb2YgMzIgYnl0ZXMhIQ==")
        .is_err());

    // Rotation: the new secret is shown once, both sign during the overlap.
    let r = app
        .post(
            &format!("/api/admin/webhooks/{id}/rotate_secret"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let second = r.body["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(second, first);
    assert!(r.body["previous_secret_expires_at"].is_string());
    let shown = app.get(&format!("/api/admin/webhooks/{id}"), &admin).await;
    assert!(shown.body.get("secret").is_none(), "{:?}", shown.body);

    say(&app, room, &owner, "during the overlap").await;
    let got = rx.wait_delivered(2, 15).await.remove(1);
    assert_eq!(got.signature.split(' ').count(), 2, "{}", got.signature);
    got.verify(&first)
        .expect("the old secret verifies during the overlap");
    got.verify(&second).expect("the new secret verifies");

    tokio::time::sleep(Duration::from_millis(3500)).await;
    say(&app, room, &owner, "after the overlap").await;
    let got = rx.wait_delivered(3, 15).await.remove(2);
    assert_eq!(got.signature.split(' ').count(), 1, "{}", got.signature);
    got.verify(&second).expect("the new secret verifies");
    assert!(
        got.verify(&first).is_err(),
        "the old secret no longer signs"
    );
}

#[actix_rt::test]
async fn a_failing_receiver_gets_the_same_webhook_id_again_and_every_event_in_commit_order() {
    let app = hook_app().await;
    let rx = Receiver::start(2).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let (id, secret) = add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;
    let mut seqs = Vec::new();
    for i in 0..3 {
        seqs.push(say(&app, room, &owner, &format!("m{i}")).await["seq"].clone());
    }
    let delivered = rx.wait_delivered(3, 30).await;
    let all = rx.got();
    // The first event was refused twice and then taken: three times the same id.
    assert_eq!(all[0].answered, 500);
    assert_eq!(all[1].answered, 500);
    assert_eq!(all[0].id, all[1].id);
    assert_eq!(delivered[0].id, all[0].id);
    let order: Vec<Value> = delivered
        .iter()
        .map(|g| g.json()["data"]["seq"].clone())
        .collect();
    assert_eq!(order, seqs, "delivered in commit order");
    for g in &delivered {
        g.verify(&secret).expect("verifies");
    }
    let ids: std::collections::HashSet<&str> = delivered.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "one id per event");

    // The operator's view: the delivery that needed retries, with its attempts, status and
    // last answer (the two that went on their first attempt leave no row); and a manual retry.
    let list = app
        .get(&format!("/api/admin/webhooks/{id}/deliveries"), &admin)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let rows = list.body["results"].as_array().expect("results").clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let first = &rows[0];
    assert_eq!(first["event_type"], "message.created", "{first}");
    assert_eq!(first["webhook_id"], delivered[0].id.as_str());
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["last_status"], 200);
    let retry = app
        .post(
            &format!("/api/admin/webhooks/{id}/deliveries/{}/retry", first["id"]),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{:?}", retry.body);
    let again = rx.wait_delivered(4, 15).await;
    assert_eq!(again[3].id, delivered[0].id, "a retry keeps the webhook-id");
    let missing = app
        .post(
            &format!("/api/admin/webhooks/{id}/deliveries/999999/retry"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn two_tenants_endpoints_never_see_each_others_events_or_endpoints() {
    let app = hook_app().await;
    let (rx_a, rx_b) = (Receiver::start(0).await, Receiver::start(0).await);
    let other = Uuid::new_v4();
    let (admin_a, admin_b) = (admin_of(&app, DEFAULT_TENANT), admin_of(&app, other));
    let events = [
        "message.created",
        "room.created",
        "member.added",
        "notification",
    ];
    let (id_a, _) = add_endpoint(&app, &admin_a, &rx_a.url, &events).await;
    let (id_b, _) = add_endpoint(&app, &admin_b, &rx_b.url, &events).await;

    let (owner, _, room) = group(&app).await;
    say(&app, room, &owner, "for tenant A only").await;
    // Tenant B's users and room.
    let (t1, _t2, b_room) = tenant_room(&app, other).await;
    let b_room = b_room.to_string();
    let b = app
        .post(
            &messages_path(&b_room),
            &t1,
            json!({"content": "for tenant B only"}),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED);

    let a_got = rx_a.wait_delivered(2, 15).await;
    let b_got = rx_b.wait_delivered(2, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for g in rx_a.got() {
        assert_eq!(
            g.json()["data"]["tenant_id"],
            DEFAULT_TENANT.to_string(),
            "{}",
            g.body
        );
        assert!(!g.body.contains("tenant B only"));
    }
    for g in rx_b.got() {
        assert_eq!(
            g.json()["data"]["tenant_id"],
            other.to_string(),
            "{}",
            g.body
        );
        assert!(!g.body.contains("tenant A only"));
    }
    assert!(a_got.iter().any(|g| g.json()["type"] == "room.created"));
    assert!(b_got.iter().any(|g| g.json()["type"] == "message.created"));

    // Another tenant's endpoint does not exist for an admin.
    let a_paths = [
        ("GET", format!("/api/admin/webhooks/{id_a}"), None),
        (
            "PATCH",
            format!("/api/admin/webhooks/{id_a}"),
            Some(json!({"description": "x"})),
        ),
        ("DELETE", format!("/api/admin/webhooks/{id_a}"), None),
        (
            "POST",
            format!("/api/admin/webhooks/{id_a}/rotate_secret"),
            Some(json!({})),
        ),
        (
            "GET",
            format!("/api/admin/webhooks/{id_a}/deliveries"),
            None,
        ),
        (
            "POST",
            format!("/api/admin/webhooks/{id_a}/deliveries/1/retry"),
            Some(json!({})),
        ),
    ];
    for (method, path, body) in &a_paths {
        let a = app.send(method, path, Some(&admin_b), body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            a.body
        );
        assert_eq!(a.error_code(), "not_found");
    }
    let list = app.get("/api/admin/webhooks", &admin_b).await;
    let ids: Vec<&str> = list.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id_b.to_string().as_str()]);
    // Still there for its own tenant.
    assert_eq!(
        app.get(&format!("/api/admin/webhooks/{id_a}"), &admin_a)
            .await
            .status,
        StatusCode::OK
    );
}

#[actix_rt::test]
async fn bad_endpoint_urls_and_events_are_refused_with_400_naming_the_field() {
    let app = hook_app().await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    for url in [
        "http://hooks.example.com/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/x",
        "https://localhost/x",
        "https:///x",
        "hooks.example.com/x",
        "ftp://hooks.example.com/x",
    ] {
        let a = app
            .post(
                "/api/admin/webhooks",
                &admin,
                json!({"url": url, "events": ["message.created"]}),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{url}: {:?}", a.body);
        assert_eq!(a.body["error"]["field"], "url", "{url}");
    }
    for events in [json!([]), json!(["message.sent"]), json!("message.created")] {
        let a = app
            .post(
                "/api/admin/webhooks",
                &admin,
                json!({"url": "https://hooks.example.com/", "events": events}),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{events}: {:?}", a.body);
        assert_eq!(a.body["error"]["field"], "events", "{events}");
    }
    let missing = app
        .post(
            "/api/admin/webhooks",
            &admin,
            json!({"events": ["notification"]}),
        )
        .await;
    assert_eq!(missing.body["error"]["field"], "url");
    let long = "x".repeat(600);
    let a = app
        .post("/api/admin/webhooks", &admin, json!({"url": "https://hooks.example.com/", "events": ["notification"], "description": long}))
        .await;
    assert_eq!(a.body["error"]["field"], "description", "{:?}", a.body);
    let huge = "y".repeat(400_000);
    let a = app
        .post(
            "/api/admin/webhooks",
            &admin,
            json!({"url": huge, "events": ["notification"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A public https host is fine; changing it to a private one is refused the same way.
    let (id, _) = add_endpoint(
        &app,
        &admin,
        "https://hooks.example.com/in",
        &["notification"],
    )
    .await;
    let a = app
        .patch(
            &format!("/api/admin/webhooks/{id}"),
            &admin,
            json!({"url": "https://10.0.0.1/x"}),
        )
        .await;
    assert_eq!(a.body["error"]["field"], "url", "{:?}", a.body);
    // Without a token, or with a user's, nothing.
    let user = app.register("someone").await;
    let a = app
        .post(
            "/api/admin/webhooks",
            &user.token,
            json!({"url": "https://hooks.example.com/", "events": ["notification"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = app.send("GET", "/api/admin/webhooks", None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let del = app
        .delete(&format!("/api/admin/webhooks/{id}"), &admin)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/admin/webhooks/{id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn a_node_killed_after_committing_delivers_after_restart_once_per_webhook_id() {
    let db = TestDb::new().await;
    let secret = format!("test-secret-{}", Uuid::new_v4());
    let rx = Receiver::start(0).await;
    let base = [
        ("CONFAB__WEBHOOKS__ALLOW_INSECURE_HOSTS", "127.0.0.1"),
        ("CONFAB__WEBHOOKS__BACKOFF_BASE_MS", "100"),
    ];
    // The first node never gets to deliver: its worker would look only after a minute.
    let mut env = base.to_vec();
    env.push(("CONFAB__WEBHOOKS__POLL_MS", "60000"));
    let mut node = Node::launch(&db.url, &secret, "", &env).ready();
    let owner = node.register("owner").await;
    let member = node.register("member").await;
    let room = node.room(&owner, "group", &[&member]).await;
    let keys =
        confab::auth::JwtKeys::from_settings(&test_settings(&db.url, &secret).auth).expect("keys");
    let admin = keys
        .mint(confab::auth::JwtKeys::claims_for(
            Uuid::new_v4(),
            DEFAULT_TENANT,
            "Admin",
            Role::Admin,
            600,
            None,
        ))
        .expect("mint");
    let (_, whsec) = add_endpoint(&node, &admin, &rx.url, &["message.created"]).await;
    for i in 0..5 {
        let a = node
            .post(
                &messages_path(room),
                &owner.token,
                json!({"content": format!("k{i}")}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    node.kill();
    assert!(rx.got().is_empty(), "nothing was sent before the kill");

    let mut env = base.to_vec();
    env.push(("CONFAB__WEBHOOKS__POLL_MS", "50"));
    let _again = Node::launch(&db.url, &secret, "", &env).ready();
    let delivered = rx.wait_delivered(5, 30).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for g in rx.got() {
        g.verify(&whsec).expect("verifies");
        *per_id.entry(g.id.clone()).or_default() += 1;
    }
    assert_eq!(per_id.len(), 5, "{per_id:?}");
    assert!(
        per_id.values().all(|n| *n == 1),
        "once per webhook-id: {per_id:?}"
    );
    assert_eq!(contents(&delivered), vec!["k0", "k1", "k2", "k3", "k4"]);
}

#[actix_rt::test]
async fn a_slow_receiver_slows_neither_ingest_nor_another_tenants_deliveries() {
    let app = hook_app().await;
    let slow = Receiver::slow(4000).await;
    let fast = Receiver::start(0).await;
    let other = Uuid::new_v4();
    let (admin_a, admin_b) = (admin_of(&app, DEFAULT_TENANT), admin_of(&app, other));
    add_endpoint(&app, &admin_a, &slow.url, &["message.created"]).await;
    add_endpoint(&app, &admin_b, &fast.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;
    let b1 = app.platform_token(Uuid::new_v4(), other, "B one", Role::User);
    let b_room = app
        .post(
            "/api/chat/rooms",
            &b1,
            json!({"name": "b", "room_type": "group"}),
        )
        .await;
    let b_room = b_room.body["id"].as_str().expect("room id").to_owned();

    say(&app, room, &owner, "to the slow one").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // While the slow receiver holds its delivery (4 s): ingest and the other tenant go on.
    // Each check is causal: it passes only if it happened before the slow one answered.
    for i in 0..3 {
        say(&app, room, &owner, &format!("more {i}")).await;
    }
    assert!(
        slow.delivered().is_empty(),
        "ingest waited for the slow receiver"
    );
    let b = app
        .post(
            &messages_path(&b_room),
            &b1,
            json!({"content": "to the fast one"}),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED);
    fast.wait_delivered(1, 10).await;
    assert!(
        slow.delivered().is_empty(),
        "the other tenant's delivery waited for the slow receiver"
    );
    // The slow one gets everything in the end, in order.
    let got = slow.wait_delivered(4, 60).await;
    assert_eq!(
        got[0].json()["data"]["event"]["message"]["content"],
        "to the slow one"
    );
}

#[actix_rt::test]
async fn a_delivery_failing_past_the_window_is_given_up_and_its_endpoint_marked_failing() {
    let app = spawn_app_with(|s| {
        hook_settings(s);
        s.webhooks.give_up_after_secs = 1;
    })
    .await;
    let rx = Receiver::start(usize::MAX).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let (id, _) = add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;
    say(&app, room, &owner, "nobody takes this").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let row = loop {
        let list = app
            .get(&format!("/api/admin/webhooks/{id}/deliveries"), &admin)
            .await;
        let row = list.body["results"][0].clone();
        if row["status"] == "failed" {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", list.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(row["attempts"].as_i64().unwrap_or(0) >= 2, "{row}");
    assert_eq!(row["last_status"], 500);
    assert!(row["next_attempt_at"].is_null());
    let ep = app.get(&format!("/api/admin/webhooks/{id}"), &admin).await;
    assert_eq!(ep.body["status"], "failing", "{:?}", ep.body);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .body()
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&metrics);
    assert!(text.contains("confab_webhook_given_up_total 1"), "{text}");
    assert!(text.contains("confab_webhook_failures_total"), "{text}");
}

#[actix_rt::test]
async fn two_nodes_sharing_the_outbox_send_each_event_once_and_in_order() {
    let app = hook_app().await;
    let second = start(app.settings.clone(), app.db.clone()).await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;
    let mut seqs = Vec::new();
    for i in 0..20 {
        // Written through both nodes; both workers look for due deliveries.
        let node: &Http = if i % 2 == 0 { &app } else { &second };
        seqs.push(say(node, room, &owner, &format!("n{i}")).await["seq"].clone());
    }
    let delivered = rx.wait_delivered(20, 30).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = rx.got();
    assert_eq!(all.len(), 20, "no event sent twice: {all:?}");
    let order: Vec<Value> = delivered
        .iter()
        .map(|g| g.json()["data"]["seq"].clone())
        .collect();
    assert_eq!(order, seqs);
}

#[actix_rt::test]
async fn webhook_changes_are_audited_once_each_without_their_secrets() {
    let app = hook_app().await;
    let tenant = Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap();
    let admin = admin_of(&app, tenant);
    let (id, secret) = add_endpoint(
        &app.http,
        &admin,
        "https://hooks.example.com/a",
        &["message.created"],
    )
    .await;
    let path = format!("/api/admin/webhooks/{id}");
    let changed = app
        .patch(&path, &admin, json!({"description": "the help desk"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let rotated = app
        .post(&format!("{path}/rotate_secret"), &admin, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    assert_eq!(
        app.delete(&path, &admin).await.status,
        StatusCode::NO_CONTENT
    );
    let other = admin_of(&app, Uuid::new_v4());
    for action in [
        "webhook.create",
        "webhook.update",
        "webhook.rotate",
        "webhook.delete",
    ] {
        let a = app
            .get(&format!("/api/admin/audit?action={action}"), &admin)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let rows = a.body["results"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        assert_eq!(rows[0]["target_id"], id.to_string());
        assert!(!a.raw.contains(&secret), "{action} shows no secret");
        assert!(!a.raw.contains("whsec_"), "{action} shows no secret");
        let theirs = app
            .get(&format!("/api/admin/audit?action={action}"), &other)
            .await;
        assert_eq!(
            theirs.body["results"],
            json!([]),
            "another tenant sees none"
        );
    }
    let update = app
        .get("/api/admin/audit?action=webhook.update", &admin)
        .await;
    assert_eq!(update.body["results"][0]["before"]["description"], "");
    assert_eq!(
        update.body["results"][0]["after"]["description"],
        "the help desk"
    );
}
