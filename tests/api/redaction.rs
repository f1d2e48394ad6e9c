//! Redaction: after a delete or an edit, no path that serves stored messages (resume replay,
//! history, a single message, thread, search, edit history) sends the old text again. The checks
//! read the bytes that came off the wire, not a parsed field.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const SECRET: &str = "SECRETzqx deleted words";
const FILE_SECRET: &str = "FILESECRETzqx caption";
const OLD: &str = "OLDTEXTzqx before the edit";
const NEW: &str = "new text after the edit";

async fn send(ws: &mut Ws, room: Uuid, body: Value) -> String {
    let mut frame = send_frame(room, "");
    for (k, v) in body.as_object().unwrap() {
        frame = with(frame, k, v.clone());
    }
    let ack = ws.request(frame).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ack["message"]["id"].as_str().unwrap().to_owned()
}

fn assert_clean(what: &str, raw: &str, extra: &[&str]) {
    for needle in [SECRET, FILE_SECRET, OLD, "SECRETzqx", "OLDTEXTzqx"]
        .iter()
        .chain(extra)
    {
        assert!(
            !raw.contains(needle),
            "{what} still carries {needle:?}: {raw}"
        );
    }
}

/// Resumes `room` from seq 0 as `user` on a fresh socket; answers every frame's raw text.
async fn replay(app: &TestApp, user: &User, room: Uuid) -> Vec<String> {
    let mut ws = app.ws(&user.token).await;
    let ack = ws
        .request(json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": 0}]}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    while ws.recv().await["type"] != "resumed" {}
    ws.raw.clone()
}

#[actix_rt::test]
async fn deleted_and_edited_text_is_never_served_again() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.room(&alice, "group", &[&bob]).await;
    let mut a = app.ws(&alice.token).await;
    let ack = a
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack");

    let root = send(&mut a, room, json!({"content": "thread root"})).await;
    let secret = send(&mut a, room, json!({"content": SECRET, "reply_to": root})).await;
    a.request(json!({"type": "add_reaction", "message_id": secret, "emoji": "👍"}))
        .await;
    // Edited before it is deleted: an edit-history row and a message_updated carry it too.
    let ack = a
        .request(json!({"type": "edit_message", "message_id": secret, "content": format!("{SECRET} v2")}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let file = crate::uploads::uploaded(&app, &alice, "secretplan.txt", b"plan").await;
    let file_id = file["id"].as_str().unwrap().to_owned();
    let with_file = send(
        &mut a,
        room,
        json!({"content": FILE_SECRET, "attachment_id": file_id, "message_type": "file"}),
    )
    .await;
    let edited = send(&mut a, room, json!({"content": OLD})).await;
    // Replayed before the change, the log does carry the text (the test would see a leak).
    assert!(replay(&app, &bob, room).await.concat().contains(SECRET));

    for id in [&secret, &with_file] {
        let ack = a
            .request(json!({"type": "delete_message", "message_id": id}))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let ack = a
        .request(json!({"type": "edit_message", "message_id": edited, "content": NEW}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    // Resume from the start: every event, the earlier new_message events included.
    let frames = replay(&app, &bob, room).await;
    let all = frames.concat();
    assert_clean("the resume replay", &all, &[&file_id, "secretplan"]);
    assert!(
        all.contains(NEW),
        "the edited message's earlier event carries the current text"
    );
    let first = frames
        .iter()
        .find(|f| f.contains("new_message") && f.contains(&edited))
        .expect("the edited message's new_message is replayed");
    let first: Value = serde_json::from_str(first).unwrap();
    assert_eq!(first["message"]["content"], NEW);
    assert!(first["message"]["edited_at"].is_string(), "{first}");
    let tomb = frames
        .iter()
        .find(|f| f.contains("new_message") && f.contains(&secret))
        .expect("the deleted message's new_message is replayed");
    let tomb: Value = serde_json::from_str(tomb).unwrap();
    assert_eq!(tomb["message"]["is_deleted"], true);
    assert_eq!(tomb["message"]["content"], "");
    assert_eq!(tomb["message"]["reactions"], json!([]));

    // REST: history, each message, the thread, search.
    let base = format!("/api/chat/rooms/{room}/messages");
    let history = app.get(&base, &bob.token).await;
    assert_eq!(history.status, 200);
    assert_clean("history", &history.raw, &[&file_id]);
    assert!(history.raw.contains(NEW));
    for id in [&secret, &with_file, &edited] {
        let one = app.get(&format!("{base}/{id}"), &bob.token).await;
        assert_eq!(one.status, 200, "{}", one.raw);
        assert_clean("a single message", &one.raw, &[&file_id]);
    }
    let thread = app.get(&format!("{base}/{root}/thread"), &bob.token).await;
    assert_eq!(thread.status, 200);
    assert_clean("the thread", &thread.raw, &[]);
    for q in [
        "SECRETzqx",
        "FILESECRETzqx",
        "OLDTEXTzqx",
        "deleted",
        "caption",
    ] {
        let hits = app
            .get(
                &format!("/api/chat/search/messages?q={}", pct(q)),
                &alice.token,
            )
            .await;
        assert_eq!(hits.status, 200);
        assert_eq!(hits.body["results"], json!([]), "search {q}: {}", hits.raw);
        assert_clean("search", &hits.raw, &[]);
    }

    // Edit history: gone with the deleted message; kept for the sender of the live one.
    let gone = app
        .get(&format!("{base}/{secret}/history"), &alice.token)
        .await;
    assert_eq!(gone.status, 200);
    assert_clean("a deleted message's edit history", &gone.raw, &[]);
    let kept = app
        .get(&format!("{base}/{edited}/history"), &alice.token)
        .await;
    assert_eq!(kept.body["results"][0]["previous_content"], OLD);
    let other = app
        .get(&format!("{base}/{edited}/history"), &bob.token)
        .await;
    assert_eq!(other.status, 403);

    // And nothing stored anywhere in the event log or the tombstones.
    let left = crate::sql::count(
        &app,
        "SELECT (SELECT count(*) FROM room_events WHERE payload LIKE '%zqx%')
              + (SELECT count(*) FROM messages WHERE content LIKE '%SECRETzqx%')
              + (SELECT count(*) FROM message_edits WHERE previous_content LIKE '%SECRETzqx%') AS n",
    )
    .await;
    assert_eq!(left, 0);
}
