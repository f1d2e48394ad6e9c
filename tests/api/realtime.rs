//! The WebSocket protocol against the real server and Postgres: delivery, order, dedup, resume,
//! typing, presence, and everything a client may get wrong.

use std::collections::HashSet;
use std::time::Duration;

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::count;

/// The next presence_update about `user`.
async fn presence_of(ws: &mut Ws, user: Uuid) -> Value {
    loop {
        let p = ws.recv_type("presence_update").await;
        if p["presence"]["user_id"] == user.to_string() {
            return p;
        }
    }
}

async fn joined(app: &TestApp, user: &User, room: Uuid) -> Ws {
    let mut ws = app.ws(&user.token).await;
    let ack = ws
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws
}

#[actix_rt::test]
async fn two_members_see_each_others_changes_each_with_the_next_seq() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let mut b = joined(&app, &bob, room).await;

    let ack = a
        .request(with(send_frame(room, "hello"), "client_id", "c1"))
        .await;
    assert_eq!(ack["type"], "ack");
    let s1 = seq(&ack["message"]);
    assert_eq!(ack["seq"], s1);
    assert_eq!(ack["message"]["client_id"], "c1");
    let got = b.recv_type("new_message").await;
    assert_eq!(got["seq"], s1);
    assert_eq!(got["room_id"], room.to_string());
    assert_eq!(got["message"]["content"], "hello");
    assert_eq!(got["message"]["sender"]["display_name"], "ann");
    let mid = got["message"]["id"].as_str().unwrap().to_owned();

    let ack = a
        .request(json!({"type": "edit_message", "message_id": mid, "content": "hello, bob"}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let up = b.recv_type("message_updated").await;
    assert_eq!(seq(&up), s1 + 1);
    assert_eq!(up["message"]["content"], "hello, bob");
    assert!(up["message"]["edited_at"].is_string());

    let ack = b
        .request(json!({"type": "add_reaction", "message_id": mid, "emoji": "👍"}))
        .await;
    assert_eq!(ack["seq"], s1 + 2);
    let r = a.recv_type("reaction_added").await;
    assert_eq!(seq(&r), s1 + 2);
    assert_eq!(r["reaction"]["emoji"], "👍");
    assert_eq!(r["reaction"]["user_id"], bob.id.to_string());

    b.request(json!({"type": "remove_reaction", "message_id": mid, "emoji": "👍"}))
        .await;
    let r = a.recv_type("reaction_removed").await;
    assert_eq!(seq(&r), s1 + 3);
    assert_eq!(r["emoji"], "👍");

    let ack = b
        .request(json!({"type": "mark_read", "room_id": room}))
        .await;
    assert_eq!(ack["last_read_seq"], s1 + 3);
    assert_eq!(ack["unread_count"], 0);
    let rr = a.recv_type("read_receipt").await;
    assert_eq!(seq(&rr), s1 + 4);
    assert_eq!(rr["user_id"], bob.id.to_string());
    assert_eq!(rr["last_read_seq"], s1 + 3);

    let ack = a
        .request(json!({"type": "delete_message", "message_id": mid}))
        .await;
    assert_eq!(ack["type"], "ack");
    let d = b.recv_type("message_deleted").await;
    assert_eq!(seq(&d), s1 + 5);
    assert_eq!(d["message_id"], mid);

    // The tombstone keeps nothing.
    let h = app.get(&messages_path(room), &bob.token).await;
    assert_eq!(h.body["results"][0]["is_deleted"], true);
    assert_eq!(h.body["results"][0]["content"], "");
    // Nor its edit history (redaction: see tests/api/redaction.rs).
    let edits = count(&app, "SELECT count(*) AS n FROM message_edits").await;
    assert_eq!(edits, 0);
}

#[actix_rt::test]
async fn twenty_concurrent_senders_reach_everyone_once_in_one_gap_free_order() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(app.register(&format!("user{i:02}")).await);
    }
    let others: Vec<&User> = users[1..].iter().collect();
    let room = app.room(&users[0], "group", &others).await;
    let mut sockets = Vec::new();
    for u in &users {
        sockets.push(joined(&app, u, room).await);
    }
    const EACH: usize = 10;
    let total = EACH * users.len();
    // Every client sends its messages without waiting for acks, all at once.
    for (i, ws) in sockets.iter_mut().enumerate() {
        for k in 0..EACH {
            ws.send(with(
                send_frame(room, format!("m {i} {k}")),
                "client_id",
                format!("{i}-{k}"),
            ))
            .await;
        }
    }
    let mut orders = Vec::new();
    for ws in sockets.iter_mut() {
        let mut seen = Vec::new();
        while seen.len() < total {
            let f = ws.recv().await;
            if f["type"] == "new_message" {
                seen.push((seq(&f), f["message"]["id"].as_str().unwrap().to_owned()));
            } else {
                assert!(
                    f["type"] == "ack" || f["type"] == "presence_update",
                    "unexpected {f}"
                );
            }
        }
        orders.push(seen);
    }
    let first = &orders[0];
    let seqs: Vec<i64> = first.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=total as i64).collect::<Vec<_>>(),
        "gap-free and in order"
    );
    let ids: HashSet<&String> = first.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), total, "each once");
    for o in &orders[1..] {
        assert_eq!(o, first, "every client sees the same order");
    }
    for ws in sockets.iter_mut() {
        assert!(
            ws.drain(300)
                .await
                .iter()
                .all(|f| f["type"] != "new_message"),
            "no duplicates"
        );
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM messages").await,
        total as i64
    );
    assert_eq!(
        count(&app, "SELECT count(DISTINCT seq) AS n FROM messages").await,
        total as i64
    );
    assert_eq!(
        count(&app, "SELECT max(seq) AS n FROM messages").await,
        total as i64
    );
}

