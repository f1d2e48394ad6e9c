//! Seed 004 (DRF + Channels) through its dialect: the per-room and direct sockets with its
//! frames, its tokens (SimpleJWT's `user_id`), bad input, other tenants, and a message reaching
//! native clients once, in seq order.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::{count, messages};

fn room_path(room: Uuid) -> String {
    format!("/ws/chat/{room}/")
}

/// The next frame of `ty`, failing on an `error` frame.
async fn next_of(ws: &mut Ws, ty: &str) -> Value {
    loop {
        let v = ws.recv().await;
        assert_ne!(v["type"], "error", "{v}");
        if v["type"] == ty {
            return v;
        }
    }
}

/// A member's per-room socket, once it is subscribed (a message sent now reaches it).
async fn room_socket(app: &TestApp, user: &User, room: Uuid) -> Ws {
    let ws = app
        .ws_dialect(&room_path(room), Some(&user.token))
        .await
        .expect("room socket opens");
    // The subscription is the socket's first native frame; give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    ws
}

#[actix_rt::test]
async fn documented_frames_flow_between_two_members_of_a_room() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = room_socket(&app, &ann, room).await;
    // A browser sets no header: the token rides in the URL.
    let path = format!("{}?token={}", room_path(room), bob.token);
    let mut b = app.ws_dialect(&path, None).await.expect("token in URL");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;

    a.send(json!({"type": "message", "content": "Hello everyone!"}))
        .await;
    for ws in [&mut a, &mut b] {
        let m = next_of(ws, "message").await;
        let msg = &m["message"];
        assert_eq!(msg["content"], "Hello everyone!");
        assert_eq!(msg["sender"]["id"], ann.id.to_string());
        assert!(msg["sender"]["display_name"].is_string(), "{m}");
        assert!(msg["sender"].as_object().unwrap().contains_key("email"));
        assert!(msg["timestamp"].is_string());
        assert_eq!(msg["message_type"], "text");
        assert_eq!(msg["reply_to"], Value::Null);
        assert_eq!(msg["reactions"], json!({}));
    }

    b.send(json!({"type": "typing", "is_typing": true})).await;
    let t = next_of(&mut a, "typing").await;
    assert_eq!(t["user_id"], bob.id.to_string());
    assert_eq!(t["is_typing"], true);
    assert_eq!(t["user"], "bob", "the e-mail, else the username");
    b.send(json!({"type": "typing", "is_typing": false})).await;
    assert_eq!(next_of(&mut a, "typing").await["is_typing"], false);

    let id = messages(&app, room).await[0].id.clone();
    b.send(json!({"type": "read_receipt", "message_id": id}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sql = format!(
        "SELECT count(*) AS n FROM room_members m JOIN messages g ON g.room_id = m.room_id \
         WHERE m.room_id = '{room}' AND m.user_id = '{}' AND m.last_read_seq >= g.seq",
        bob.id
    );
    assert_eq!(count(&app, &sql).await, 1, "bob read the message");
    // No broadcast of a read receipt, and nobody hears their own typing.
    for ws in [&mut a, &mut b] {
        let rest = ws.drain(300).await;
        assert!(rest.iter().all(|f| f["type"] != "read_receipt"), "{rest:?}");
    }
    let own = a.drain(100).await;
    assert!(own.iter().all(|f| f["type"] != "typing"), "{own:?}");
}

#[actix_rt::test]
async fn bad_frames_answer_errors_and_change_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let mut a = room_socket(&app, &ann, room).await;
    let too_long = "x".repeat(app.settings.limits.max_message_chars + 1);
    let bad = [
        json!({"type": "message", "content": ""}).to_string(),
        json!({"type": "message", "content": too_long}).to_string(),
        json!({"type": "message", "content": 7}).to_string(),
        json!({"type": "join_room", "room_id": room}).to_string(),
        json!({"type": "read_receipt", "message_id": Uuid::new_v4()}).to_string(),
        "not json".to_owned(),
        "[1]".to_owned(),
    ];
    for text in bad {
        a.send_raw(text.clone()).await;
        let e = a.recv().await;
        assert_eq!(e["type"], "error", "{text}: {e}");
        assert!(e["message"].is_string() && e["error"].is_string(), "{e}");
    }
    assert!(messages(&app, room).await.is_empty());
}

