//! Retention (issue 17): the admin API, the sweep by age and by count, and a sweep of 10,000
//! messages while someone keeps writing in the same room (no seq gap; write latency observed).

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use confab::auth::Role;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

fn admin_of(app: &TestApp, tenant: Uuid) -> String {
    app.platform_token(Uuid::new_v4(), tenant, "Admin", Role::Admin)
}

/// Stores `n` messages of `sender` in `room` (seqs 1..=n, sent 30 days ago), each with its
/// `new_message` event, as a room with a long history would hold them.
async fn old_history(app: &TestApp, room: Uuid, sender: &User, n: i64) {
    let mut conn = app.db.conn().await;
    conn.batch_execute(&format!(
        "INSERT INTO messages (room_id, tenant_id, seq, sender_id, message_type, content, created_at)
         SELECT '{room}', '{tenant}', g, '{sender}', 'text', 'OLDzqx ' || g, now() - interval '30 days'
         FROM generate_series(1, {n}) g;
         INSERT INTO room_events (room_id, seq, kind, payload)
         SELECT m.room_id, m.seq, 'new_message', json_build_object('type', 'new_message',
             'room_id', m.room_id, 'seq', m.seq, 'message', json_build_object('id', m.id,
             'content', m.content, 'is_deleted', false))::text
         FROM messages m WHERE m.room_id = '{room}';
         UPDATE rooms SET last_seq = {n} WHERE id = '{room}';",
        tenant = sender.tenant_id,
        sender = sender.id,
    ))
    .await
    .unwrap();
}

/// Sends a message and answers its seq and how long the ack took.
async fn timed_send(ws: &mut Ws, room: Uuid, text: String) -> (i64, Duration) {
    let t = Instant::now();
    let ack = ws.request(send_frame(room, text)).await;
    let took = t.elapsed();
    assert_eq!(ack["type"], "ack", "{ack}");
    (ack["seq"].as_i64().unwrap(), took)
}

fn p99(xs: &mut [Duration]) -> Duration {
    xs.sort();
    xs[(xs.len() * 99 / 100).min(xs.len() - 1)]
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.db.conn().await;
    let c: Count = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
    c.n
}

