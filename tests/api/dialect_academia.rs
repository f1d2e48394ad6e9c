//! Seed 001 (Academia) through its dialect, on the seed's own defaults (`config/academia.toml`):
//! `/chat/rooms/…`, `/chat/messages/…` (the paths 001 shares with 003 too), `/chat/presence/…`
//! and `/ws/presence/`; the `CHAT_*` limits, system messages for joins and leaves, DRF's error
//! shape, other tenants (404), no token (401), nothing changed by refused requests.

use awc::http::StatusCode;
use confab::auth::Role;
use confab::config::Settings;
use serde_json::json;
use uuid::Uuid;

use crate::dialect_wasgo::next_of;
use crate::dialect_wasgo_rest::{drf_error, stranger};
use crate::helpers::*;
use crate::sql::snapshot;

/// A server on `config/academia.toml` over `config/default.toml`, as `CONFAB_ENV=academia` runs.
async fn academia_app() -> TestApp {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = manifest_dir().join("config");
    std::fs::copy(config.join("default.toml"), dir.path().join("default.toml")).expect("copy");
    std::fs::copy(
        config.join("academia.toml"),
        dir.path().join("development.toml"),
    )
    .expect("copy");
    let secret = format!("test-secret-{}", Uuid::new_v4());
    let static_dir = manifest_dir().join("static");
    let settings = Settings::load_with(
        dir.path(),
        &[
            ("server.port", "0"),
            ("server.workers", "1"),
            ("server.static_dir", static_dir.to_str().expect("utf-8")),
            ("database.url", &db.url),
            ("database.pool_size", "6"),
            ("auth.jwt_secret", &secret),
            ("auth.argon2_memory_kib", "1024"),
            ("auth.argon2_iterations", "1"),
        ],
    )
    .expect("academia settings load");
    start(settings, std::sync::Arc::new(db)).await
}