#[actix_rt::test]
async fn a_resent_client_id_creates_one_message_even_after_a_restart() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let first = a
        .request(with(send_frame(room, "once"), "client_id", "dup-1"))
        .await;
    let again = a
        .request(with(send_frame(room, "once"), "client_id", "dup-1"))
        .await;
    assert_eq!(again["type"], "ack");
    assert_eq!(again["message"]["id"], first["message"]["id"]);
    assert_eq!(again["duplicate"], true);
    let other = a
        .request(with(send_frame(room, "different"), "client_id", "dup-1"))
        .await;
    assert_eq!(other["type"], "error");
    assert_eq!(other["error"]["code"], "conflict");
    a.close().await;

    let app = app.restart().await;
    let mut a = joined(&app, &ann, room).await;
    let after = a
        .request(with(send_frame(room, "once"), "client_id", "dup-1"))
        .await;
    assert_eq!(after["message"]["id"], first["message"]["id"]);
    // Over REST too.
    let rest = app
        .post(
            &messages_path(room),
            &ann.token,
            json!({"content": "once", "client_id": "dup-1"}),
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK);
    assert_eq!(rest.body["id"], first["message"]["id"]);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 1);
}

#[actix_rt::test]
async fn a_client_that_was_away_resumes_exactly_what_it_missed() {
    let app = spawn_app_with(|s| s.limits.max_resume_events = 100).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let mut b = joined(&app, &bob, room).await;
    let ack = a.request(send_frame(room, "before")).await;
    let last_seen = seq(&ack);
    b.recv_type("new_message").await;
    b.close().await;

    let mut ids = Vec::new();
    for i in 0..50 {
        let ack = a.request(send_frame(room, format!("missed {i}"))).await;
        ids.push(ack["message"]["id"].as_str().unwrap().to_owned());
    }
    for id in ids.iter().take(5) {
        a.request(json!({"type": "edit_message", "message_id": id, "content": "edited"}))
            .await;
    }
    let mut b = app.ws(&bob.token).await;
    let ack = b
        .request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": last_seen}]}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut got = Vec::new();
    loop {
        let f = b.recv().await;
        if f["type"] == "resumed" {
            assert_eq!(f["last_seq"], last_seen + 55);
            break;
        }
        if f.get("seq").is_some() {
            got.push(f); // room events; presence updates may come between
        }
    }
    assert_eq!(got.len(), 55);
    let seqs: Vec<i64> = got.iter().map(seq).collect();
    assert_eq!(
        seqs,
        ((last_seen + 1)..=(last_seen + 55)).collect::<Vec<_>>()
    );
    assert!(got[..50].iter().all(|f| f["type"] == "new_message"));
    assert!(got[50..].iter().all(|f| f["type"] == "message_updated"));
    // And it is live again: the next message arrives once.
    a.request(send_frame(room, "live")).await;
    let live = b.recv_type("new_message").await;
    assert_eq!(seq(&live), last_seen + 56);
    assert!(b
        .drain(300)
        .await
        .iter()
        .all(|f| f["type"] != "new_message"));

    // Beyond the window: resync_required instead of a replay.
    for i in 0..101 {
        app.post(
            &messages_path(room),
            &ann.token,
            json!({"content": format!("flood {i}")}),
        )
        .await;
    }
    let mut c = app.ws(&bob.token).await;
    c.request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": last_seen + 56}]}))
        .await;
    let f = c.recv_type("resync_required").await;
    assert_eq!(f["last_seq"], last_seen + 157);
}

