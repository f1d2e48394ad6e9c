//! Room events go out from the event log past each endpoint's cursors (issue 14): an endpoint is
//! sent what is committed after it was created (or enabled again), never what came before; a new
//! room's `room.created` (kept in the outbox) goes before its first message; and nothing of a
//! delivery that went at once is written but the cursor.

use std::time::Duration;

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::Receiver;
use crate::webhooks::{add_endpoint, admin_of, contents, group, hook_app, say};

#[actix_rt::test]
async fn an_endpoint_is_sent_what_is_committed_after_it_was_created_or_enabled_again() {
    let app = hook_app().await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let (owner, _, room) = group(&app).await;
    say(&app, room, &owner, "before the endpoint").await;
    let (id, _) = add_endpoint(&app, &admin, &rx.url, &["message.created"]).await;
    say(&app, room, &owner, "after one").await;
    rx.wait_delivered(1, 15).await;

    let path = format!("/api/admin/webhooks/{id}");
    let off = app.patch(&path, &admin, json!({"enabled": false})).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    say(&app, room, &owner, "while off").await;
    let on = app.patch(&path, &admin, json!({"enabled": true})).await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    say(&app, room, &owner, "after two").await;
    rx.wait_delivered(2, 15).await;
    // A rescan (every 5 s) would find anything left behind a cursor: wait past one.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(contents(&rx.got()), vec!["after one", "after two"]);

    let list = app.get(&format!("{path}/deliveries"), &admin).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(
        list.body["results"],
        json!([]),
        "first attempts leave no row"
    );
}

#[actix_rt::test]
async fn a_new_rooms_room_created_goes_before_its_first_events() {
    let app = hook_app().await;
    let rx = Receiver::start(0).await;
    let admin = admin_of(&app, DEFAULT_TENANT);
    let kinds = ["room.created", "message.created"];
    add_endpoint(&app, &admin, &rx.url, &kinds).await;
    let (owner, _, room) = group(&app).await;
    let sent = say(&app, room, &owner, "first words").await;
    let got = rx.wait_delivered(1, 15).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !rx
        .got()
        .iter()
        .any(|g| g.json()["type"] == "message.created")
    {
        assert!(std::time::Instant::now() < deadline, "{got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let types: Vec<Value> = rx
        .got()
        .iter()
        .filter(|g| g.json()["data"]["room_id"] == room.to_string())
        .map(|g| g.json()["type"].clone())
        .collect();
    assert_eq!(types, vec!["room.created", "message.created"]);
    let last = rx.got().pop().expect("the message");
    assert_eq!(last.json()["data"]["seq"], sent["seq"]);
    assert_eq!(last.id, format!("msg_{}_{}", room.simple(), sent["seq"]));
}