#[actix_rt::test]
async fn admins_set_retention_for_their_tenant_and_rooms_only() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let other = admin_of(&app, Uuid::new_v4());
    let got = app.get("/api/admin/retention", &admin).await;
    assert_eq!(got.body, json!({"retention_days": null}));
    let set = app
        .put(
            "/api/admin/retention",
            &admin,
            json!({"retention_days": 30}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(
        app.get("/api/admin/retention", &admin).await.body["retention_days"],
        30
    );
    // Another tenant's setting is its own.
    assert_eq!(
        app.get("/api/admin/retention", &other).await.body["retention_days"],
        json!(null)
    );
    let path = format!("/api/admin/rooms/{room}/retention");
    let set = app
        .put(
            &path,
            &admin,
            json!({"retention_days": 7, "max_messages": 1000}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(
        set.body,
        json!({"retention_days": 7, "max_messages": 1000, "retained_from_seq": 0})
    );
    for (body, code) in [
        (json!({"retention_days": 0}), StatusCode::BAD_REQUEST),
        (json!({"retention_days": 36501}), StatusCode::BAD_REQUEST),
        (json!({"max_messages": 0}), StatusCode::BAD_REQUEST),
        (json!({"max_messages": 100000001}), StatusCode::BAD_REQUEST),
        (json!({"retention_days": "7"}), StatusCode::BAD_REQUEST),
    ] {
        let a = app.put(&path, &admin, body.clone()).await;
        assert_eq!(a.status, code, "{body}: {:?}", a.body);
    }
    let bad = app
        .put(
            "/api/admin/retention",
            &admin,
            json!({"retention_days": -1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    let a = app.put(&path, &other, json!({"retention_days": 1})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&path, &ann.token).await.status,
        StatusCode::FORBIDDEN
    );
    let anon = app
        .send("PUT", "/api/admin/retention", None, Some(json!({})))
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // Each change audited once, nothing for the other tenant.
    let log = app
        .get("/api/admin/audit?action=retention.set", &admin)
        .await;
    let rows = log.body["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["room_id"], room.to_string());
    assert_eq!(rows[1]["before"], json!({"retention_days": null}));
    assert_eq!(rows[1]["after"], json!({"retention_days": 30}));
    let theirs = app.get("/api/admin/audit", &other).await;
    assert_eq!(theirs.body["results"], json!([]));
}

#[actix_rt::test]
async fn a_room_capped_by_count_keeps_its_newest_messages() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    for i in 0..8 {
        app.post_message(room, &ann.token, json!({"content": format!("m{i}")}))
            .await;
    }
    let admin = admin_of(&app, DEFAULT_TENANT);
    app.put(
        &format!("/api/admin/rooms/{room}/retention"),
        &admin,
        json!({"max_messages": 5}),
    )
    .await;
    let swept = confab::actors::retention::sweep(&app.state.pool, 2)
        .await
        .unwrap();
    assert_eq!(swept, 3);
    let page = app.get(&messages_path(room), &ann.token).await;
    assert_eq!(page.body["retained_from_seq"], 4);
    let results = page.body["results"].as_array().unwrap();
    let kept: Vec<&str> = results
        .iter()
        .filter(|m| m["is_deleted"] == false)
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["m3", "m4", "m5", "m6", "m7"]);
    assert!(results
        .iter()
        .filter(|m| m["is_deleted"] == true)
        .all(|m| m["content"] == ""));
}

#[actix_rt::test]
async fn sweeping_ten_thousand_messages_leaves_no_gap_in_a_room_being_written_to() {
    let app = spawn_app_with(|s| {
        s.retention.sweep_interval_secs = 1;
        s.retention.batch = 200;
        // Bob writes as fast as acks come back: the rate limits are not what is tested here.
        s.rate_limits.ws_frames_per_sec = 10_000;
        s.rate_limits.ws_burst = 10_000;
        s.rate_limits.messages_per_minute = 100_000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    const OLD: i64 = 10_000;
    old_history(&app, room, &ann, OLD).await;
    // Bob writes: first 100 messages with no sweep (the baseline on this machine now), then while
    // the sweeper (every second) works through the old history.
    let mut ws = app.ws(&bob.token).await;
    let mut seqs = Vec::new();
    let mut baseline = Vec::new();
    for i in 0..100 {
        let (seq, took) = timed_send(&mut ws, room, format!("before {i}")).await;
        seqs.push(seq);
        baseline.push(took);
    }
    let admin = admin_of(&app, DEFAULT_TENANT);
    let set = app
        .put(
            &format!("/api/admin/rooms/{room}/retention"),
            &admin,
            json!({"retention_days": 1}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let started = Instant::now();
    let mut during = Vec::new();
    let remaining =
        "SELECT count(*) AS n FROM messages WHERE NOT is_deleted AND content LIKE 'OLDzqx%'";
    while count(&app, remaining).await > 0 || during.len() < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the sweep did not finish"
        );
        let (seq, took) = timed_send(&mut ws, room, format!("during {}", during.len())).await;
        seqs.push(seq);
        during.push(took);
    }
    // No gap, nothing reordered: OLD + 1, OLD + 2, ...
    let expected: Vec<i64> = (OLD + 1..=OLD + seqs.len() as i64).collect();
    assert_eq!(seqs, expected);
    println!(
        "retention sweep of {OLD} messages: write ack p99 {:?} over {} writes during the sweep, \
         {:?} over {} writes just before it",
        p99(&mut during),
        during.len(),
        p99(&mut baseline),
        baseline.len()
    );
    // Nothing of the old text is served: not by the store, not by the event log.
    let leftovers = "SELECT count(*) AS n FROM room_events WHERE strpos(payload, 'OLDzqx') > 0";
    assert_eq!(count(&app, leftovers).await, 0);
    let page = app
        .get(
            &format!("{}?after_seq=0&limit=5", messages_path(room)),
            &bob.token,
        )
        .await;
    assert_eq!(page.body["retained_from_seq"], OLD + 1);
    assert!(page.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["is_deleted"] == true && m["content"] == ""));
    let page = app.get(&messages_path(room), &bob.token).await;
    let newest = page.body["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(newest["seq"], *seqs.last().unwrap());
    assert_eq!(newest["is_deleted"], false);
}

#[actix_rt::test]
async fn a_swept_message_takes_its_file_with_it() {
    let app = spawn_app_with(|s| s.retention.sweep_interval_secs = 1).await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let file = crate::uploads::uploaded(&app, &ann, "notes.bin", b"RETAINEDzqx file bytes").await;
    let file_id = file["id"].as_str().unwrap().to_owned();
    let sent = app
        .post_message(
            room,
            &ann.token,
            json!({"content": "see file", "attachment_id": file_id}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let kept = app
        .post_message(room, &ann.token, json!({"content": "recent"}))
        .await;
    assert_eq!(kept.status, StatusCode::CREATED);
    // The file and its message are a month old.
    let mut conn = app.db.conn().await;
    conn.batch_execute(&format!(
        "UPDATE attachments SET created_at = now() - interval '30 days' WHERE id = '{file_id}';
         UPDATE messages SET created_at = now() - interval '30 days'
             WHERE room_id = '{room}' AND seq = 1;"
    ))
    .await
    .unwrap();
    let admin = admin_of(&app, DEFAULT_TENANT);
    app.put(
        &format!("/api/admin/rooms/{room}/retention"),
        &admin,
        json!({"retention_days": 7}),
    )
    .await;
    let gone = format!("SELECT count(*) AS n FROM attachments WHERE id = '{file_id}'");
    let started = Instant::now();
    while count(&app, &gone).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the file stayed"
        );
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
    let download = app
        .get(&format!("/api/chat/uploads/{file_id}"), &ann.token)
        .await;
    assert_eq!(download.status, StatusCode::NOT_FOUND);
    let page = app.get(&messages_path(room), &ann.token).await;
    let results = page.body["results"].as_array().unwrap();
    assert_eq!(results[0]["is_deleted"], true);
    assert_eq!(results[0]["attachment"], json!(null));
    assert_eq!(results[1]["content"], "recent");
    assert_eq!(page.body["retained_from_seq"], 2);
}