#[actix_rt::test]
async fn typing_shows_to_others_and_ends_by_itself() {
    let app = spawn_app_with(|s| s.realtime.typing_timeout_secs = 1).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let mut b = joined(&app, &bob, room).await;
    a.send(json!({"type": "start_typing", "room_id": room}))
        .await;
    let t = b.recv_type("typing_indicator").await;
    assert_eq!(t["user_id"], ann.id.to_string());
    assert_eq!(t["is_typing"], true);
    let users = app
        .get(&format!("/api/chat/rooms/{room}/typing"), &bob.token)
        .await;
    assert_eq!(users.body["user_ids"], json!([ann.id]));
    // No renewal: it ends by itself.
    let t = b.recv_type("typing_indicator").await;
    assert_eq!(t["is_typing"], false);
    // The typist does not hear their own typing; typing is never stored.
    assert!(a
        .drain(200)
        .await
        .iter()
        .all(|f| f["type"] != "typing_indicator"));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM room_events").await,
        0
    );
    // Stop is immediate.
    a.send(json!({"type": "start_typing", "room_id": room}))
        .await;
    b.recv_type("typing_indicator").await;
    a.send(json!({"type": "stop_typing", "room_id": room}))
        .await;
    assert_eq!(b.recv_type("typing_indicator").await["is_typing"], false);
}

#[actix_rt::test]
async fn presence_goes_online_away_and_offline_after_the_grace_across_tabs() {
    let app = spawn_app_with(|s| s.realtime.presence_grace_secs = 1).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    app.room(&ann, "group", &[&bob]).await;
    let mut b = app.ws(&bob.token).await;
    let tab1 = app.ws(&ann.token).await;
    let p = presence_of(&mut b, ann.id).await;
    assert_eq!(p["presence"]["status"], "online");
    let mut tab2 = app.ws(&ann.token).await;
    let ack = tab2
        .request(json!({"type": "update_presence", "status": "away"}))
        .await;
    assert_eq!(ack["presence"]["status"], "away");
    let p = presence_of(&mut b, ann.id).await;
    assert_eq!(p["presence"]["status"], "away");
    let q = app
        .get(
            &format!("/api/chat/presence?user_ids={}", ann.id),
            &bob.token,
        )
        .await;
    assert_eq!(q.body["results"][0]["status"], "away", "{:?}", q.body);
    // One tab closes: still there.
    tab1.close().await;
    let quiet = b.drain(1800).await;
    assert!(
        quiet
            .iter()
            .all(|f| f["presence"]["user_id"] != ann.id.to_string()),
        "{quiet:?}"
    );
    // The last closes: offline after the grace.
    tab2.close().await;
    let p = presence_of(&mut b, ann.id).await;
    assert_eq!(p["presence"]["status"], "offline");
    let q = app
        .get(
            &format!("/api/chat/presence?user_ids={}", ann.id),
            &bob.token,
        )
        .await;
    assert_eq!(q.body["results"][0]["status"], "offline");
    assert!(q.body["results"][0]["last_seen"].is_string());
}

