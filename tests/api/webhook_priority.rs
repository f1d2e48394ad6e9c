//! The webhook worker runs on a thread of its own in Linux's idle scheduling class (issue 14:
//! ingest goes first when the cores are busy), and delivers from there.

use crate::helpers::*;
use crate::receiver::Receiver;
use crate::webhooks::{add_endpoint, admin_of, group, hook_settings, say};

/// The threads of this process in the idle class (`SCHED_IDLE`, policy 5 in
/// `/proc/self/task/*/stat`, field 41).
fn idle_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            let after_name = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
            after_name.split(' ').nth(38) == Some("5")
        })
        .count()
}

#[actix_rt::test]
async fn the_worker_runs_in_the_idle_class_and_delivers() {
    let before = idle_threads();
    let app = spawn_app_with(|s| {
        hook_settings(s);
        s.webhooks.idle_priority = true;
    })
    .await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    let (owner, _, room) = group(&app).await;
    say(&app, room, &owner, "from the idle class").await;
    let got = rx.wait_delivered(1, 60).await;
    assert_eq!(
        got[0].json()["data"]["event"]["message"]["content"],
        "from the idle class"
    );
    assert!(
        idle_threads() > before,
        "no thread of the new node is in SCHED_IDLE"
    );
}
