//! The committer: writes of many rooms share transactions, each room keeps its own gap-free
//! order, a resend inside one transaction is still one message, and a room whose write fails
//! inside a shared transaction fails alone.

use std::time::Duration;

use awc::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{messages_path, spawn_app_with, Answer, TestApp};
use crate::sql::{events, exec, last_seq, messages};

async fn metric(app: &TestApp, name: &str) -> i64 {
    let mut m = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = String::from_utf8(m.body().await.unwrap().to_vec()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

fn post_message<'a>(
    app: &'a TestApp,
    token: &str,
    room: Uuid,
    body: Value,
) -> impl std::future::Future<Output = Answer> + 'a {
    let path = messages_path(room);
    let token = token.to_owned();
    async move { app.post(&path, &token, body).await }
}

/// Sends a message to room `held` while the test holds that room's row, and runs `queued` in the
/// meantime: the committer's transaction for `held` waits on the row, so what `queued` sends
/// queues up behind it and goes into the next transaction together. Answers both.
async fn behind_a_held_room<F: std::future::Future>(
    app: &TestApp,
    token: &str,
    held: Uuid,
    queued: F,
) -> (Answer, F::Output) {
    let mut holder = app.db.conn().await;
    exec(&mut holder, "BEGIN").await;
    exec(
        &mut holder,
        &format!("SELECT 1 FROM rooms WHERE id = '{held}' FOR UPDATE"),
    )
    .await;
    let to_held = post_message(app, token, held, json!({"content": "to the held room"}));
    let queued = async {
        actix_rt::time::sleep(Duration::from_millis(300)).await;
        queued.await
    };
    let release = async {
        actix_rt::time::sleep(Duration::from_millis(900)).await;
        exec(&mut holder, "COMMIT").await;
    };
    let (to_held, queued, ()) = futures_util::join!(to_held, queued, release);
    (to_held, queued)
}

#[actix_rt::test]
async fn writes_of_many_rooms_share_transactions_and_each_room_keeps_its_order() {
    let app = spawn_app_with(|s| s.realtime.commit_parallel = 1).await;
    let mut owners = Vec::new();
    for i in 0..12 {
        let u = app.register(&format!("owner{i}")).await;
        let room = app.room(&u, "group", &[]).await;
        owners.push((u, room));
    }
    let before = last_seq(&app, owners[0].1).await;
    // Every room gets 10 messages at once, all rooms together.
    let sends = owners.iter().flat_map(|(u, room)| {
        (0..10).map(|k| post_message(&app, &u.token, *room, json!({"content": format!("m{k}")})))
    });
    let answers = join_all(sends).await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    }
    for (_, room) in &owners {
        let log = events(&app, *room).await;
        let msgs = messages(&app, *room).await;
        // The log has every seq from 1 to the room's last seq once, in order.
        let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
        let last = last_seq(&app, *room).await;
        assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
        assert_eq!(last, before + 10);
        // Each message is in the log under its own seq.
        assert_eq!(msgs.len(), 10);
        for m in &msgs {
            let e = &log[(m.seq - 1) as usize];
            assert_eq!(e.kind, "new_message");
            assert_eq!(e.message_id.as_deref(), Some(m.id.as_str()));
        }
    }
    let commits = metric(&app, "confab_commits_total").await;
    let batches = metric(&app, "confab_commit_rooms_total").await;
    assert!(
        commits < batches,
        "{commits} transactions for {batches} room batches: none was shared"
    );
    assert_eq!(metric(&app, "confab_commit_fallbacks_total").await, 0);
}

#[actix_rt::test]
async fn resends_of_one_client_id_in_one_transaction_make_one_message() {
    let app = spawn_app_with(|s| s.realtime.commit_parallel = 1).await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let body = json!({"content": "only once", "client_id": "same"});
    let answers =
        join_all((0..10).map(|_| post_message(&app, &ann.token, room, body.clone()))).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let repeated = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert_eq!((created, repeated), (1, 9), "{answers:?}");
    let id = &answers[0].body["id"];
    assert!(answers.iter().all(|a| &a.body["id"] == id));
    let msgs = messages(&app, room).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(Some(msgs[0].id.as_str()), id.as_str());
}