#[actix_rt::test]
async fn non_members_and_other_tenants_get_not_found_and_nothing_is_stored() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let ack = a.request(send_frame(room, "secret")).await;
    let mid = ack["message"]["id"].as_str().unwrap().to_owned();
    let before = count(&app, "SELECT count(*) AS n FROM room_events").await;

    let outsider = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Mallory", Role::User);
    for token in [&eve.token, &outsider] {
        let mut e = app.ws(token).await;
        for frame in [
            json!({"type": "join_room", "room_id": room}),
            send_frame(room, "hi"),
            json!({"type": "add_reaction", "message_id": mid, "emoji": "👍"}),
            json!({"type": "add_reaction", "message_id": mid, "emoji": "👍", "room_id": room}),
            json!({"type": "mark_read", "room_id": room}),
            json!({"type": "edit_message", "message_id": mid, "content": "x"}),
            json!({"type": "delete_message", "message_id": mid}),
            json!({"type": "start_typing", "room_id": room, "ref": "t"}),
            json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": 0}]}),
        ] {
            let r = e.request(frame.clone()).await;
            assert_eq!(r["type"], "error", "{frame}: {r}");
            assert_eq!(r["error"]["code"], "not_found", "{frame}: {r}");
        }
        assert!(e
            .drain(200)
            .await
            .iter()
            .all(|f| f["type"] != "new_message"));
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM room_events").await,
        before
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 1);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM reactions").await, 0);
}

#[actix_rt::test]
async fn observers_and_channel_members_may_not_post() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let olga = app.register("olga").await;
    let group = app.room(&ann, "group", &[&bob]).await;
    let r = app
        .post(
            &format!("/api/chat/rooms/{group}/members"),
            &ann.token,
            json!({"user_id": olga.id, "role": "observer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut o = joined(&app, &olga, group).await;
    let e = o.request(send_frame(group, "hi")).await;
    assert_eq!(e["error"]["code"], "forbidden");
    let channel = app.room(&ann, "channel", &[&bob]).await;
    let mut b = joined(&app, &bob, channel).await;
    let e = b.request(send_frame(channel, "hi")).await;
    assert_eq!(e["error"]["code"], "forbidden");
    // Members of a channel still react and mark read; the owner posts.
    let mut a = joined(&app, &ann, channel).await;
    let post = a.request(send_frame(channel, "announcement")).await;
    assert_eq!(post["type"], "ack");
    let r = b
        .request(
            json!({"type": "add_reaction", "message_id": post["message"]["id"], "emoji": "🎉"}),
        )
        .await;
    assert_eq!(r["type"], "ack", "{r}");
    assert_eq!(
        b.request(json!({"type": "mark_read", "room_id": channel}))
            .await["type"],
        "ack"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM messages").await, 1);
}

#[actix_rt::test]
async fn bad_frames_get_errors_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let mut a = joined(&app, &ann, room).await;
    for raw in [
        "not json",
        "[1,2]",
        r#"{"type":"fly"}"#,
        r#"{"type":"join_room","room_id":"x"}"#,
        r#"{"no":"type"}"#,
    ] {
        a.send_raw(raw.to_owned()).await;
        let e = a.recv_type("error").await;
        assert_eq!(e["type"], "error", "{raw}");
        assert_eq!(e["error"]["code"], "bad_request", "{raw}");
    }
    let e = a.request(send_frame(room, "x".repeat(4001))).await;
    assert_eq!(e["error"]["code"], "too_large");
    let e = a.request(send_frame(room, "   ")).await;
    assert_eq!(e["error"]["field"], "content");
    let e = a
        .request(
            json!({"type": "add_reaction", "message_id": Uuid::new_v4(), "emoji": "x".repeat(33)}),
        )
        .await;
    assert_eq!(e["error"]["field"], "emoji");
    let ok = a.request(send_frame(room, "still here")).await;
    assert_eq!(ok["type"], "ack");
    // Aliases from older clients.
    let ok = a
        .request(json!({"type": "join_conversation", "conversation_id": room}))
        .await;
    assert_eq!(ok["type"], "ack");
    a.send(json!({"type": "ping"})).await;
    a.recv_type("pong").await;
}

#[actix_rt::test]
async fn a_frame_over_the_limit_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut a = app.ws(&ann.token).await;
    let mut other = app.ws(&ann.token).await;
    a.send_raw(format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(70_000)
    ))
    .await;
    let (_, closed) = a.until_closed().await;
    assert!(matches!(closed, Closed::Code(1009, _)), "{closed:?}");
    // The user's other socket is untouched.
    other.send(json!({"type": "ping"})).await;
    other.recv_type("pong").await;
}