#[actix_rt::test]
async fn sockets_refuse_strangers_other_tenants_and_no_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let eve = app.register("eve").await;
    let room = app.room(&ann, "group", &[]).await;
    let other_tenant = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let path = room_path(room);
    assert_eq!(app.ws_dialect(&path, None).await.err(), Some(401));
    assert_eq!(
        app.ws_dialect(&path, Some(&eve.token)).await.err(),
        Some(404)
    );
    assert_eq!(
        app.ws_dialect(&path, Some(&other_tenant)).await.err(),
        Some(404)
    );
    let unknown = room_path(Uuid::new_v4());
    assert_eq!(
        app.ws_dialect(&unknown, Some(&ann.token)).await.err(),
        Some(404)
    );
    let bogus = format!("{path}?dialect=bogus");
    assert_eq!(
        app.ws_dialect(&bogus, Some(&ann.token)).await.err(),
        Some(400)
    );
    // The caller's own tenant id is still the native multiplexed socket.
    let native = format!("/ws/chat/{}/", ann.tenant_id);
    assert!(app.ws_try(&native, Some(&ann.token), None).await.is_ok());
}

#[actix_rt::test]
async fn direct_socket_opens_the_same_room_from_both_sides() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let mut a = app
        .ws_dialect(&format!("/ws/direct/{}/", bob.id), Some(&ann.token))
        .await
        .expect("direct socket");
    let mut b = app
        .ws_dialect(&format!("/ws/direct/{}/", ann.id), Some(&bob.token))
        .await
        .expect("direct socket");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    b.send(json!({"type": "message", "content": "hi ann"}))
        .await;
    let m = next_of(&mut a, "message").await;
    assert_eq!(m["message"]["sender"]["id"], bob.id.to_string());
    let direct = "SELECT count(*) AS n FROM rooms WHERE room_type = 'direct'";
    assert_eq!(count(&app, direct).await, 1);

    let own = format!("/ws/direct/{}/", ann.id);
    assert_eq!(
        app.ws_dialect(&own, Some(&ann.token)).await.err(),
        Some(409)
    );
    let nobody = format!("/ws/direct/{}/", Uuid::new_v4());
    assert_eq!(
        app.ws_dialect(&nobody, Some(&ann.token)).await.err(),
        Some(404)
    );
    assert_eq!(
        app.ws_dialect("/ws/direct/42/", Some(&ann.token))
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        app.ws_dialect("/ws/direct/x/", Some(&ann.token))
            .await
            .err(),
        Some(404)
    );
    let stranger = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let to_bob = format!("/ws/direct/{}/", bob.id);
    assert_eq!(
        app.ws_dialect(&to_bob, Some(&stranger)).await.err(),
        Some(404)
    );
    assert_eq!(app.ws_dialect(&to_bob, None).await.err(), Some(401));
    assert_eq!(count(&app, direct).await, 1);
}

#[actix_rt::test]
async fn a_dialect_message_reaches_native_clients_once_in_seq_order() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut native = app.ws(&bob.token).await;
    let ack = native
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut seed = room_socket(&app, &bob, room).await;
    let mut a = room_socket(&app, &ann, room).await;
    for i in 0..5 {
        a.send(json!({"type": "message", "content": format!("m{i}")}))
            .await;
    }
    let mut native_seqs = Vec::new();
    let mut seed_seqs = Vec::new();
    for i in 0..5 {
        let n = native.recv_type("new_message").await;
        assert_eq!(n["message"]["content"], format!("m{i}"));
        native_seqs.push(seq(&n));
        let s = next_of(&mut seed, "message").await;
        assert_eq!(s["message"]["content"], format!("m{i}"));
        seed_seqs.push(s["message"]["seq"].as_i64().unwrap());
    }
    assert!(
        native_seqs.windows(2).all(|w| w[0] < w[1]),
        "{native_seqs:?}"
    );
    assert_eq!(native_seqs, seed_seqs);
    let more = native.drain(300).await;
    assert!(more.iter().all(|f| f["type"] != "new_message"), "{more:?}");
}