async fn chat_room(app: &TestApp, owner: &User, chat_type: &str) -> String {
    let a = app
        .post(
            "/chat/rooms/",
            &owner.token,
            json!({"name": "Algebra I", "description": "Course chat", "chat_type": chat_type}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

#[actix_rt::test]
async fn the_seed_defaults_are_the_profiles_settings() {
    let app = academia_app().await;
    let (l, r) = (&app.settings.limits, &app.settings.realtime);
    assert_eq!(l.max_message_chars, 1000);
    assert_eq!(l.max_page_size, 1000);
    assert_eq!(l.max_room_members, 100);
    assert_eq!((l.edit_window_secs, l.delete_window_secs), (300, 300));
    assert_eq!(l.max_upload_bytes, 10 * 1024 * 1024);
    assert_eq!(r.typing_timeout(), std::time::Duration::from_millis(3000));
    assert_eq!((r.heartbeat_secs, r.client_timeout_secs), (30, 60));
    assert!(r.membership_messages);
}

#[actix_rt::test]
async fn rooms_create_list_detail_update_delete() {
    let app = academia_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = chat_room(&app, &ann, "public").await;
    let joined = app
        .post(&format!("/chat/rooms/{id}/join/"), &bob.token, json!({}))
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    let detail = app.get(&format!("/chat/rooms/{id}/"), &bob.token).await;
    assert_eq!(detail.status, StatusCode::OK, "{:?}", detail.body);
    let room = &detail.body;
    assert_eq!(room["name"], "Algebra I");
    assert_eq!(room["chat_type"], "public");
    assert_eq!(room["max_participants"], 100);
    assert_eq!(room["created_by"], ann.id.to_string());
    assert_eq!(room["is_active"], true);
    let private = app
        .post(
            "/chat/rooms/",
            &ann.token,
            json!({"name": "TAs", "chat_type": "private", "participants": [bob.id]}),
        )
        .await;
    assert_eq!(private.body["chat_type"], "private", "{:?}", private.body);
    assert_eq!(private.body["participant_count"], 2);
    let service = app.platform_token(Uuid::new_v4(), ann.tenant_id, "Academia", Role::Service);
    let course = app
        .post(
            "/chat/rooms/",
            &service,
            json!({"name": "Calculus", "chat_type": "course", "course": 42}),
        )
        .await;
    assert_eq!(course.body["chat_type"], "course", "{:?}", course.body);
    assert_eq!(course.body["course"], "42");
    let listed = app.get("/chat/rooms/", &bob.token).await;
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Algebra I") && names.contains(&"TAs") && names.contains(&"Calculus"),
        "{names:?}"
    );
    let put = app
        .put(
            &format!("/chat/rooms/{id}/"),
            &ann.token,
            json!({"name": "Algebra II", "max_participants": 30}),
        )
        .await;
    assert_eq!(put.body["name"], "Algebra II", "{:?}", put.body);
    assert_eq!(put.body["max_participants"], 30);

    let before = snapshot(&app).await;
    let bad = [
        json!({"name": "x", "chat_type": "lecture"}),
        json!({"name": "x".repeat(101), "chat_type": "public"}),
        json!({"name": "x", "chat_type": "course"}),
        json!({"name": "x", "chat_type": "public", "max_participants": 101}),
        json!({"name": "x", "chat_type": "private", "participants": ["nobody"]}),
        json!([1]),
    ];
    for body in bad {
        let a = app.post("/chat/rooms/", &ann.token, body.clone()).await;
        assert!(
            a.status.is_client_error() && a.body["detail"].is_string(),
            "{body}: {:?}",
            a.body
        );
    }
    drf_error(
        &app.post(
            "/chat/rooms/",
            &ann.token,
            json!({"name": "x", "chat_type": "course", "course": 1}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.put(
            &format!("/chat/rooms/{id}/"),
            &bob.token,
            json!({"name": "mine"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.delete(&format!("/chat/rooms/{id}/"), &bob.token).await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.get(&format!("/chat/rooms/{id}/"), &stranger(&app))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.put(
            &format!("/chat/rooms/{id}/"),
            &stranger(&app),
            json!({"name": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(&app.get("/chat/rooms/", "").await, StatusCode::UNAUTHORIZED);
    drf_error(
        &app.patch("/chat/rooms/", &ann.token, json!({})).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );

    let deleted = app.delete(&format!("/chat/rooms/{id}/"), &ann.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/chat/rooms/{id}/"), &ann.token)
            .await
            .body["is_active"],
        false
    );
}

#[actix_rt::test]
async fn join_and_leave_post_system_messages_and_the_cap_holds() {
    let app = academia_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let id = chat_room(&app, &ann, "public").await;
    let mut watch = app
        .ws_dialect(&format!("/ws/chat/{id}/?dialect=wasgo"), Some(&ann.token))
        .await
        .expect("socket");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let joined = app
        .post(&format!("/chat/rooms/{id}/join/"), &bob.token, json!({}))
        .await;
    assert_eq!(
        joined.body,
        json!({"status": "joined"}),
        "{:?}",
        joined.body
    );
    let notice = next_of(&mut watch, "new_message").await;
    assert_eq!(notice["message"]["message_type"], "system");
    assert_eq!(notice["message"]["content"], "bob joined the room");
    assert_eq!(notice["message"]["metadata"]["action"], "user_joined");
    let people = app
        .get(&format!("/chat/rooms/{id}/participants/"), &ann.token)
        .await;
    let roles: Vec<(&str, &str)> = people
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["user"]["username"].as_str().unwrap(),
                p["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(roles, [("ann", "admin"), ("bob", "member")]);
    let left = app
        .post(&format!("/chat/rooms/{id}/leave/"), &bob.token, json!({}))
        .await;
    assert_eq!(left.body, json!({"status": "left"}));
    assert_eq!(
        next_of(&mut watch, "new_message").await["message"]["content"],
        "bob left the room"
    );
    let page = app
        .get(&format!("/chat/rooms/{id}/messages/"), &ann.token)
        .await;
    let texts: Vec<&str> = page.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["bob joined the room", "bob left the room"]);

    let small = app
        .post(
            "/chat/rooms/",
            &ann.token,
            json!({"name": "Pair", "chat_type": "public", "max_participants": 2}),
        )
        .await;
    let small = small.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/chat/rooms/{small}/join/"), &bob.token, json!({}))
        .await;
    let private = chat_room(&app, &ann, "private").await;
    let before = snapshot(&app).await;
    drf_error(
        &app.post(&format!("/chat/rooms/{small}/join/"), &eve.token, json!({}))
            .await,
        StatusCode::CONFLICT,
    );
    let refused = app
        .post(
            &format!("/chat/rooms/{private}/join/"),
            &eve.token,
            json!({}),
        )
        .await;
    assert!(
        refused.status == StatusCode::NOT_FOUND || refused.status == StatusCode::FORBIDDEN,
        "{:?}",
        refused.status
    );
    drf_error(
        &app.post(
            &format!("/chat/rooms/{id}/join/"),
            &stranger(&app),
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&format!("/chat/rooms/{id}/leave/"), &eve.token, json!({}))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get(&format!("/chat/rooms/{id}/participants/"), &stranger(&app))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&format!("/chat/rooms/{id}/join/"), "", json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );
}

#[actix_rt::test]
async fn messages_send_edit_react_reply_delete_within_the_limits() {
    let app = academia_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = chat_room(&app, &ann, "public").await;
    app.post(&format!("/chat/rooms/{id}/join/"), &bob.token, json!({}))
        .await;
    let sent = app
        .post(
            "/chat/messages/",
            &ann.token,
            json!({"room": id, "content": "Welcome!", "message_type": "text"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let mid = sent.body["id"].as_str().unwrap().to_owned();
    for key in [
        "room",
        "sender",
        "message_type",
        "content",
        "is_edited",
        "is_deleted",
        "created_at",
        "updated_at",
    ] {
        assert!(!sent.body[key].is_null(), "{key}: {:?}", sent.body);
    }
    assert_eq!(sent.body["room"], id);
    let edited = app
        .put(
            &format!("/chat/messages/{mid}/"),
            &ann.token,
            json!({"content": "Welcome all!"}),
        )
        .await;
    assert_eq!(edited.body["is_edited"], true, "{:?}", edited.body);
    app.post(
        &format!("/chat/messages/{mid}/react/"),
        &bob.token,
        json!({"emoji": "🎉"}),
    )
    .await;
    let reactions = app
        .get(&format!("/chat/messages/{mid}/reactions/"), &ann.token)
        .await;
    assert_eq!(
        reactions.body,
        json!([{"emoji": "🎉", "count": 1, "users": [bob.id]}])
    );
    let reply = app
        .post(
            &format!("/chat/messages/{mid}/reply/"),
            &bob.token,
            json!({"content": "Thanks"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["reply_to"], mid);
    let listed = app
        .get(&format!("/chat/messages/?room={id}"), &bob.token)
        .await;
    assert_eq!(listed.body["count"], 3, "{:?}", listed.body);

    let before = snapshot(&app).await;
    let too_long = "x".repeat(1001);
    let a = app
        .post(
            "/chat/messages/",
            &ann.token,
            json!({"room": id, "content": too_long}),
        )
        .await;
    assert!(
        a.status.is_client_error() && a.body["detail"].is_string(),
        "{:?}",
        a.body
    );
    let a = app
        .put(
            &format!("/chat/messages/{mid}/"),
            &ann.token,
            json!({"content": "x".repeat(1001)}),
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.body);
    drf_error(
        &app.put(
            &format!("/chat/messages/{mid}/"),
            &bob.token,
            json!({"content": "his"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.delete(&format!("/chat/messages/{mid}/"), &bob.token)
            .await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.post(
            &format!("/chat/messages/{mid}/reply/"),
            &bob.token,
            json!({"content": ""}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    let other = stranger(&app);
    drf_error(
        &app.put(
            &format!("/chat/messages/{mid}/"),
            &other,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get(&format!("/chat/messages/{mid}/reactions/"), &other)
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(
            &format!("/chat/messages/{mid}/reply/"),
            &other,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.delete(&format!("/chat/messages/{mid}/"), "").await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );
    assert_eq!(
        app.delete(&format!("/chat/messages/{mid}/"), &ann.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[actix_rt::test]
async fn edit_and_delete_windows_close() {
    let app = spawn_app_with(|s| {
        s.limits.edit_window_secs = 1;
        s.limits.delete_window_secs = 1;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = chat_room(&app, &ann, "public").await;
    app.post(&format!("/chat/rooms/{id}/join/"), &bob.token, json!({}))
        .await;
    let sent = app
        .post(
            "/chat/messages/",
            &bob.token,
            json!({"room": id, "content": "soon old"}),
        )
        .await;
    let mid = sent.body["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    drf_error(
        &app.put(
            &format!("/chat/messages/{mid}/"),
            &bob.token,
            json!({"content": "late"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    let late = app
        .delete(&format!("/chat/messages/{mid}/"), &bob.token)
        .await;
    drf_error(&late, StatusCode::FORBIDDEN);
    assert!(late.body["detail"]
        .as_str()
        .unwrap()
        .contains("delete window"));
    let kept = app.get(&format!("/chat/messages/{mid}/"), &bob.token).await;
    assert_eq!(
        (
            kept.body["content"].clone(),
            kept.body["is_deleted"].clone()
        ),
        (json!("soon old"), json!(false))
    );
    // The room's owner (a moderator) still may.
    assert_eq!(
        app.delete(&format!("/chat/messages/{mid}/"), &ann.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

/// The next `presence_update` telling `user`'s `status` (others are skipped).
async fn presence_of(ws: &mut Ws, user: Uuid, status: &str) -> serde_json::Value {
    loop {
        let f = next_of(ws, "presence_update").await;
        if f["user"] == user.to_string() && f["status"] == status {
            return f;
        }
    }
}

#[actix_rt::test]
async fn presence_rest_and_socket() {
    let app = academia_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = chat_room(&app, &ann, "public").await;
    app.post(&format!("/chat/rooms/{id}/join/"), &bob.token, json!({}))
        .await;
    let mut a = app
        .ws_dialect("/ws/presence/", Some(&ann.token))
        .await
        .expect("presence socket");
    let hello = a.recv().await;
    assert_eq!(
        hello,
        json!({"type": "connection_established", "user_id": ann.id, "status": "online"})
    );
    let path = format!("/ws/presence/?token={}", bob.token);
    let mut b = app.ws_dialect(&path, None).await.expect("token in URL");
    let online = presence_of(&mut a, bob.id, "online").await;
    assert_eq!(online["user_id"], bob.id.to_string());
    b.send(json!({"type": "update_status", "status": "busy", "current_room": id}))
        .await;
    let busy = presence_of(&mut a, bob.id, "busy").await;
    assert_eq!(busy["current_room"], id);
    for bad in [
        json!({"type": "update_status", "status": "asleep"}),
        json!({"type": "subscribe"}),
    ] {
        b.send(bad.clone()).await;
        assert!(b.recv_type("error").await["message"].is_string(), "{bad}");
    }
    b.send(json!({"type": "ping"})).await;
    assert_eq!(b.recv_type("pong").await, json!({"type": "pong"}));

    let me = app.get("/chat/presence/", &bob.token).await;
    assert_eq!(me.body["status"], "busy", "{:?}", me.body);
    assert_eq!(me.body["user"], bob.id.to_string());
    let other = app
        .get(&format!("/chat/presence/?user={}", ann.id), &bob.token)
        .await;
    assert_eq!(other.body["status"], "online");
    let away = app
        .put("/chat/presence/", &ann.token, json!({"status": "away"}))
        .await;
    assert_eq!(away.body["status"], "away", "{:?}", away.body);
    let online = app.get("/chat/presence/online/", &ann.token).await;
    assert_eq!(
        online.body.as_array().unwrap().len(),
        2,
        "{:?}",
        online.body
    );

    let mut t = app
        .ws_dialect(&format!("/ws/chat/{id}/?dialect=wasgo"), Some(&bob.token))
        .await
        .expect("chat");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    t.send(json!({"type": "typing", "is_typing": true})).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let typing = app
        .get(&format!("/chat/presence/typing/?room={id}"), &ann.token)
        .await;
    assert_eq!(
        typing.body[0]["user"],
        bob.id.to_string(),
        "{:?}",
        typing.body
    );
    assert_eq!(typing.body[0]["is_typing"], true);
    // CHAT_TYPING_TIMEOUT: 3000 ms.
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    let expired = app
        .get(&format!("/chat/presence/typing/?room={id}"), &ann.token)
        .await;
    assert_eq!(expired.body, json!([]));

    drf_error(
        &app.put("/chat/presence/", &ann.token, json!({"status": "asleep"}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.get("/chat/presence/typing/", &ann.token).await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.get(
            &format!("/chat/presence/typing/?room={id}"),
            &stranger(&app),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get(&format!("/chat/presence/?user={}", ann.id), &stranger(&app))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get("/chat/presence/", "").await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(app.ws_dialect("/ws/presence/", None).await.err(), Some(401));
}