#[actix_rt::test]
async fn a_room_whose_write_fails_in_a_shared_transaction_fails_alone() {
    let app = spawn_app_with(|s| s.realtime.commit_parallel = 1).await;
    let ann = app.register("ann").await;
    let (x, gone, y) = (
        app.room(&ann, "group", &[]).await,
        app.room(&ann, "group", &[]).await,
        app.room(&ann, "group", &[]).await,
    );
    // Each room's actor is running and has its room in memory.
    for room in [x, gone, y] {
        let a = post_message(&app, &ann.token, room, json!({"content": "warm"})).await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let mut admin = app.db.conn().await;
    // An operator deletes one room underneath the running server.
    exec(
        &mut admin,
        &format!("DELETE FROM rooms WHERE id = '{gone}'"),
    )
    .await;
    // Another holds room x, so the committer's next transaction (x alone) waits, and the writes
    // to `gone` and y queue up behind it and go into one transaction together.
    let (to_x, (to_gone, to_y)) = behind_a_held_room(&app, &ann.token, x, async {
        futures_util::join!(
            post_message(
                &app,
                &ann.token,
                gone,
                json!({"content": "to the deleted room"})
            ),
            post_message(&app, &ann.token, y, json!({"content": "to y"})),
        )
    })
    .await;
    assert_eq!(to_x.status, StatusCode::CREATED, "{:?}", to_x.body);
    assert_eq!(to_y.status, StatusCode::CREATED, "{:?}", to_y.body);
    assert_eq!(to_gone.status, StatusCode::NOT_FOUND, "{:?}", to_gone.body);
    assert_eq!(to_gone.error_code(), "not_found");
    // y's message is there with the next seq, and nothing of the failed try was kept.
    let msgs = messages(&app, y).await;
    assert_eq!(msgs.len(), 2);
    assert_eq!(events(&app, y).await.len() as i64, last_seq(&app, y).await);
    assert_eq!(metric(&app, "confab_commit_fallbacks_total").await, 1);
}

#[actix_rt::test]
async fn a_resend_inside_a_shared_transaction_is_answered_with_the_first_message_and_the_others_commit_once(
) {
    let app = spawn_app_with(|s| s.realtime.commit_parallel = 1).await;
    let ann = app.register("ann").await;
    let (x, a, b) = (
        app.room(&ann, "group", &[]).await,
        app.room(&ann, "group", &[]).await,
        app.room(&ann, "group", &[]).await,
    );
    let first = post_message(
        &app,
        &ann.token,
        a,
        json!({"content": "once", "client_id": "k1"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Hold room x so that the resend to a and a new message to b share the next transaction.
    let (to_x, (again, to_b)) = behind_a_held_room(&app, &ann.token, x, async {
        futures_util::join!(
            post_message(
                &app,
                &ann.token,
                a,
                json!({"content": "once", "client_id": "k1"})
            ),
            post_message(
                &app,
                &ann.token,
                b,
                json!({"content": "to b", "client_id": "k1"})
            ),
        )
    })
    .await;
    assert_eq!(to_x.status, StatusCode::CREATED);
    // The resend is the first message; b's message (same client_id, another room) is new.
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(to_b.status, StatusCode::CREATED, "{:?}", to_b.body);
    // Nothing of the rolled-back try remains: one message each, logs without gaps.
    for (room, n) in [(a, 1), (b, 1), (x, 1)] {
        assert_eq!(messages(&app, room).await.len(), n);
        let log = events(&app, room).await;
        assert_eq!(log.len() as i64, last_seq(&app, room).await);
    }
    let in_b = messages(&app, b).await;
    assert_eq!(Some(in_b[0].id.as_str()), to_b.body["id"].as_str());
    assert_eq!(metric(&app, "confab_commit_fallbacks_total").await, 0);
}
