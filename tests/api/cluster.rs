//! Several nodes: two real `confab` processes on one database, joined by a real redis-server.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use confab::auth::{JwtKeys, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::nodes::{Node, Redis};

// Fields drop in order: the nodes stop before Redis and the database go.
struct Cluster {
    a: Node,
    b: Node,
    redis: Redis,
    keys: JwtKeys,
    _db: TestDb,
}

async fn cluster() -> Cluster {
    let db = TestDb::new().await;
    let secret = format!("cluster-secret-{}", Uuid::new_v4());
    let redis = Redis::start();
    let a = Node::start(&db.url, &secret, &redis.url());
    let b = Node::start(&db.url, &secret, &redis.url());
    let keys = JwtKeys::from_settings(&test_settings(&db.url, &secret).auth).unwrap();
    Cluster {
        a,
        b,
        redis,
        keys,
        _db: db,
    }
}

impl Cluster {
    /// A user the platform mints a token for (provisioned by its first request).
    async fn user(&self, name: &str) -> User {
        let id = Uuid::new_v4();
        let token = self
            .keys
            .mint(JwtKeys::claims_for(
                id,
                DEFAULT_TENANT,
                name,
                Role::User,
                3600,
                None,
            ))
            .unwrap();
        let me = self.a.get("/api/chat/users/me", &token).await;
        assert_eq!(me.status, StatusCode::OK);
        User {
            id,
            tenant_id: DEFAULT_TENANT,
            username: name.into(),
            token,
            refresh: String::new(),
        }
    }
}

/// Room events (frames with a seq) until `n` have arrived; acks and other frames are skipped.
async fn events(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut other = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while out.len() < n {
        let got = ws.drain(200).await;
        assert!(
            Instant::now() < deadline,
            "only {} of {n} events: {out:?}; other frames: {other:?}",
            out.len()
        );
        for f in got {
            if f.get("seq").is_some() && f["type"] != "ack" && f["room_id"].is_string() {
                out.push(f);
            } else {
                other.push(f);
            }
        }
    }
    assert_eq!(out.len(), n, "more events than expected: {out:?}");
    out
}

