//! A node's life: graceful shutdown on SIGTERM under load (every socket is told `closing
//! {reason: "shutdown"}` before its close frame, and every acked message is stored); an outage of
//! its own PostgreSQL (writes answer `unavailable` fast, nothing unstored is acked, it recovers).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::nodes::{Node, OwnPostgres};

const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

/// What one client saw: the ids of its acked messages, whether `closing` came (and its
/// retry_after_ms), frames after it, and how the connection ended.
struct Seen {
    acked: Vec<Uuid>,
    closing: Option<Value>,
    after_closing: usize,
    closed: Closed,
}

/// Sends messages one after another until the server closes the connection, counting acks in
/// `acks` (shared by all the clients).
async fn keep_sending(mut ws: Ws, room: Uuid, who: usize, acks: Arc<AtomicUsize>) -> Seen {
    let mut seen = Seen {
        acked: Vec::new(),
        closing: None,
        after_closing: 0,
        closed: Closed::Dropped,
    };
    for n in 0.. {
        let r = format!("{who}-{n}");
        let frame = with(
            with(send_frame(room, format!("m {r}")), "ref", r.clone()),
            "client_id",
            r.clone(),
        );
        if seen.closing.is_none() && !ws.try_send(frame).await {
            break;
        }
        loop {
            match ws.next_frame(10_000).await {
                Ok(Some(v)) => {
                    if seen.closing.is_some() {
                        seen.after_closing += 1;
                    }
                    if v["type"] == "closing" {
                        seen.closing = Some(v.clone());
                    }
                    if v["ref"] == r.as_str() && v["type"] == "ack" {
                        seen.acked
                            .push(v["message"]["id"].as_str().unwrap().parse().unwrap());
                        acks.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    if v["ref"] == r.as_str() && v["type"] == "error" {
                        assert_eq!(v["error"]["code"], "unavailable", "{v}");
                        break;
                    }
                }
                Ok(None) => panic!("client {who}: nothing within 10 s"),
                Err(c) => {
                    seen.closed = c;
                    return seen;
                }
            }
        }
    }
    seen
}

#[actix_rt::test]
async fn sigterm_under_load_says_closing_to_every_socket_and_loses_no_acked_message() {
    let db = TestDb::new().await;
    let env = [
        ("CONFAB__SERVER__SHUTDOWN_TIMEOUT_SECS", "6"),
        ("CONFAB__RATE_LIMITS__WS_FRAMES_PER_SEC", "100000"),
        ("CONFAB__RATE_LIMITS__WS_BURST", "100000"),
        ("CONFAB__RATE_LIMITS__MESSAGES_PER_MINUTE", "1000000"),
    ];
    let node = Node::launch(&db.url, SECRET, "", &env).ready();
    let owner = node.register("owner").await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(node.register(&format!("sender{i}")).await);
    }
    let refs: Vec<&User> = users.iter().collect();
    let room = node.room(&owner, "group", &refs).await;
    let mut clients = Vec::new();
    let acks = Arc::new(AtomicUsize::new(0));
    for (i, u) in users.iter().enumerate() {
        let mut ws = node.ws(&u.token).await;
        let ack = ws
            .request(json!({"type": "join_room", "room_id": room}))
            .await;
        assert_eq!(ack["type"], "ack");
        clients.push(actix_rt::spawn(keep_sending(ws, room, i, acks.clone())));
    }
    // Under load: the signal comes once 60 messages are acked (however long a busy box takes).
    let sending = Instant::now();
    while acks.load(Ordering::Relaxed) < 60 {
        assert!(
            sending.elapsed() < Duration::from_secs(60),
            "no 60 acks in a minute"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = node.child.id().to_string();
    let signalled = Instant::now();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());

    let mut acked = HashSet::new();
    for c in clients {
        let seen = c.await.unwrap();
        let closing = seen
            .closing
            .expect("every socket gets closing before its close frame");
        assert_eq!(closing["reason"], "shutdown", "{closing}");
        assert!(
            closing["retry_after_ms"].as_u64().unwrap() >= 1000,
            "{closing}"
        );
        assert_eq!(seen.after_closing, 0, "nothing after closing");
        assert!(
            matches!(seen.closed, Closed::Code(1001, _)),
            "{:?}",
            seen.closed
        );
        assert!(!seen.acked.is_empty());
        acked.extend(seen.acked);
    }
    let mut node = node;
    let status = loop {
        if let Some(s) = node.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(6),
            "exits within shutdown_timeout_secs"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");

    // Restarted on the same database: every acked message is there.
    let again = Node::launch(&db.url, SECRET, "", &[]).ready();
    let owner = again
        .post(
            "/api/auth/login",
            "",
            json!({"username": "owner", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(owner.status, 200, "{}", owner.raw);
    let mut conn = db.conn().await;
    let ids: Vec<String> = acked.iter().map(Uuid::to_string).collect();
    let stored = crate::sql::count_on(
        &mut conn,
        &format!(
            "SELECT count(*) AS n FROM messages WHERE id = ANY('{{{}}}'::uuid[])",
            ids.join(",")
        ),
    )
    .await;
    assert_eq!(stored as usize, acked.len(), "{} acked", acked.len());
    assert!(acked.len() >= 60, "under load: {} acked", acked.len());
}

/// Sends one message; answers the ack or error frame and how long it took.
async fn timed_send(ws: &mut Ws, room: Uuid, client_id: &str) -> (Value, Duration) {
    let started = Instant::now();
    let answer = ws
        .request(with(send_frame(room, client_id), "client_id", client_id))
        .await;
    (answer, started.elapsed())
}

#[actix_rt::test]
async fn while_postgres_is_down_writes_answer_unavailable_fast_and_work_again_after() {
    let pg = OwnPostgres::start();
    let node = Node::launch(&pg.url(), SECRET, "", &[]).ready();
    let alice = node.register("alice").await;
    let bob = node.register("bob").await;
    let room = node.room(&alice, "group", &[&bob]).await;
    let mut ws = node.ws(&alice.token).await;
    let ack = ws
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack");
    let mut acked = Vec::new();
    for i in 0..3 {
        let (a, _) = timed_send(&mut ws, room, &format!("before-{i}")).await;
        assert_eq!(a["type"], "ack", "{a}");
        acked.push(a["message"]["content"].as_str().unwrap().to_owned());
    }

    pg.down();
    let mut refused = Vec::new();
    for i in 0..3 {
        let cid = format!("during-{i}");
        let (a, took) = timed_send(&mut ws, room, &cid).await;
        assert_eq!(a["type"], "error", "no ack for what is not stored: {a}");
        assert_eq!(a["error"]["code"], "unavailable", "{a}");
        assert!(a["error"]["retry_after_ms"].as_u64().unwrap() > 0, "{a}");
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
        refused.push(cid);
    }
    let started = Instant::now();
    let rest = node
        .post(
            &format!("/api/chat/rooms/{room}/messages"),
            &alice.token,
            json!({"content": "rest-during"}),
        )
        .await;
    assert_eq!(rest.status, 503, "{}", rest.raw);
    assert_eq!(rest.error_code(), "unavailable");
    assert!(rest.headers.get("Retry-After").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    pg.up();
    let back = Instant::now();
    loop {
        let (a, _) = timed_send(&mut ws, room, "after-0").await;
        if a["type"] == "ack" {
            acked.push("after-0".into());
            break;
        }
        assert_eq!(a["error"]["code"], "unavailable", "{a}");
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "writes work again within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 1..3 {
        let (a, _) = timed_send(&mut ws, room, &format!("after-{i}")).await;
        assert_eq!(a["type"], "ack", "{a}");
        acked.push(format!("after-{i}"));
    }

    // The log has no gap, holds every acked message and nothing that was refused.
    let history = node
        .get(&format!("/api/chat/rooms/{room}/messages"), &alice.token)
        .await;
    assert_eq!(history.status, 200, "{}", history.raw);
    let stored: Vec<String> = history.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    for a in &acked {
        assert!(stored.contains(a), "{a} acked but not stored: {stored:?}");
    }
    for r in &refused {
        assert!(!stored.contains(r), "{r} was refused but stored");
    }
    let mut b = node.ws(&bob.token).await;
    let ack = b
        .request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": 0}]}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut seqs = Vec::new();
    loop {
        let f = b.recv().await;
        if f["type"] == "resumed" {
            break;
        }
        if let Some(s) = f["seq"].as_i64() {
            seqs.push(s);
        }
    }
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "gap-free");
}

#[actix_rt::test]
async fn a_room_actor_that_finds_its_log_went_back_dies_is_replaced_and_its_sessions_resume() {
    let app = spawn_app_with(|s| s.realtime.heartbeat_secs = 1).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut a = app.ws(&ann.token).await;
    let mut b = app.ws(&bob.token).await;
    for ws in [&mut a, &mut b] {
        let ack = ws
            .request(json!({"type": "join_room", "room_id": room}))
            .await;
        assert_eq!(ack["type"], "ack");
    }
    for i in 0..3 {
        a.request(send_frame(room, format!("old {i}"))).await;
        b.recv_type("new_message").await;
    }
    // The database goes back to before these messages (a restore), under the running actor.
    let mut conn = app.db.conn().await;
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(&format!(
        "DELETE FROM room_events WHERE room_id = '{room}';
         DELETE FROM messages WHERE room_id = '{room}';
         UPDATE rooms SET last_seq = 0 WHERE id = '{room}'"
    ))
    .await
    .unwrap();
    // The next write is stored (and acked) with seq 1; the actor refuses to go on from there.
    let ack = a.request(send_frame(room, "after the restore")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["seq"], 1, "{ack}");
    let told = b.recv_type("resume_required").await;
    assert_eq!(told["room_id"], room.to_string());
    // Resuming reaches a fresh actor, which replays the log as it is now and serves live again.
    let ack = b
        .request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": 0}]}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let replayed = b.recv_type("new_message").await;
    assert_eq!(replayed["message"]["content"], "after the restore");
    assert_eq!(b.recv_type("resumed").await["last_seq"], 1);
    a.request(send_frame(room, "live again")).await;
    let live = b.recv_type("new_message").await;
    assert_eq!(live["seq"], 2, "{live}");
}