#[actix_rt::test]
async fn handshakes_check_origin_token_and_tickets() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    assert_eq!(
        app.ws_try("/ws/chat/", Some(&ann.token), Some("https://evil.example"))
            .await
            .err(),
        Some(403)
    );
    assert!(app
        .ws_try("/ws/chat/", Some(&ann.token), Some("http://localhost:8080"))
        .await
        .is_ok());
    let expired = {
        let mut c =
            confab::auth::JwtKeys::claims_for(ann.id, DEFAULT_TENANT, "ann", Role::User, 600, None);
        c.exp = chrono::Utc::now().timestamp() - 300;
        app.keys().mint(c).unwrap()
    };
    assert_eq!(
        app.ws_try("/ws/chat/", Some(&expired), None).await.err(),
        Some(401)
    );
    assert_eq!(app.ws_try("/ws/chat/", None, None).await.err(), Some(401));
    assert_eq!(
        app.ws_try(
            &format!("/ws/chat/{}/", Uuid::new_v4()),
            Some(&ann.token),
            None
        )
        .await
        .err(),
        Some(404)
    );
    assert!(app
        .ws_try(
            &format!("/ws/chat/{DEFAULT_TENANT}/"),
            Some(&ann.token),
            None
        )
        .await
        .is_ok());
    // A ticket works once.
    let t = app.post("/api/chat/ws-ticket", &ann.token, json!({})).await;
    let ticket = t.body["ticket"].as_str().unwrap().to_owned();
    let path = format!("/ws/chat/?ticket={ticket}");
    let ws = app
        .ws_try(&path, None, None)
        .await
        .expect("ticket accepted");
    assert_eq!(ws.hello["user_id"], ann.id.to_string());
    assert_eq!(app.ws_try(&path, None, None).await.err(), Some(401));
    // And ?token= is accepted.
    assert!(app
        .ws_try(&format!("/ws/chat/?token={}", ann.token), None, None)
        .await
        .is_ok());
    // Service tokens never connect as chat users.
    let svc = app.platform_token(
        Uuid::new_v4(),
        DEFAULT_TENANT,
        "course module",
        Role::Service,
    );
    assert_eq!(
        app.ws_try("/ws/chat/", Some(&svc), None).await.err(),
        Some(403)
    );
}