#[actix_rt::test]
async fn clients_on_two_nodes_see_every_change_once_in_the_same_order() {
    let c = cluster().await;
    let ann = c.user("ann").await;
    let bob = c.user("bob").await;
    let room = c.a.room(&ann, "group", &[&bob]).await;
    let mut a = c.a.ws(&ann.token).await;
    let mut b = c.b.ws(&bob.token).await;
    a.request(json!({"type": "join_room", "room_id": room}))
        .await;
    b.request(json!({"type": "join_room", "room_id": room}))
        .await;

    // Typing crosses nodes.
    a.send(json!({"type": "start_typing", "room_id": room}))
        .await;
    let t = b.recv_type("typing_indicator").await;
    assert_eq!(t["user_id"], ann.id.to_string());

    // Both send at once, without waiting for acks.
    const EACH: usize = 25;
    for i in 0..EACH {
        a.send(send_frame(room, format!("a{i}"))).await;
        b.send(send_frame(room, format!("b{i}"))).await;
    }
    let on_a = events(&mut a, 2 * EACH).await;
    let on_b = events(&mut b, 2 * EACH).await;
    let first_id = on_a
        .iter()
        .find(|f| f["message"]["sender"]["id"] == ann.id.to_string())
        .map(|f| f["message"]["id"].as_str().unwrap().to_owned())
        .unwrap();
    // An edit, a reaction and a read receipt, from either side.
    let edit = a
        .request(json!({"type": "edit_message", "message_id": first_id, "content": "edited"}))
        .await;
    assert_eq!(edit["type"], "ack", "{edit}");
    b.request(json!({"type": "add_reaction", "message_id": first_id, "emoji": "👍"}))
        .await;
    b.request(json!({"type": "mark_read", "room_id": room}))
        .await;
    let more_a = events(&mut a, 3).await;
    let more_b = events(&mut b, 3).await;
    let all_a: Vec<(i64, String)> = on_a
        .iter()
        .chain(&more_a)
        .map(|f| (seq(f), f["type"].as_str().unwrap().to_owned()))
        .collect();
    let all_b: Vec<(i64, String)> = on_b
        .iter()
        .chain(&more_b)
        .map(|f| (seq(f), f["type"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(all_a, all_b, "both sides in the same order");
    let seqs: Vec<i64> = all_a.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=(2 * EACH as i64 + 3)).collect::<Vec<_>>(),
        "gap-free, each once"
    );
    let kinds: Vec<&str> = all_a[2 * EACH..].iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["message_updated", "reaction_added", "read_receipt"]
    );
    assert!(
        a.drain(300)
            .await
            .iter()
            .all(|f| f.get("seq").is_none() || f["type"] == "ack"),
        "no duplicates"
    );
    assert!(
        b.drain(300)
            .await
            .iter()
            .all(|f| f.get("seq").is_none() || f["type"] == "ack"),
        "no duplicates"
    );
    // Both nodes report to the cluster view.
    let svc = c
        .keys
        .mint(JwtKeys::claims_for(
            Uuid::new_v4(),
            DEFAULT_TENANT,
            "ops",
            Role::Service,
            600,
            None,
        ))
        .unwrap();
    let mut stats = c.a.get("/api/admin/stats", &svc).await;
    for _ in 0..30 {
        if stats.body["cluster"]["nodes"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stats = c.a.get("/api/admin/stats", &svc).await;
    }
    assert_eq!(stats.body["cluster"]["nodes"], 2, "{:?}", stats.body);
    let ready = c.b.send("GET", "/readyz", None, None).await;
    assert_eq!(ready.body["redis"], "ok");
}

#[actix_rt::test]
async fn after_redis_comes_back_every_client_holds_every_message_once() {
    let mut c = cluster().await;
    let ann = c.user("ann").await;
    let bob = c.user("bob").await;
    let room = c.a.room(&ann, "group", &[&bob]).await;
    let mut a = c.a.ws(&ann.token).await;
    let mut b = c.b.ws(&bob.token).await;
    a.request(json!({"type": "join_room", "room_id": room}))
        .await;
    b.request(json!({"type": "join_room", "room_id": room}))
        .await;
    for i in 0..5 {
        a.request(send_frame(room, format!("before {i}"))).await;
    }
    c.redis.down();
    // Writes still commit and ack on both nodes, and local delivery goes on.
    for i in 0..5 {
        let ack = a.request(send_frame(room, format!("during a{i}"))).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let ack = b.request(send_frame(room, format!("during b{i}"))).await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    // The last ones only node A knows of: nothing on node B reveals them.
    for i in 0..5 {
        a.request(send_frame(room, format!("late a{i}"))).await;
    }
    let ready = c.a.send("GET", "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["redis"], "down");
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.redis.up();
    // Back: node B notices by the event log and delivers what it missed, with no new traffic.
    let mut on_b = events(&mut b, 20).await;
    let on_a = events(&mut a, 20).await;
    a.request(send_frame(room, "after")).await;
    on_b.extend(events(&mut b, 1).await);
    let mut on_a = on_a;
    on_a.extend(events(&mut a, 1).await);
    let total = 5 + 15 + 1;
    for (side, got) in [("a", &on_a), ("b", &on_b)] {
        let seqs: Vec<i64> = got.iter().map(seq).collect();
        assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>(), "{side}");
        let ids: HashSet<&str> = got
            .iter()
            .map(|f| f["message"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), total, "{side}");
    }
    for ws in [&mut a, &mut b] {
        assert!(
            ws.drain(500)
                .await
                .iter()
                .all(|f| f["type"] != "new_message"),
            "no duplicates"
        );
    }
}

#[actix_rt::test]
async fn when_a_node_dies_its_clients_resume_on_the_other_and_its_users_room_mates_see_them_go_offline(
) {
    let mut c = cluster().await;
    let ann = c.user("ann").await;
    let bob = c.user("bob").await;
    let cat = c.user("cat").await;
    let room = c.a.room(&ann, "group", &[&bob, &cat]).await;
    let mut a = c.a.ws(&ann.token).await;
    let mut b = c.b.ws(&bob.token).await;
    let _cat_on_b = c.b.ws(&cat.token).await;
    a.request(json!({"type": "join_room", "room_id": room}))
        .await;
    b.request(json!({"type": "join_room", "room_id": room}))
        .await;
    a.request(send_frame(room, "one")).await;
    let last = seq(&b.recv_type("new_message").await);
    // Cat is only on node B; node A knows it through Redis.
    let mut online = Value::Null;
    for _ in 0..20 {
        online =
            c.a.get(
                &format!("/api/chat/presence?user_ids={}", cat.id),
                &ann.token,
            )
            .await
            .body;
        if online["results"][0]["status"] == "online" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(online["results"][0]["status"], "online", "{online}");

    c.b.kill();
    let _ = b.until_closed().await;
    for i in 0..5 {
        a.request(send_frame(room, format!("while b is gone {i}")))
            .await;
    }
    // Bob reconnects to node A and resumes: exactly what he missed.
    let mut b = c.a.ws(&bob.token).await;
    b.request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": last}]}))
        .await;
    let mut got = Vec::new();
    let done = loop {
        let f = b.recv().await;
        match f["type"].as_str() {
            Some("resumed") => break f,
            Some("new_message") => got.push(seq(&f)),
            _ => {}
        }
    };
    assert_eq!(got, ((last + 1)..=(last + 5)).collect::<Vec<_>>());
    assert_eq!(done["last_seq"], last + 5);
    // Cat, who was only on the dead node, goes offline after the grace (and node B's word expires).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let p =
            c.a.get(
                &format!("/api/chat/presence?user_ids={}", cat.id),
                &ann.token,
            )
            .await;
        if p.body["results"][0]["status"] == "offline" {
            break;
        }
        assert!(Instant::now() < deadline, "still {:?}", p.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // And Ann, Cat's room mate on the living node, is told so (once node B's word expired).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match a.next_frame(500).await {
            Ok(Some(f))
                if f["type"] == "presence_update"
                    && f["presence"]["user_id"] == cat.id.to_string()
                    && f["presence"]["status"] == "offline" =>
            {
                break
            }
            Ok(_) => assert!(Instant::now() < deadline, "no presence_update: cat offline"),
            Err(closed) => panic!("ann's socket closed: {closed:?}"),
        }
    }
}
