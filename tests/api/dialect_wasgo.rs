//! Seed 003 (Wasgo) through its dialect: the per-conversation socket `ws/chat/{id}/` with 003's
//! frames (by `?dialect=wasgo` and by the `dialects.room_socket` setting), `ws/notifications/`,
//! bad frames, strangers, other tenants and missing tokens.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::{count, messages};

fn chat_path(room: Uuid) -> String {
    format!("/ws/chat/{room}/?dialect=wasgo")
}

/// The next frame of `ty`, failing on an `error` frame.
pub async fn next_of(ws: &mut Ws, ty: &str) -> Value {
    loop {
        let v = ws.recv().await;
        assert_ne!(v["type"], "error", "{v}");
        if v["type"] == ty {
            return v;
        }
    }
}

/// A participant's conversation socket, once subscribed.
async fn chat_socket(app: &TestApp, user: &User, path: &str) -> Ws {
    let ws = app
        .ws_dialect(path, Some(&user.token))
        .await
        .expect("conversation socket opens");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    ws
}

#[actix_rt::test]
async fn documented_frames_flow_between_two_participants() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = chat_socket(&app, &ann, &chat_path(room)).await;
    let mut b = chat_socket(&app, &bob, &chat_path(room)).await;

    // "Send message", verbatim but for the optional fields.
    a.send(json!({"type": "send_message", "content": "Hello!", "message_type": "text", "metadata": {}}))
        .await;
    let mut id = String::new();
    for ws in [&mut a, &mut b] {
        let m = next_of(ws, "new_message").await;
        let msg = &m["message"];
        assert_eq!(msg["content"], "Hello!");
        assert_eq!(msg["sender_id"], ann.id.to_string());
        assert_eq!(msg["sender"]["username"], "ann");
        assert_eq!(msg["conversation"], room.to_string());
        assert_eq!(msg["message_type"], "text");
        assert_eq!(msg["is_edited"], false);
        assert!(msg["timestamp"].is_string() && msg["created_at"].is_string());
        id = msg["id"].as_str().unwrap().to_owned();
    }
    b.send(
        json!({"type": "send_message", "content": "re", "message_type": "text", "reply_to": id}),
    )
    .await;
    let reply = next_of(&mut a, "new_message").await;
    assert_eq!(reply["message"]["reply_to"], id);
    next_of(&mut b, "new_message").await;

    b.send(json!({"type": "typing", "is_typing": true})).await;
    let t = next_of(&mut a, "typing").await;
    assert_eq!(
        t,
        json!({"type": "typing", "user_id": bob.id, "username": "bob", "is_typing": true})
    );
    b.send(json!({"type": "typing", "is_typing": false})).await;
    assert_eq!(next_of(&mut a, "typing").await["is_typing"], false);

    b.send(json!({"type": "mark_read", "message_ids": [id]}))
        .await;
    let r = next_of(&mut a, "messages_read").await;
    assert_eq!(r["user_id"], bob.id.to_string());
    assert_eq!(r["message_ids"], json!([id]));

    a.send(json!({"type": "edit_message", "message_id": id, "content": "Updated content"}))
        .await;
    let e = next_of(&mut b, "message_edited").await;
    assert_eq!(e["message"]["content"], "Updated content");
    assert_eq!(e["message"]["is_edited"], true);

    for action in ["added", "removed"] {
        b.send(json!({"type": "react", "message_id": id, "emoji": "👍"}))
            .await;
        let u = next_of(&mut a, "reaction_update").await;
        assert_eq!(
            u,
            json!({"type": "reaction_update", "message_id": id, "user_id": bob.id,
                   "username": "bob", "emoji": "👍", "action": action})
        );
    }

    a.send(json!({"type": "delete_message", "message_id": id}))
        .await;
    let d = next_of(&mut b, "message_deleted").await;
    assert_eq!(d, json!({"type": "message_deleted", "message_id": id}));
    let own = a.drain(200).await;
    assert!(own.iter().all(|f| f["type"] != "typing"), "{own:?}");
}

#[actix_rt::test]
async fn the_setting_makes_wasgo_the_default_of_the_room_socket() {
    let app = spawn_app_with(|s| s.dialects.room_socket = "wasgo".into()).await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let path = format!("/ws/chat/{room}/?token={}", ann.token);
    let mut a = app.ws_dialect(&path, None).await.expect("token in URL");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    a.send(json!({"type": "send_message", "content": "Hello!", "message_type": "text"}))
        .await;
    assert_eq!(
        next_of(&mut a, "new_message").await["message"]["content"],
        "Hello!"
    );
    // `?dialect=drf` still picks 004's frames on this server.
    let drf = format!("/ws/chat/{room}/?dialect=drf");
    let mut d = chat_socket(&app, &ann, &drf).await;
    d.send(json!({"type": "message", "content": "004"})).await;
    assert_eq!(
        next_of(&mut d, "message").await["message"]["content"],
        "004"
    );
}