#[actix_rt::test]
async fn a_removed_member_stops_receiving_at_once() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = joined(&app, &ann, room).await;
    let mut b = joined(&app, &bob, room).await;
    let r = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", bob.id),
            &ann.token,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let left = b.recv_type("member_left").await;
    assert_eq!(left["user_id"], bob.id.to_string());
    a.request(send_frame(room, "after removal")).await;
    assert!(b
        .drain(400)
        .await
        .iter()
        .all(|f| f["type"] != "new_message"));
    let e = b
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(e["error"]["code"], "not_found");
    let h = app.get(&messages_path(room), &bob.token).await;
    assert_eq!(h.status, StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn a_mention_reaches_the_mentioned_user_outside_the_room() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut b = app.ws(&bob.token).await;
    let mut a = joined(&app, &ann, room).await;
    let ack = a.request(send_frame(room, "ping @Bob and @nobody")).await;
    assert_eq!(ack["message"]["mentions"], json!([bob.id]));
    let m = b.recv_type("mention").await;
    assert_eq!(m["message"]["id"], ack["message"]["id"]);
    let rooms = app.get("/api/chat/rooms", &bob.token).await;
    assert_eq!(rooms.body["results"][0]["mention_count"], 1);
    assert_eq!(rooms.body["results"][0]["unread_count"], 1);
}

