//! Moderation (issue 17): pins as room events, the delete window, and the audit log (every action
//! once, with its actor, nothing of another tenant's, never editable).

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// A group of `owner` with a member and a moderator; answers (room, member, moderator).
async fn staffed_room(app: &TestApp, owner: &User) -> (Uuid, User, User) {
    let member = app.register("member1").await;
    let moderator = app.register("mod1").await;
    let room = app.room(owner, "group", &[&member, &moderator]).await;
    let a = app
        .patch(
            &format!("/api/chat/rooms/{room}/members/{}", moderator.id),
            &owner.token,
            json!({"role": "moderator"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    (room, member, moderator)
}

async fn post(app: &TestApp, room: Uuid, user: &User, text: &str) -> Uuid {
    let a = app
        .post_message(room, &user.token, json!({"content": text}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().parse().unwrap()
}

fn pin_path(room: Uuid, message: impl std::fmt::Display) -> String {
    format!("/api/chat/rooms/{room}/pins/{message}")
}

async fn joined(app: &TestApp, user: &User, room: Uuid) -> Ws {
    let mut ws = app.ws(&user.token).await;
    let ack = ws
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws
}

fn admin_token(app: &TestApp, tenant: Uuid) -> String {
    app.platform_token(Uuid::new_v4(), tenant, "Admin", Role::Admin)
}

#[actix_rt::test]
async fn moderators_pin_and_every_member_sees_it_as_a_room_event() {
    let app = spawn_app().await;
    let owner = app.register("owner1").await;
    let (room, member, moderator) = staffed_room(&app, &owner).await;
    let m1 = post(&app, room, &member, "pin me").await;
    let mut watcher = joined(&app, &member, room).await;

    // A member pins nothing in a group.
    let refused = app
        .post(&pin_path(room, m1), &member.token, json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);

    let pinned = app
        .post(&pin_path(room, m1), &moderator.token, json!({}))
        .await;
    assert_eq!(pinned.status, StatusCode::OK, "{:?}", pinned.body);
    assert_eq!(pinned.body["pinned"], true);
    let pin_seq = pinned.body["seq"].as_i64().expect("a seq");
    let event = watcher.recv_type("message_pinned").await;
    assert_eq!(event["seq"], pin_seq, "{event}");
    assert_eq!(event["message_id"], m1.to_string());
    assert_eq!(event["pinned_by"], moderator.id.to_string());

    // Pinning again changes nothing (no event, no seq).
    let again = app
        .post(&pin_path(room, m1), &moderator.token, json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["seq"], Value::Null);

    // The list and the message views say so; the history holds the event's seq, no gap.
    let list = app
        .get(&format!("/api/chat/rooms/{room}/pins"), &member.token)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let results = list.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["message"]["id"], m1.to_string());
    assert_eq!(results[0]["message"]["pinned"], true);
    assert_eq!(results[0]["pinned_by"], moderator.id.to_string());
    let m2 = post(&app, room, &member, "not pinned").await;
    let history = app.get(&messages_path(room), &member.token).await;
    let by_id = |id: Uuid| {
        history.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.to_string())
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(m1)["pinned"], true);
    assert!(by_id(m2).get("pinned").is_none());
    assert_eq!(seq(&by_id(m2)), pin_seq + 1);

    // Unpin over the WebSocket: an ack with the event's seq.
    let mut ws = app.ws(&moderator.token).await;
    let ack = ws
        .request(json!({"type": "unpin_message", "message_id": m1, "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let unpinned = watcher.recv_type("message_unpinned").await;
    assert_eq!(unpinned["seq"], ack["seq"]);
    let list = app
        .get(&format!("/api/chat/rooms/{room}/pins"), &member.token)
        .await;
    assert_eq!(list.body["results"], json!([]));
}

#[actix_rt::test]
async fn pins_refuse_wrong_unknown_unauthorized_and_other_tenant_callers() {
    let app = spawn_app_with(|s| s.limits.max_pins_per_room = 2).await;
    let owner = app.register("owner1").await;
    let (room, member, _) = staffed_room(&app, &owner).await;
    let ids = [
        post(&app, room, &member, "one").await,
        post(&app, room, &member, "two").await,
        post(&app, room, &member, "three").await,
    ];
    for id in &ids[..2] {
        let a = app.post(&pin_path(room, id), &owner.token, json!({})).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
    // Over the cap.
    let full = app
        .post(&pin_path(room, ids[2]), &owner.token, json!({}))
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{:?}", full.body);
    // Wrong: not a UUID; a message of no room of mine.
    let bad = app
        .post(&pin_path(room, "not-a-uuid"), &owner.token, json!({}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .post(&pin_path(room, Uuid::new_v4()), &owner.token, json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Unauthorized.
    let anon = app
        .send("POST", &pin_path(room, ids[0]), None, Some(json!({})))
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // Another tenant's admin: the room does not exist for them.
    let other = admin_token(&app, Uuid::new_v4());
    let a = app.post(&pin_path(room, ids[0]), &other, json!({})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .get(&format!("/api/chat/rooms/{room}/pins"), &other)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // A deleted message loses its pin (and cannot be pinned again).
    let del = app
        .delete(
            &format!("{}/{}", messages_path(room), ids[0]),
            &member.token,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let list = app
        .get(&format!("/api/chat/rooms/{room}/pins"), &owner.token)
        .await;
    assert_eq!(list.body["results"].as_array().unwrap().len(), 1);
    let gone = app
        .post(&pin_path(room, ids[0]), &owner.token, json!({}))
        .await;
    assert_eq!(gone.status, StatusCode::CONFLICT);
    // Either member of a direct room pins.
    let dm = app
        .post(
            "/api/chat/rooms/direct",
            &member.token,
            json!({"user_id": owner.id}),
        )
        .await;
    let dm: Uuid = dm.body["id"].as_str().unwrap().parse().unwrap();
    let said = post(&app, dm, &owner, "in private").await;
    let a = app
        .post(&pin_path(dm, said), &member.token, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

#[actix_rt::test]
async fn senders_delete_within_the_window_and_moderators_after_it() {
    let app = spawn_app_with(|s| s.limits.delete_window_secs = 1).await;
    let owner = app.register("owner1").await;
    let (room, member, moderator) = staffed_room(&app, &owner).await;
    let quick = post(&app, room, &member, "oops").await;
    let del = app
        .delete(&format!("{}/{quick}", messages_path(room)), &member.token)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{:?}", del.body);
    let late = post(&app, room, &member, "said long ago").await;
    let also_late = post(&app, room, &member, "this one too").await;
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    let refused = app
        .delete(&format!("{}/{late}", messages_path(room)), &member.token)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert_eq!(refused.error_code(), "forbidden");
    let mut ws = app.ws(&member.token).await;
    let frame = ws
        .request(json!({"type": "delete_message", "message_id": also_late, "room_id": room}))
        .await;
    assert_eq!(frame["type"], "error", "{frame}");
    let by_mod = app
        .delete(&format!("{}/{late}", messages_path(room)), &moderator.token)
        .await;
    assert_eq!(by_mod.status, StatusCode::NO_CONTENT, "{:?}", by_mod.body);
    // Only the moderator's deletion of someone else's message is audited.
    let admin = admin_token(&app, DEFAULT_TENANT);
    let log = app
        .get("/api/admin/audit?action=message.delete", &admin)
        .await;
    let rows = log.body["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor_id"], moderator.id.to_string());
    assert_eq!(rows[0]["target_id"], late.to_string());
    assert_eq!(rows[0]["room_id"], room.to_string());
    assert_eq!(rows[0]["after"]["sender_id"], member.id.to_string());
}

/// The audit entries of `action` (as an admin of the default tenant sees them).
async fn entries(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let a = app
        .get(&format!("/api/admin/audit?action={action}"), admin)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body["results"].as_array().unwrap().clone()
}

#[actix_rt::test]
async fn every_action_is_audited_once_with_its_actor_and_only_for_its_tenant() {
    let app = spawn_app().await;
    let owner = app.register("owner1").await;
    let (room, member, moderator) = staffed_room(&app, &owner).await;
    let admin = admin_token(&app, DEFAULT_TENANT);
    let service = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Svc", Role::Service);
    let m = post(&app, room, &member, "hello").await;
    app.post(&pin_path(room, m), &moderator.token, json!({}))
        .await;
    app.delete(&pin_path(room, m), &moderator.token).await;
    let gone = app
        .delete(&format!("/api/admin/messages/{m}"), &admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let kicked = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", member.id),
            &owner.token,
        )
        .await;
    assert!(kicked.status.is_success(), "{:?}", kicked.body);
    let ban = app
        .post(
            &format!("/api/admin/users/{}/ban", member.id),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(ban.status, StatusCode::OK);
    app.post(
        &format!("/api/admin/users/{}/unban", member.id),
        &admin,
        json!({}),
    )
    .await;
    let minted = app
        .post("/api/admin/tokens", &service, json!({"user_id": owner.id}))
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);

    let admin_id = |t: &str| -> String {
        // The actor of an admin token is the token's subject.
        let claims = app.keys().verify(t).expect("token");
        claims.sub.to_string()
    };
    let checks: &[(&str, String, Option<Uuid>)] = &[
        ("member.role", owner.id.to_string(), Some(moderator.id)),
        ("message.pin", moderator.id.to_string(), Some(m)),
        ("message.unpin", moderator.id.to_string(), Some(m)),
        ("message.delete", admin_id(&admin), Some(m)),
        ("member.remove", owner.id.to_string(), Some(member.id)),
        ("user.ban", admin_id(&admin), Some(member.id)),
        ("user.unban", admin_id(&admin), Some(member.id)),
        ("token.mint", admin_id(&service), Some(owner.id)),
    ];
    for (action, actor, target) in checks {
        let rows = entries(&app, &admin, action).await;
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        assert_eq!(rows[0]["actor_id"], actor.as_str(), "{action}");
        assert_eq!(
            rows[0]["target_id"],
            target.unwrap().to_string(),
            "{action}"
        );
    }
    let role = &entries(&app, &admin, "member.role").await[0];
    assert_eq!(role["before"], json!({"role": "member"}));
    assert_eq!(role["after"], json!({"role": "moderator"}));
    let ban = &entries(&app, &admin, "user.ban").await[0];
    assert_eq!(ban["before"], json!({"banned": false}));
    assert_eq!(ban["after"], json!({"banned": true}));

    // Another tenant's admin sees nothing of this, even by room or actor.
    let other = admin_token(&app, Uuid::new_v4());
    for q in [
        String::new(),
        format!("?room_id={room}"),
        format!("?actor_id={}", owner.id),
    ] {
        let a = app.get(&format!("/api/admin/audit{q}"), &other).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["results"], json!([]), "{q}");
    }
    audit_filters_and_paging(&app, &admin, room, &owner).await;
}

async fn audit_filters_and_paging(app: &TestApp, admin: &str, room: Uuid, owner: &User) {
    let all = app.get("/api/admin/audit", admin).await;
    let n = all.body["results"].as_array().unwrap().len();
    assert_eq!(n, 8);
    let in_room = app
        .get(&format!("/api/admin/audit?room_id={room}"), admin)
        .await;
    assert_eq!(in_room.body["results"].as_array().unwrap().len(), 5);
    let by_owner = app
        .get(&format!("/api/admin/audit?actor_id={}", owner.id), admin)
        .await;
    assert_eq!(by_owner.body["results"].as_array().unwrap().len(), 2);
    let future = app
        .get("/api/admin/audit?after=2999-01-01T00:00:00Z", admin)
        .await;
    assert_eq!(future.body["results"], json!([]));
    let past = app
        .get("/api/admin/audit?before=2000-01-01T00:00:00Z", admin)
        .await;
    assert_eq!(past.body["results"], json!([]));
    // Cursor paging: 3 + 3 + 2, newest first, no entry twice.
    let mut seen = Vec::new();
    let mut path = "/api/admin/audit?limit=3".to_owned();
    loop {
        let page = app.get(&path, admin).await;
        for e in page.body["results"].as_array().unwrap() {
            seen.push(e["id"].as_i64().unwrap());
        }
        match page.body["next_cursor"].as_i64() {
            Some(c) => path = format!("/api/admin/audit?limit=3&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 8);
    // Wrong, too large, unauthorized, not an admin.
    for (q, code) in [
        ("?action=nope", StatusCode::BAD_REQUEST),
        ("?limit=0", StatusCode::BAD_REQUEST),
        ("?limit=100000", StatusCode::BAD_REQUEST),
        ("?room_id=xyz", StatusCode::BAD_REQUEST),
        ("?after=yesterday", StatusCode::BAD_REQUEST),
    ] {
        let a = app.get(&format!("/api/admin/audit{q}"), admin).await;
        assert_eq!(a.status, code, "{q}: {:?}", a.body);
    }
    let anon = app.send("GET", "/api/admin/audit", None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let member = app.get("/api/admin/audit", &owner.token).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    // Nothing edits it, not even SQL.
    for method in ["PUT", "PATCH", "DELETE"] {
        let a = app
            .send(method, "/api/admin/audit", Some(admin), None)
            .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    use diesel_async::SimpleAsyncConnection;
    let mut conn = app.db.conn().await;
    let edit = conn
        .batch_execute("UPDATE audit_log SET action = 'forged'")
        .await;
    assert!(edit.is_err(), "the audit log took an UPDATE");
}