#[actix_rt::test]
async fn bad_frames_answer_errors_and_change_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = chat_socket(&app, &ann, &chat_path(room)).await;
    let too_long = "x".repeat(app.settings.limits.max_message_chars + 1);
    let ghost = Uuid::new_v4();
    let bad = [
        json!({"type": "send_message", "content": "", "message_type": "text"}),
        json!({"type": "send_message", "content": too_long}),
        json!({"type": "send_message", "content": "x", "message_type": "sticker"}),
        json!({"type": "send_message", "content": "x", "reply_to": "message_id"}),
        json!({"type": "mark_read", "message_ids": []}),
        json!({"type": "mark_read", "message_ids": [ghost]}),
        json!({"type": "mark_read", "message_ids": ["id1", "id2"]}),
        json!({"type": "edit_message", "message_id": ghost, "content": "x"}),
        json!({"type": "delete_message", "message_id": ghost}),
        json!({"type": "react", "message_id": ghost, "emoji": "👍"}),
        json!({"type": "react", "message_id": ghost, "emoji": "x".repeat(200)}),
        json!({"type": "join_room", "room_id": room}),
    ];
    for frame in bad {
        a.send(frame.clone()).await;
        let e = a.recv_type("error").await;
        assert!(
            e["message"].is_string() && e["code"].is_string(),
            "{frame}: {e}"
        );
    }
    for text in ["not json", "[1]"] {
        a.send_raw(text.into()).await;
        assert_eq!(a.recv_type("error").await["type"], "error", "{text}");
    }
    assert!(messages(&app, room).await.is_empty());
    // Bob's socket: an edit of Ann's message is refused.
    let id = app
        .post_message(room, &ann.token, json!({"content": "mine"}))
        .await
        .body["id"]
        .clone();
    let mut b = chat_socket(&app, &bob, &chat_path(room)).await;
    b.send(json!({"type": "edit_message", "message_id": id, "content": "his"}))
        .await;
    assert_eq!(b.recv_type("error").await["code"], "forbidden");
    let unchanged = "SELECT count(*) AS n FROM messages WHERE content = 'mine'";
    assert_eq!(count(&app, unchanged).await, 1);
}

#[actix_rt::test]
async fn sockets_refuse_strangers_other_tenants_and_no_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let eve = app.register("eve").await;
    let room = app.room(&ann, "group", &[]).await;
    let other_tenant = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let path = chat_path(room);
    assert_eq!(app.ws_dialect(&path, None).await.err(), Some(401));
    assert_eq!(
        app.ws_dialect(&path, Some(&eve.token)).await.err(),
        Some(404)
    );
    assert_eq!(
        app.ws_dialect(&path, Some(&other_tenant)).await.err(),
        Some(404)
    );
    let unknown = chat_path(Uuid::new_v4());
    assert_eq!(
        app.ws_dialect(&unknown, Some(&ann.token)).await.err(),
        Some(404)
    );
    assert_eq!(
        app.ws_dialect("/ws/notifications/", None).await.err(),
        Some(401)
    );
}

#[actix_rt::test]
async fn notifications_tell_of_messages_in_any_conversation_and_new_ones() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut n = chat_socket(&app, &bob, "/ws/notifications/").await;
    let mut spy = chat_socket(&app, &eve, "/ws/notifications/").await;
    app.post_message(room, &ann.token, json!({"content": "ping bob"}))
        .await;
    let note = next_of(&mut n, "notification").await;
    let body = &note["notification"];
    assert_eq!(body["notification_type"], "new_message");
    assert_eq!(body["conversation_id"], room.to_string());
    assert_eq!(body["message"], "ping bob");
    assert_eq!(body["data"]["message"]["sender_id"], ann.id.to_string());
    let second = app.room(&ann, "group", &[&bob]).await;
    let added = next_of(&mut n, "notification").await;
    assert_eq!(
        added["notification"]["notification_type"],
        "conversation_added"
    );
    assert_eq!(added["notification"]["conversation_id"], second.to_string());
    n.send(json!({"type": "subscribe"})).await;
    assert_eq!(n.recv_type("error").await["type"], "error");
    // Eve is in neither conversation: she hears nothing.
    assert!(spy
        .drain(300)
        .await
        .iter()
        .all(|f| f["type"] != "notification"));
}

#[actix_rt::test]
async fn messages_cross_dialects_once_each_in_seq_order() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut native = app.ws(&bob.token).await;
    let ack = native
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut drf = chat_socket(&app, &bob, &format!("/ws/chat/{room}/?dialect=drf")).await;
    let mut wasgo = chat_socket(&app, &bob, &chat_path(room)).await;
    let mut a = chat_socket(&app, &ann, &chat_path(room)).await;
    let mut d = chat_socket(&app, &ann, &format!("/ws/chat/{room}/?dialect=drf")).await;
    // 003's socket, 004's socket and REST (001 and 003's /chat/messages/) interleaved.
    for i in 0..6 {
        let content = format!("m{i}");
        match i % 3 {
            0 => {
                a.send(json!({"type": "send_message", "content": content, "message_type": "text"}))
                    .await
            }
            1 => d.send(json!({"type": "message", "content": content})).await,
            _ => {
                let body = json!({"conversation": room, "content": content});
                assert_eq!(
                    app.post("/chat/messages/", &ann.token, body).await.status,
                    StatusCode::CREATED
                );
            }
        }
        // Each send is answered before the next goes, so the seq order is the send order.
        next_of(&mut a, "new_message").await;
    }
    let (mut n_seqs, mut d_seqs, mut w_seqs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..6 {
        let content = format!("m{i}");
        let n = native.recv_type("new_message").await;
        assert_eq!(n["message"]["content"], content);
        n_seqs.push(seq(&n));
        let f = next_of(&mut drf, "message").await;
        assert_eq!(f["message"]["content"], content);
        d_seqs.push(f["message"]["seq"].as_i64().unwrap());
        let w = next_of(&mut wasgo, "new_message").await;
        assert_eq!(w["message"]["content"], content);
        w_seqs.push(w["message"]["seq"].as_i64().unwrap());
    }
    assert!(n_seqs.windows(2).all(|w| w[0] < w[1]), "{n_seqs:?}");
    assert_eq!(n_seqs, d_seqs);
    assert_eq!(n_seqs, w_seqs);
    for extra in [
        native.drain(300).await,
        drf.drain(100).await,
        wasgo.drain(100).await,
    ] {
        assert!(
            extra
                .iter()
                .all(|f| f["type"] != "new_message" && f["type"] != "message"),
            "{extra:?}"
        );
    }
}
