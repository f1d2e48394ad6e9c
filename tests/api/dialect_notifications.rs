//! Seeds 000/002's multiplexed socket `/ws/chat/{tenant_id}/` against the real server: every
//! documented client frame and the server frames with the fields their examples read, the three
//! ways of giving the token (header, `?token=`, the first frame), bad frames and other tenants
//! changing nothing, and a message sent through it reaching native and seed-004 clients once,
//! in seq order.

use actix_http::ws::CloseCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::dialect_notifications_rest::{conv, conversation, upload, BASE};
use crate::helpers::*;
use crate::sql::count;

fn tenant_path(user: &User) -> String {
    format!("/ws/chat/{}/", user.tenant_id)
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

/// A socket opened with the token in its first frame, once it is established.
async fn first_frame_socket(app: &TestApp, user: &User) -> Ws {
    let mut ws = app
        .ws_dialect(&tenant_path(user), None)
        .await
        .expect("accepted without a token");
    ws.send(json!({"type": "authenticate", "token": user.token}))
        .await;
    let hello = next_of(&mut ws, "connection_established").await;
    assert_eq!(hello["user_id"], user.id.to_string());
    ws
}

/// Joins (000's `join_conversation`) and waits for the ack.
async fn join(ws: &mut Ws, conversation: Uuid) {
    let ack = ws
        .request(json!({"type": "join_conversation", "conversation_id": conversation}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

#[actix_rt::test]
async fn documented_frames_flow_between_members_of_a_conversation() {
    let (app, _dir) = crate::uploads::app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = conversation(&app, &ann, &[&bob, &carol]).await;
    // 002: the token in the URL; 000: in the headers, or in the first frame.
    let url = format!("{}?token={}", tenant_path(&ann), ann.token);
    let mut a = app.ws_dialect(&url, None).await.expect("?token=");
    let hello = next_of(&mut a, "connection_established").await;
    assert_eq!(hello["message"], "Connected to chat service");
    assert_eq!(hello["user_id"], ann.id.to_string());
    assert_eq!(hello["tenant_id"], ann.tenant_id.to_string());
    assert!(hello["timestamp"].is_string());
    let mut b = app
        .ws_dialect(&tenant_path(&bob), Some(&bob.token))
        .await
        .expect("header");
    next_of(&mut b, "connection_established").await;
    let mut c = first_frame_socket(&app, &carol).await;
    for (ws, who) in [(&mut a, "ann"), (&mut b, "bob"), (&mut c, "carol")] {
        join(ws, id).await;
        let _ = who;
    }

    let send = json!({"type": "send_message", "conversation_id": id, "content": "Hello world!", "message_type": "text"});
    a.send(send).await;
    let mut first = Value::Null;
    for ws in [&mut a, &mut b, &mut c] {
        let m = next_of(ws, "new_message").await;
        let msg = &m["message"];
        assert_eq!(msg["sender_id"], ann.id.to_string());
        assert_eq!(msg["content"], "Hello world!");
        assert_eq!(msg["message_type"], "text");
        assert!(msg["created_at"].is_string() && msg["id"].is_string());
        assert_eq!(msg["reactions"], json!([]));
        assert_eq!(msg["conversation"], id.to_string());
        first = msg.clone();
    }
    let mid = first["id"].as_str().unwrap().to_owned();

    b.send(json!({"type": "start_typing", "conversation_id": id}))
        .await;
    let t = next_of(&mut a, "typing_indicator").await;
    assert_eq!(
        (t["user_id"].clone(), t["is_typing"].clone()),
        (json!(bob.id), json!(true))
    );
    b.send(json!({"type": "stop_typing", "conversation_id": id}))
        .await;
    assert_eq!(
        next_of(&mut a, "typing_indicator").await["is_typing"],
        false
    );

    b.send(json!({"type": "add_reaction", "message_id": mid, "emoji": "👍"}))
        .await;
    let r = next_of(&mut a, "reaction_added").await;
    assert_eq!(r["reaction"]["message_id"], mid.as_str());
    assert_eq!(r["reaction"]["user_id"], bob.id.to_string());
    assert_eq!(r["reaction"]["emoji"], "👍");
    assert!(r["reaction"]["created_at"].is_string());
    b.send(json!({"type": "remove_reaction", "message_id": mid, "emoji": "👍"}))
        .await;
    let r = next_of(&mut a, "reaction_removed").await;
    assert_eq!(r["message_id"], mid.as_str());
    assert_eq!(r["user_id"], bob.id.to_string());
    assert_eq!(r["emoji"], "👍");

    let ack = b
        .request(json!({"type": "mark_read", "conversation_id": id}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let read = format!(
        "SELECT count(*) AS n FROM room_members WHERE room_id = '{id}' AND user_id = '{}' AND last_read_seq > 0",
        bob.id
    );
    assert_eq!(count(&app, &read).await, 1);
    let ack = c
        .request(json!({"type": "update_presence", "status": "away"}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    // Edits and deletes (over 000's REST) reach the socket as message_updated / message_deleted.
    let one = format!("{}messages/{mid}/", conv(id));
    app.put(&one, &ann.token, json!({"content": "Hello, edited"}))
        .await;
    let u = next_of(&mut b, "message_updated").await;
    assert_eq!(u["message"]["id"], mid.as_str());
    assert_eq!(u["message"]["content"], "Hello, edited");
    assert!(u["message"]["edited_at"].is_string());
    app.delete(&one, &ann.token).await;
    assert_eq!(
        next_of(&mut b, "message_deleted").await["message_id"],
        mid.as_str()
    );

    // 000's upload snippet: upload, then send_message with the answer's file fields.
    let up = upload(&app, &carol.token, "document.pdf", b"%PDF-1.4 x").await;
    let file = json!({"type": "send_message", "conversation_id": id,
        "content": format!("Shared a file: {}", up.body["file_name"].as_str().unwrap()),
        "message_type": "file", "file_url": up.body["file_url"], "file_name": up.body["file_name"],
        "file_size": up.body["file_size"]});
    c.send(file).await;
    let f = next_of(&mut a, "new_message").await;
    assert_eq!(f["message"]["message_type"], "file");
    assert_eq!(f["message"]["file_name"], "document.pdf");
    assert_eq!(f["message"]["file_size"], 10);
    assert_eq!(f["message"]["file_url"], up.body["file_url"]);
}

#[actix_rt::test]
async fn bad_frames_and_other_tenants_answer_errors_and_change_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let eve = app.register("eve").await;
    let id = conversation(&app, &ann, &[]).await;
    let mut a = first_frame_socket(&app, &ann).await;
    let oz = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let theirs = {
        let oz_user = app
            .send("GET", &format!("{BASE}/presence/me/"), Some(&oz), None)
            .await;
        assert_eq!(oz_user.status.as_u16(), 200);
        let c = app
            .post(
                &format!("{BASE}/conversations/"),
                &oz,
                json!({"title": "theirs"}),
            )
            .await;
        c.body["id"].as_str().unwrap().to_owned()
    };
    let too_long = "x".repeat(app.settings.limits.max_message_chars + 1);
    let bad = [
        json!({"type": "send_message", "conversation_id": id, "content": ""}),
        json!({"type": "send_message", "conversation_id": id, "content": too_long}),
        json!({"type": "send_message", "conversation_id": id, "content": "f", "message_type": "file",
            "file_url": "/media/chat-files/doc.pdf"}),
        json!({"type": "send_message", "conversation_id": theirs, "content": "hi"}),
        json!({"type": "join_conversation", "conversation_id": theirs}),
        json!({"type": "add_reaction", "message_id": Uuid::new_v4(), "emoji": "👍"}),
        json!({"type": "update_presence", "status": "asleep"}),
        json!({"type": "no_such_frame"}),
    ];
    for frame in bad {
        let e = a.request(frame.clone()).await;
        assert_eq!(e["type"], "error", "{frame}: {e}");
        assert!(
            e["message"].is_string() && e["error"]["code"].is_string(),
            "{e}"
        );
    }
    // eve (same tenant, not a member) can neither join nor send.
    let mut e = app
        .ws_dialect(&tenant_path(&eve), Some(&eve.token))
        .await
        .unwrap();
    let refused = e
        .request(json!({"type": "send_message", "conversation_id": id, "content": "hi"}))
        .await;
    assert_eq!(refused["error"]["code"], "not_found", "{refused}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 0);
    // Another tenant's id in the path: 404 (with a token), 401 (without).
    let other = format!("/ws/chat/{}/", Uuid::new_v4());
    assert_eq!(
        app.ws_dialect(&other, Some(&ann.token)).await.err(),
        Some(404)
    );
    assert_eq!(app.ws_dialect(&other, None).await.err(), Some(401));
}

#[actix_rt::test]
async fn a_token_in_the_first_frame_is_checked_like_any_other() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = conversation(&app, &ann, &[]).await;
    let oz = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let svc = app.platform_token(Uuid::new_v4(), ann.tenant_id, "course", Role::Service);
    let refusals = [
        (
            json!({"type": "join_conversation", "conversation_id": id}),
            "unauthorized",
        ),
        (
            json!({"type": "authenticate", "token": "not.a.jwt"}),
            "unauthorized",
        ),
        (json!({"type": "authenticate", "token": oz}), "not_found"),
        (json!({"type": "authenticate", "token": svc}), "forbidden"),
    ];
    for (frame, code) in refusals {
        let mut ws = app.ws_dialect(&tenant_path(&ann), None).await.unwrap();
        ws.send(frame.clone()).await;
        let (frames, closed) = ws.until_closed().await;
        assert_eq!(frames.len(), 1, "{frame}: {frames:?}");
        assert_eq!(frames[0]["type"], "error");
        assert_eq!(frames[0]["error"]["code"], code, "{frame}");
        assert!(frames[0]["message"].is_string());
        let policy: u16 = CloseCode::Policy.into();
        assert!(
            matches!(closed, Closed::Code(c, _) if c == policy),
            "{closed:?}"
        );
    }
    // A frame carrying the token is also the first frame the session reads.
    let mut ws = app.ws_dialect(&tenant_path(&ann), None).await.unwrap();
    ws.send(
        json!({"type": "join_conversation", "conversation_id": id, "token": ann.token, "ref": "j"}),
    )
    .await;
    next_of(&mut ws, "connection_established").await;
    let ack = next_of(&mut ws, "ack").await;
    assert_eq!(ack["ref"], "j");
    ws.send(json!({"type": "send_message", "conversation_id": id, "content": "in"}))
        .await;
    next_of(&mut ws, "new_message").await;
    // The token again on an authenticated socket changes nothing: a pong.
    ws.send(json!({"type": "authenticate", "token": ann.token}))
        .await;
    next_of(&mut ws, "pong").await;
}

#[actix_rt::test]
async fn a_message_sent_through_the_multiplexed_socket_reaches_every_dialect_once_in_order() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = conversation(&app, &ann, &[&bob]).await;
    let mut native = app.ws(&bob.token).await;
    let ack = native
        .request(json!({"type": "join_room", "room_id": id}))
        .await;
    assert_eq!(ack["type"], "ack");
    let mut drf = app
        .ws_dialect(&format!("/ws/chat/{id}/"), Some(&bob.token))
        .await
        .unwrap();
    let mut seed = first_frame_socket(&app, &ann).await;
    join(&mut seed, id).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for n in 0..5 {
        let frame =
            json!({"type": "send_message", "conversation_id": id, "content": format!("m{n}")});
        seed.send(frame).await;
    }
    let expect: Vec<String> = (0..5).map(|n| format!("m{n}")).collect();
    let native_got = contents(&mut native, "new_message", 5).await;
    let drf_got = contents(&mut drf, "message", 5).await;
    let seed_got = contents(&mut seed, "new_message", 5).await;
    for got in [&native_got, &drf_got, &seed_got] {
        assert_eq!(
            got.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            expect
        );
        let seqs: Vec<i64> = got.iter().map(|(_, s)| *s).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }
}

/// The contents and seqs of the messages a socket got (frames of `ty`): waits up to 15 s for
/// `n` of them (a loaded machine may pause longer than a quiet gap), then 500 ms more for any
/// extra (a double).
async fn contents(ws: &mut Ws, ty: &str, n: usize) -> Vec<(String, i64)> {
    let mut frames = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while frames.len() < n && std::time::Instant::now() < deadline {
        frames.extend(ws.drain(200).await.into_iter().filter(|f| f["type"] == ty));
    }
    frames.extend(ws.drain(500).await.into_iter().filter(|f| f["type"] == ty));
    frames
        .iter()
        .map(|f| {
            let m = &f["message"];
            (
                m["content"].as_str().unwrap().to_owned(),
                m["seq"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[actix_rt::test]
async fn a_silent_or_oversized_socket_is_closed() {
    let app = spawn_app_with(|s| s.auth.ws_ticket_ttl_secs = 1).await;
    let ann = app.register("ann").await;
    // No token in time: an error, then close 1008.
    let mut silent = app.ws_dialect(&tenant_path(&ann), None).await.unwrap();
    let (frames, closed) = silent.until_closed().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["error"]["code"], "unauthorized");
    let policy: u16 = CloseCode::Policy.into();
    assert!(
        matches!(closed, Closed::Code(c, _) if c == policy),
        "{closed:?}"
    );
    // A frame over `limits.max_frame_bytes` closes the socket with 1009, as natively.
    let mut a = app
        .ws_dialect(&tenant_path(&ann), Some(&ann.token))
        .await
        .unwrap();
    next_of(&mut a, "connection_established").await;
    let big = "x".repeat(app.settings.limits.max_frame_bytes + 1);
    a.send_raw(big).await;
    let (_, closed) = a.until_closed().await;
    let size: u16 = CloseCode::Size.into();
    assert!(
        matches!(closed, Closed::Code(c, _) if c == size),
        "{closed:?}"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 0);
}
