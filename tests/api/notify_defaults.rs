//! Notify settings where users look for them (issue 14): room lists and a room's view show my
//! `notify` level and timed mute; a tenant's admin sets its own defaults, which lists,
//! `members/me` and the notifier all follow, audited and never seen by another tenant.

use awc::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::receiver::{Got, Receiver};
use crate::webhooks::{add_endpoint, admin_of, hook_app, tenant_room};

const DEFAULTS: &str = "/api/admin/notify_defaults";

/// The room as `token`'s room list shows it.
async fn listed(app: &TestApp, token: &str, room: Uuid) -> Value {
    let a = app.get("/api/chat/rooms", token).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body["results"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["id"] == room.to_string()).cloned())
        .unwrap_or_else(|| panic!("room {room} listed: {:?}", a.body))
}

async fn direct(app: &TestApp, a: &User, b: &User) -> Uuid {
    let d = app
        .post("/api/chat/rooms/direct", &a.token, json!({"user_id": b.id}))
        .await;
    assert!(d.status.is_success(), "{:?}", d.body);
    d.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id")
}

#[actix_rt::test]
async fn room_lists_and_a_rooms_view_show_my_notify_level_and_timed_mute() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let group = app.room(&ann, "group", &[&bob]).await;
    let dm = direct(&app, &ann, &bob).await;

    let g = listed(&app, &bob.token, group).await;
    assert_eq!(g["notify"], "mentions", "{g:?}");
    assert!(g.get("muted_until").is_none(), "{g:?}");
    assert_eq!(listed(&app, &bob.token, dm).await["notify"], "all");

    let until = "2031-05-06T07:08:09Z";
    let p = app
        .patch(
            &format!("/api/chat/rooms/{group}/members/me"),
            &bob.token,
            json!({"notify": "none", "muted_until": until}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    let g = listed(&app, &bob.token, group).await;
    assert_eq!(g["notify"], "none");
    assert!(g["muted_until"]
        .as_str()
        .is_some_and(|t| t.starts_with("2031-05-06T07:08:09")));
    let one = app
        .get(&format!("/api/chat/rooms/{group}"), &bob.token)
        .await;
    assert_eq!(one.body["notify"], "none", "{:?}", one.body);
    // Bob's choice is his own: Ann's list still shows her default.
    let a = listed(&app, &ann.token, group).await;
    assert_eq!(a["notify"], "mentions");
    assert!(a.get("muted_until").is_none());
}

#[actix_rt::test]
async fn a_tenants_defaults_are_followed_by_lists_members_me_and_the_notifier_and_audited() {
    let app = hook_app().await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let rx = Receiver::start(0).await;
    add_endpoint(&app, &admin, &rx.url, &["notification"]).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let group = app.room(&ann, "group", &[&bob]).await;
    let dm = direct(&app, &ann, &bob).await;

    let before = app.get(DEFAULTS, &admin).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert_eq!(
        before.body,
        json!({"direct": "all", "other": "mentions", "source": "server"})
    );
    let set = app
        .put(DEFAULTS, &admin, json!({"direct": "none", "other": "all"}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["source"], "tenant");
    assert_eq!(app.get(DEFAULTS, &admin).await.body, set.body);

    assert_eq!(listed(&app, &bob.token, group).await["notify"], "all");
    assert_eq!(listed(&app, &bob.token, dm).await["notify"], "none");
    let me = app
        .get(&format!("/api/chat/rooms/{group}/members/me"), &bob.token)
        .await;
    assert_eq!(me.body["notify"], "all");
    assert_eq!(me.body["notify_default"], true);

    // The notifier follows the tenant's default: Bob never chose, and hears of the group's message.
    let m = app
        .post_message(group, &ann.token, json!({"content": "no mention"}))
        .await;
    assert_eq!(m.status, StatusCode::CREATED);
    rx.wait_delivered(1, 20).await;
    let got: Vec<Value> = rx.delivered().iter().map(Got::json).collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["data"]["recipient_id"], bob.id.to_string());

    let cleared = app.delete(DEFAULTS, &admin).await;
    assert_eq!(cleared.status, StatusCode::OK, "{:?}", cleared.body);
    assert_eq!(cleared.body["source"], "server");
    assert_eq!(listed(&app, &bob.token, group).await["notify"], "mentions");

    let log = app
        .get("/api/admin/audit?action=notify_defaults.set", &admin)
        .await;
    let entries = log.body["results"].as_array().expect("results").clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries
        .iter()
        .any(|e| e["before"].is_null() && e["after"] == json!({"direct": "none", "other": "all"})));
    assert!(entries
        .iter()
        .any(|e| e["after"].is_null() && e["before"]["other"] == "all"));
}

#[actix_rt::test]
async fn another_tenant_never_sees_or_gets_these_defaults() {
    let app = spawn_app().await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let set = app
        .put(DEFAULTS, &admin, json!({"direct": "none", "other": "none"}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);

    let other = Uuid::new_v4();
    let admin_b = admin_of(&app, other);
    let b = app.get(DEFAULTS, &admin_b).await;
    assert_eq!(b.body["source"], "server", "{:?}", b.body);
    let (_, t2, room) = tenant_room(&app, other).await;
    assert_eq!(listed(&app, &t2, room).await["notify"], "mentions");
    let log = app
        .get("/api/admin/audit?action=notify_defaults.set", &admin_b)
        .await;
    assert_eq!(log.body["results"], json!([]), "{:?}", log.body);
}

#[actix_rt::test]
async fn wrong_too_large_and_unauthorized_defaults_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let member = app.register("member").await;
    let big = "x".repeat(300_000);
    for (token, body, code, field) in [
        (
            Some(admin.as_str()),
            json!({"direct": "loud", "other": "all"}),
            StatusCode::BAD_REQUEST,
            Some("direct"),
        ),
        (
            Some(admin.as_str()),
            json!({"direct": "all", "other": "some"}),
            StatusCode::BAD_REQUEST,
            Some("other"),
        ),
        (
            Some(admin.as_str()),
            json!({"direct": "all"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            Some(admin.as_str()),
            json!({"direct": "all", "other": "all", "x": 1}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            Some(admin.as_str()),
            json!({"direct": big, "other": "all"}),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            Some(member.token.as_str()),
            json!({"direct": "all", "other": "all"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            None,
            json!({"direct": "all", "other": "all"}),
            StatusCode::UNAUTHORIZED,
            None,
        ),
    ] {
        let a = app.send("PUT", DEFAULTS, token, Some(body.clone())).await;
        assert_eq!(a.status, code, "{body:?}: {:?}", a.body);
        if let Some(f) = field {
            assert_eq!(a.body["error"]["field"], f, "{:?}", a.body);
        }
    }
    assert_eq!(
        app.delete(DEFAULTS, &member.token).await.status,
        StatusCode::FORBIDDEN
    );
    let now = app.get(DEFAULTS, &admin).await;
    assert_eq!(
        now.body["source"], "server",
        "nothing was set: {:?}",
        now.body
    );
}
