//! Notifications for members who are not looking (issue 14): per-member settings, one coalesced
//! `notification` webhook per recipient and room after `notifications.delay_secs` unread, never
//! for the sender, a reader, a muted member, `none`, or a member who left.

use std::time::Duration;

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::receiver::{Got, Receiver};
use crate::webhooks::{add_endpoint, admin_of, hook_app};

/// A receiver subscribed to `notification` for the default tenant.
async fn notified(app: &TestApp) -> (Receiver, String) {
    let rx = Receiver::start(0).await;
    let admin = admin_of(app, DEFAULT_TENANT);
    let (_, secret) = add_endpoint(app, &admin, &rx.url, &["notification"]).await;
    (rx, secret)
}

fn me(room: Uuid) -> String {
    format!("/api/chat/rooms/{room}/members/me")
}

async fn set(app: &TestApp, room: Uuid, user: &User, body: Value) {
    let a = app.patch(&me(room), &user.token, body).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

async fn say(app: &TestApp, room: Uuid, user: &User, text: &str) -> Value {
    let a = app
        .post_message(room, &user.token, json!({"content": text}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

/// A group of an owner and two members who both asked for `all`.
async fn trio(app: &TestApp) -> (User, User, User, Uuid) {
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.room(&owner, "group", &[&bob, &carol]).await;
    set(app, room, &bob, json!({"notify": "all"})).await;
    set(app, room, &carol, json!({"notify": "all"})).await;
    (owner, bob, carol, room)
}

/// Waits for `n` notifications, then a little longer to see that no more come.
async fn settle(rx: &Receiver, n: usize) -> Vec<Value> {
    rx.wait_delivered(n, 20).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    rx.delivered().iter().map(Got::json).collect()
}

fn for_user(all: &[Value], user: &User) -> Vec<Value> {
    all.iter()
        .filter(|n| n["data"]["recipient_id"] == user.id.to_string())
        .cloned()
        .collect()
}

#[actix_rt::test]
async fn an_offline_member_with_notify_all_gets_one_coalesced_notification_and_the_sender_none() {
    let app = hook_app().await;
    let (rx, secret) = notified(&app).await;
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let room = app.room(&owner, "group", &[&bob]).await;
    set(&app, room, &bob, json!({"notify": "all"})).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(say(&app, room, &owner, &format!("m{i}")).await["id"].clone());
    }
    // Before it is sent: one message edited, one deleted.
    let path = |id: &Value| {
        format!(
            "{}/{}",
            messages_path(room),
            id.as_str().unwrap_or_default()
        )
    };
    let e = app
        .patch(
            &path(&ids[1]),
            &owner.token,
            json!({"content": "m1 edited"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    let d = app.delete(&path(&ids[6]), &owner.token).await;
    assert!(d.status.is_success(), "{:?}", d.body);

    let all = settle(&rx, 1).await;
    assert_eq!(all.len(), 1, "{all:?}");
    for g in rx.delivered() {
        g.verify(&secret).expect("verifies");
    }
    let n = &all[0];
    assert_eq!(n["type"], "notification");
    let data = &n["data"];
    assert_eq!(data["recipient_id"], bob.id.to_string());
    assert_eq!(data["room_id"], room.to_string());
    assert_eq!(data["room_name"], "group room");
    assert_eq!(data["tenant_id"], DEFAULT_TENANT.to_string());
    assert_eq!(data["count"], 6);
    assert_eq!(data["mention"], false);
    let texts: Vec<&str> = data["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(
        texts,
        vec!["m1 edited", "m2", "m3", "m4", "m5"],
        "the newest five, as they are now"
    );
    assert!(
        for_user(&all, &owner).is_empty(),
        "the sender is never notified"
    );
}

#[actix_rt::test]
async fn a_member_who_reads_within_the_delay_is_not_notified_and_one_who_does_not_is() {
    let app = hook_app().await;
    let (rx, _) = notified(&app).await;
    let (owner, bob, carol, room) = trio(&app).await;
    say(&app, room, &owner, "one").await;
    say(&app, room, &owner, "two").await;
    let read = app
        .post(
            &format!("/api/chat/rooms/{room}/mark_read"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    let all = settle(&rx, 1).await;
    assert!(
        for_user(&all, &bob).is_empty(),
        "read on another device: {all:?}"
    );
    let carol_got = for_user(&all, &carol);
    assert_eq!(carol_got.len(), 1, "{all:?}");
    assert_eq!(carol_got[0]["data"]["count"], 2);
}

#[actix_rt::test]
async fn mentions_get_only_the_mention_and_none_or_muted_members_get_nothing() {
    let app = hook_app().await;
    let (rx, _) = notified(&app).await;
    let owner = app.register("owner").await;
    let names = ["bob", "carol", "dave", "erin", "fay"];
    let mut u = Vec::new();
    for n in names {
        u.push(app.register(n).await);
    }
    let refs: Vec<&User> = u.iter().collect();
    let room = app.room(&owner, "group", &refs).await;
    let (bob, carol, dave, erin, fay) = (&u[0], &u[1], &u[2], &u[3], &u[4]);
    // bob: the group default (mentions); carol: none; dave: muted; erin: muted for an hour;
    // fay: a timed mute that is over.
    set(&app, room, carol, json!({"notify": "none"})).await;
    set(&app, room, dave, json!({"muted": true})).await;
    let hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    set(&app, room, erin, json!({"muted_until": hour})).await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    set(&app, room, fay, json!({"muted_until": past})).await;

    say(&app, room, &owner, "nobody is named here").await;
    say(&app, room, &owner, "hi @bob @carol @dave @erin @fay").await;
    let all = settle(&rx, 2).await;
    assert_eq!(all.len(), 2, "{all:?}");
    for who in [bob, fay] {
        let got = for_user(&all, who);
        assert_eq!(got.len(), 1, "{}: {all:?}", who.username);
        assert_eq!(got[0]["data"]["count"], 1, "only the mention");
        assert_eq!(got[0]["data"]["mention"], true);
        assert_eq!(
            got[0]["data"]["messages"][0]["content"],
            "hi @bob @carol @dave @erin @fay"
        );
    }
    for who in [carol, dave, erin, &owner] {
        assert!(for_user(&all, who).is_empty(), "{}: {all:?}", who.username);
    }
}

#[actix_rt::test]
async fn a_removed_member_is_never_named_and_pending_notifications_survive_a_restart() {
    let app = hook_app().await;
    let (rx, _) = notified(&app).await;
    let (owner, bob, carol, room) = trio(&app).await;
    let gone = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", bob.id),
            &owner.token,
        )
        .await;
    assert!(gone.status.is_success(), "{:?}", gone.body);
    say(&app, room, &owner, "after bob left").await;
    // Restarted before the delay is over: the decision is still made, once.
    let app = app.restart().await;
    let all = settle(&rx, 1).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["data"]["recipient_id"], carol.id.to_string());
    assert!(for_user(&all, &bob).is_empty());
    drop(app);
}

#[actix_rt::test]
async fn notify_settings_are_members_own_with_defaults_and_bad_input_is_refused() {
    let app = hook_app().await;
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let outsider = app.register("outsider").await;
    let room = app.room(&owner, "group", &[&bob]).await;
    let direct = app
        .post(
            "/api/chat/rooms/direct",
            &owner.token,
            json!({"user_id": bob.id}),
        )
        .await;
    assert!(direct.status.is_success(), "{:?}", direct.body);
    let direct: Uuid = direct.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");

    let g = app.get(&me(room), &bob.token).await;
    assert_eq!(g.status, StatusCode::OK, "{:?}", g.body);
    assert_eq!(g.body["notify"], "mentions");
    assert_eq!(g.body["notify_default"], true);
    assert_eq!(g.body["muted"], false);
    let d = app.get(&me(direct), &bob.token).await;
    assert_eq!(d.body["notify"], "all", "direct rooms default to all");

    let until = "2031-01-02T03:04:05Z";
    let p = app
        .patch(
            &me(room),
            &bob.token,
            json!({"notify": "none", "muted_until": until}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert_eq!(p.body["notify"], "none");
    assert_eq!(p.body["notify_default"], false);
    assert!(p.body["muted_until"]
        .as_str()
        .is_some_and(|t| t.starts_with("2031-01-02T03:04:05")));
    let cleared = app
        .patch(
            &me(room),
            &bob.token,
            json!({"muted_until": null, "muted": true}),
        )
        .await;
    assert!(cleared.body["muted_until"].is_null(), "{:?}", cleared.body);
    let same = app.patch(&me(room), &bob.token, json!({})).await;
    assert_eq!(
        same.status,
        StatusCode::OK,
        "nothing asked, nothing changed"
    );
    assert_eq!(same.body["muted"], true);
    // The members list shows the mute.
    let members = app
        .get(&format!("/api/chat/rooms/{room}/members"), &owner.token)
        .await;
    let row = members.body["results"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|m| m["user"]["id"] == bob.id.to_string())
                .cloned()
        })
        .expect("bob listed");
    assert_eq!(row["muted"], true);

    for (body, field) in [
        (json!({"notify": "loud"}), Some("notify")),
        (json!({"muted_until": "tomorrow"}), Some("muted_until")),
        (json!({"muted_until": 5}), Some("muted_until")),
        (json!({"muted": "yes"}), Some("muted")),
        (json!({"colour": "red"}), None),
    ] {
        let a = app.patch(&me(room), &bob.token, body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {:?}", a.body);
        if let Some(f) = field {
            assert_eq!(a.body["error"]["field"], f, "{body}");
        }
    }
    let huge = json!({"notify": "x".repeat(400_000)});
    assert_eq!(
        app.patch(&me(room), &bob.token, huge).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Not a member, another tenant (even its admin), no token: nothing.
    let foreign = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Foreigner", Role::Admin);
    let admin = admin_of(&app, DEFAULT_TENANT);
    for token in [&outsider.token, &foreign, &admin] {
        let a = app.patch(&me(room), token, json!({"notify": "all"})).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.body);
        assert_eq!(
            app.get(&me(room), token).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let a = app
        .send("PATCH", &me(room), None, Some(json!({"notify": "all"})))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = app.get(&me(Uuid::new_v4()), &bob.token).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn the_set_notify_frame_changes_my_settings_like_the_rest_call() {
    let app = hook_app().await;
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let outsider = app.register("outsider").await;
    let room = app.room(&owner, "group", &[&bob]).await;
    let mut ws = app.ws(&bob.token).await;
    let ack = ws
        .request(json!({"type": "set_notify", "room_id": room, "notify": "all", "muted": true}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["notify"]["notify"], "all");
    assert_eq!(ack["notify"]["muted"], true);
    assert_eq!(ack["notify"]["room_id"], room.to_string());
    let shown = app.get(&me(room), &bob.token).await;
    assert_eq!(shown.body["notify"], "all");
    assert_eq!(shown.body["muted"], true);
    let cleared = ws
        .request(
            json!({"type": "set_notify", "room_id": room, "muted": false, "muted_until": null}),
        )
        .await;
    assert_eq!(cleared["notify"]["muted"], false, "{cleared}");

    let bad = ws
        .request(json!({"type": "set_notify", "room_id": room, "notify": "loud"}))
        .await;
    assert_eq!(bad["type"], "error", "{bad}");
    assert_eq!(bad["error"]["field"], "notify", "{bad}");
    let mut other = app.ws(&outsider.token).await;
    let refused = other
        .request(json!({"type": "set_notify", "room_id": room, "notify": "all"}))
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["error"]["code"], "not_found", "{refused}");
    let foreign = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Foreigner", Role::User);
    let mut far = app.ws(&foreign).await;
    let refused = far
        .request(json!({"type": "set_notify", "room_id": room, "notify": "all"}))
        .await;
    assert_eq!(refused["error"]["code"], "not_found", "{refused}");
    assert_eq!(app.get(&me(room), &bob.token).await.body["notify"], "all");
}