#[actix_rt::test]
async fn simplejwt_tokens_work_with_a_claim_mapping() {
    let app = spawn_app_with(|s| {
        s.auth.claims.user = "user_id".into();
        s.auth.claims.name = "username".into();
        s.auth.claims.default_tenant = "00000000-0000-0000-0000-000000000001".into();
    })
    .await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let mint = |claims: Value| {
        let key = jsonwebtoken::EncodingKey::from_secret(app.settings.auth.jwt_secret.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    // SimpleJWT's access token: token_type, exp, iat, jti, user_id; no tenant.
    let ada = mint(json!({"token_type": "access", "exp": exp, "iat": exp - 600,
        "jti": "a1", "user_id": 42, "username": "ada"}));
    let me = app.get("/api/chat/users/me", &ada).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["display_name"], "ada");
    let again = app.get("/api/chat/users/me", &ada).await;
    assert_eq!(
        again.body["id"], me.body["id"],
        "the same user on every call"
    );
    let bob = mint(json!({"exp": exp, "user_id": 43}));
    assert_eq!(
        app.get("/api/chat/users/me", &bob).await.status,
        StatusCode::OK
    );
    // The integer id is usable where a seed's URL takes a user id.
    let mut dm = app
        .ws_dialect("/ws/direct/43/", Some(&ada))
        .await
        .expect("direct socket by integer id");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    dm.send(json!({"type": "message", "content": "hi 43"}))
        .await;
    assert_eq!(
        next_of(&mut dm, "message").await["message"]["content"],
        "hi 43"
    );
    for bad in [
        json!({"exp": exp, "sub": Uuid::new_v4().to_string()}),
        json!({"exp": exp, "user_id": "nope"}),
        json!({"exp": exp - 1200, "user_id": 42}),
    ] {
        let a = app.get("/api/chat/users/me", &mint(bad.clone())).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
}

#[actix_rt::test]
async fn the_native_permissions_hold_through_the_dialect() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let id = app
        .post_message(room, &ann.token, json!({"content": "hi"}))
        .await
        .body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let to_observer = format!("/api/chat/rooms/{room}/members/{}", bob.id);
    let a = app
        .patch(&to_observer, &ann.token, json!({"role": "observer"}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let mut b = room_socket(&app, &bob, room).await;
    // An observer may listen and mark read, not post, type or react.
    b.send(json!({"type": "message", "content": "let me in"}))
        .await;
    assert_eq!(b.recv().await["code"], "forbidden");
    let react = format!("/api/chat/rooms/{room}/messages/{id}/react/");
    let r = app.post(&react, &bob.token, json!({"emoji": "👍"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(r.body["detail"].is_string());
    let read = format!("/api/chat/rooms/{room}/messages/{id}/mark_read/");
    assert_eq!(
        app.post(&read, &bob.token, json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(messages(&app, room).await.len(), 1, "nothing posted");
    // A deactivated room takes no more messages from anyone.
    let gone = app
        .delete(&format!("/api/chat/rooms/{room}"), &ann.token)
        .await;
    assert!(gone.status.is_success(), "{:?}", gone.body);
    let mut a = room_socket(&app, &ann, room).await;
    a.send(json!({"type": "message", "content": "still here?"}))
        .await;
    assert_eq!(a.recv().await["type"], "error");
    assert_eq!(messages(&app, room).await.len(), 1);
}

#[actix_rt::test]
async fn others_joining_and_leaving_the_room_are_announced() {
    let app = spawn_app_with(|s| s.realtime.presence_grace_secs = 0).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = room_socket(&app, &ann, room).await;
    let b = room_socket(&app, &bob, room).await;
    let joined = next_of(&mut a, "user_joined").await;
    assert_eq!(joined["user_id"], bob.id.to_string());
    assert_eq!(joined["user"], "bob", "the e-mail, else the username");
    b.close().await;
    let left = next_of(&mut a, "user_left").await;
    assert_eq!(left["user_id"], bob.id.to_string());
    assert_eq!(left["user"], "bob");
    // Nobody is told about themselves.
    let rest = a.drain(300).await;
    assert!(
        rest.iter().all(|f| f["user_id"] != ann.id.to_string()),
        "{rest:?}"
    );
}