#[actix_rt::test]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer_and_the_room_goes_on() {
    let app = spawn_app_with(|s| {
        s.limits.max_outbound_queue = 64;
        s.rate_limits.messages_per_minute = 1_000_000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let sam = app.register("sam").await;
    let room = app.room(&ann, "group", &[&bob, &sam]).await;
    let mut b = joined(&app, &bob, room).await;
    let mut slow = joined(&app, &sam, room).await;
    // Bob reads as he should, while the flood goes on, until the "end" message.
    let reader = actix_rt::spawn(async move {
        let mut got = 0;
        loop {
            let f = b.recv().await;
            if f["type"] == "new_message" {
                if f["message"]["content"] == "end" {
                    return got;
                }
                got += 1;
            }
        }
    });
    // Sam stops reading; Ann floods the room with large messages through REST.
    let big = "x".repeat(3900);
    let mut sent = 0;
    let mut closed_early = false;
    for i in 0..3000 {
        let r = app
            .post(
                &messages_path(room),
                &ann.token,
                json!({"content": format!("{i} {big}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        sent += 1;
        if i % 50 == 49
            && std::sync::atomic::AtomicU64::load(
                &app.state.metrics.slow_consumers_total,
                std::sync::atomic::Ordering::Relaxed,
            ) > 0
        {
            closed_early = true;
            break;
        }
    }
    assert!(closed_early, "the slow client was never closed");
    app.post(&messages_path(room), &ann.token, json!({"content": "end"}))
        .await;
    // Bob, who reads, got every message, and only one client was closed.
    assert_eq!(reader.await.unwrap(), sent);
    assert_eq!(
        std::sync::atomic::AtomicU64::load(
            &app.state.metrics.slow_consumers_total,
            std::sync::atomic::Ordering::Relaxed
        ),
        1
    );
    // Sam finds a closing frame at the end of what was queued.
    let (frames, how) = slow.until_closed().await;
    let last = frames.last().expect("frames before the close");
    assert_eq!(last["type"], "closing", "{last}");
    assert_eq!(last["reason"], "slow_consumer");
    assert!(matches!(how, Closed::Code(_, _) | Closed::Dropped));
    // It comes back and catches up with resume.
    let got_seq = frames
        .iter()
        .filter(|f| f["type"] == "new_message")
        .map(seq)
        .max()
        .unwrap_or(0);
    let mut back = app.ws(&sam.token).await;
    back.request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": got_seq}]}))
        .await;
    let mut n = 0;
    loop {
        let f = back.recv().await;
        if f["type"] == "resumed" {
            break;
        }
        if f["type"] != "new_message" {
            continue; // the ack, presence updates
        }
        assert_eq!(seq(&f), got_seq + 1 + n);
        n += 1;
    }
    // Everything up to and including "end".
    assert_eq!(got_seq + n, sent + 1);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[actix_rt::test]
async fn a_user_hears_at_once_of_rooms_they_are_put_in() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let mut b = app.ws(&bob.token).await;
    let mut c = app.ws(&cat.token).await;
    // A new direct chat and a group created with bob in it.
    let d = app
        .post(
            "/api/chat/rooms/direct",
            &ann.token,
            json!({"user_id": bob.id}),
        )
        .await;
    let added = b.recv_type("room_added").await;
    assert_eq!(added["room"]["id"], d.body["id"]);
    let g = app.room(&ann, "group", &[&bob]).await;
    assert_eq!(b.recv_type("room_added").await["room"]["id"], g.to_string());
    // Cat is added later: member_joined reaches cat's connection though cat never joined the room.
    app.post(
        &format!("/api/chat/rooms/{g}/members"),
        &ann.token,
        json!({"user_id": cat.id}),
    )
    .await;
    let joined = c.recv_type("member_joined").await;
    assert_eq!(joined["room_id"], g.to_string());
    assert_eq!(joined["member"]["user"]["id"], cat.id.to_string());
    // The creator is not told of their own room.
    let mut a = app.ws(&ann.token).await;
    app.room(&ann, "group", &[]).await;
    assert!(a.drain(300).await.iter().all(|f| f["type"] != "room_added"));
}

#[actix_rt::test]
async fn a_message_in_continuation_frames_is_one_frame_and_its_parts_count_toward_the_limit() {
    use actix_http::ws::{Item, Message};
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut a = app.ws(&ann.token).await;
    // {"type":"ping"} in three pieces: only the joined message parses, and it is answered.
    a.send_ws(Message::Continuation(Item::FirstText(r#"{"ty"#.into())))
        .await;
    a.send_ws(Message::Continuation(Item::Continue(r#"pe":"pi"#.into())))
        .await;
    a.send_ws(Message::Continuation(Item::Last(r#"ng"}"#.into())))
        .await;
    a.recv_type("pong").await;
    assert!(a.drain(200).await.iter().all(|f| f["type"] != "error"));
    // Parts under the limit each, over it together: 1009.
    let part = "x".repeat(40_000);
    a.send_ws(Message::Continuation(Item::FirstText(
        format!(r#"{{"type":"ping","pad":"{part}"#).into(),
    )))
    .await;
    a.send_ws(Message::Continuation(Item::Last(
        format!(r#"{part}"}}"#).into(),
    )))
    .await;
    let (_, closed) = a.until_closed().await;
    assert!(matches!(closed, Closed::Code(1009, _)), "{closed:?}");
}

#[actix_rt::test]
async fn a_stray_continuation_or_text_that_is_not_utf8_closes_with_the_protocol_code() {
    use actix_http::ws::{Item, Message};
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut a = app.ws(&ann.token).await;
    // A new text message while one in parts is still open.
    a.send_ws(Message::Continuation(Item::FirstText("{".into())))
        .await;
    a.send_ws(Message::Text(r#"{"type":"ping"}"#.into())).await;
    let (_, closed) = a.until_closed().await;
    assert!(matches!(closed, Closed::Code(1002, _)), "{closed:?}");

    let mut b = app.ws(&ann.token).await;
    // A text message whose bytes are not UTF-8 (sent in two parts: the client's codec only
    // takes raw bytes for continuation frames).
    b.send_ws(Message::Continuation(Item::FirstText(
        vec![b'"', 0xff].into(),
    )))
    .await;
    b.send_ws(Message::Continuation(Item::Last(vec![0xfe, b'"'].into())))
        .await;
    let (_, closed) = b.until_closed().await;
    assert!(matches!(closed, Closed::Code(1007, _)), "{closed:?}");
}
