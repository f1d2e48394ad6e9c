//! A busy endpoint is served round after round (issue 14): its worker does not let it go after
//! one round (200 events of a room) and wait for the next tick, so a tenant sending faster than
//! that does not fall behind without bound.

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::receiver::Receiver;
use crate::webhooks::{add_endpoint, admin_of, hook_settings};

#[actix_rt::test]
async fn a_backlog_of_three_rounds_goes_out_in_one_tick_and_in_order() {
    // One tick every 30 s: the first at 30 s, a second round by ticks at 60 s. (Long, so the
    // sending below has time on a loaded machine: nothing is timed but the two ticks.)
    let started = std::time::Instant::now();
    let app = spawn_app_with(|s| {
        hook_settings(s);
        s.webhooks.poll_ms = 30_000;
        s.rate_limits.ws_frames_per_sec = 10_000;
        s.rate_limits.ws_burst = 10_000;
        s.rate_limits.messages_per_minute = 100_000;
    })
    .await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let mut ws = app.ws(&ann.token).await;
    let mut seqs = Vec::new();
    for i in 0..420 {
        let ack = ws.send_message(room, &format!("m{i}")).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        seqs.push(ack["seq"].clone());
    }
    let post = app
        .post_message(room, &ann.token, json!({"content": "last"}))
        .await;
    assert_eq!(post.status, StatusCode::CREATED);
    seqs.push(post.body["seq"].clone());
    // The first tick (30 s after the start) sends all 421 (three rounds of at most 200); by
    // ticks the second round would go at 60 s.
    let left = 58u64.saturating_sub(started.elapsed().as_secs());
    let got = rx.wait_delivered(421, left).await;
    let order: Vec<_> = got
        .iter()
        .map(|g| g.json()["data"]["seq"].clone())
        .collect();
    assert_eq!(order, seqs);
}
