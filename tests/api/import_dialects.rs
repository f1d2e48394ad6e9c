//! An imported export read back through its own seed's dialect routes (001's `/chat/rooms/…`,
//! 003's `/chat/conversations/…`, 000/002's `/api/notifications/chat/…`): rooms, members,
//! order, reactions, unread counts, a deleted message's text nowhere, and the old integer ids
//! of 001 and 003 in URLs and bodies (unknown or another tenant's: 404).

use awc::http::StatusCode;
use confab::auth::Role;
use confab::import::{self, Options};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::import::{export, platform, rec, run, seed_000, seed_001, seed_003, users, Export};
use crate::sql::{count, exec};

const SECRET: &str = "the deleted secret";

/// Imports `file` into the tenant named `tenant`.
async fn run_into(app: &TestApp, file: &Export, tenant: &str) {
    let options = Options {
        file: file.path.clone(),
        tenant: Some(tenant.into()),
        dry_run: false,
        strict: false,
        chunk: import::CHUNK,
    };
    let report = import::run(&app.state.pool, options).await.expect("import");
    assert_eq!(report.skipped_count, 0, "{}", report.summary());
}

/// A second tenant holding a room with pk 77 and a message with pk 770 (integers the default
/// tenant never imported), and one with pk 10 (which it did).
async fn other_tenant(app: &TestApp) -> Uuid {
    let id = Uuid::new_v4();
    let mut conn = app.db.conn().await;
    exec(
        &mut conn,
        &format!("INSERT INTO tenants (id, name) VALUES ('{id}', 'elsewhere')"),
    )
    .await;
    let mut r = users();
    for room in [10, 77] {
        r.push(rec("chat.chatroom", room, json!({"name": format!("Theirs {room}"), "chat_type": "public", "created_by": 1, "created_at": "2025-09-01T09:00:00Z"})));
    }
    r.push(rec("chat.chatmessage", 770, json!({"room": 77, "sender": 1, "content": "their message", "created_at": "2025-09-02T09:00:00Z"})));
    run_into(app, &export(&r), "elsewhere").await;
    id
}

/// No answer of `urls` nor any stored row holds the deleted text.
async fn secret_nowhere(app: &TestApp, token: &str, urls: &[String]) {
    for url in urls {
        let a = app.get(url, token).await;
        assert_eq!(a.status, StatusCode::OK, "{url}: {:?}", a.body);
        assert!(!a.body.to_string().contains("secret"), "{url}: {}", a.body);
    }
    let stored = "SELECT count(*) AS n FROM messages WHERE content LIKE '%secret%'";
    assert_eq!(count(app, stored).await, 0);
}

async fn not_found(app: &TestApp, token: &str, urls: &[&str]) {
    for url in urls {
        let a = app.get(url, token).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{url}: {:?}", a.body);
    }
}

fn contents(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_rt::test]
async fn seed_001_reads_back_through_its_rooms_and_messages_by_old_integer_ids() {
    let app = spawn_app().await;
    let mut records = seed_001();
    records.push(rec("chat.chatmessage", 103, json!({"room": 10, "sender": 2, "message_type": "text", "content": SECRET, "is_edited": false, "is_deleted": true, "created_at": "2025-09-05T09:00:00Z"})));
    records.push(rec(
        "chat.messagereaction",
        1,
        json!({"message": 100, "user": 2, "emoji": "👍"}),
    ));
    run(&app, &export(&records), false, false).await;
    let ann = platform(&app, 1);
    let room = app.get("/chat/rooms/10/", &ann).await;
    assert_eq!(room.status, StatusCode::OK, "{:?}", room.body);
    assert_eq!(room.body["name"], "Rust 101");
    assert_eq!(room.body["chat_type"], "course");
    assert_eq!(room.body["course"], "7");
    assert_eq!(room.body["participant_count"], 2);
    let people = app.get("/chat/rooms/10/participants/", &ann).await;
    assert_eq!(
        people.body.as_array().map(Vec::len),
        Some(2),
        "{:?}",
        people.body
    );
    let page = app.get("/chat/rooms/10/messages/", &ann).await;
    let expected = ["same time, lower pk first", "welcome", "fixed typo", ""];
    assert_eq!(contents(&page.body), expected, "{:?}", page.body);
    let filtered = app.get("/chat/messages/?room=10", &ann).await;
    assert_eq!(contents(&filtered.body), expected);
    let one = app.get("/chat/messages/100/", &ann).await;
    assert_eq!(one.body["content"], "same time, lower pk first");
    let reactions = app.get("/chat/messages/100/reactions/", &ann).await;
    assert_eq!(reactions.body[0]["emoji"], "👍", "{:?}", reactions.body);
    assert_eq!(reactions.body[0]["count"], 1);
    let urls = [
        "/chat/rooms/10/messages/".to_owned(),
        "/chat/messages/103/".to_owned(),
        "/chat/messages/?room=10".to_owned(),
    ];
    secret_nowhere(&app, &ann, &urls).await;
    // A reply sent with the old ids lands in the room, after the history.
    let sent = app
        .post(
            "/chat/messages/",
            &ann,
            json!({"room": 10, "content": "back again", "reply_to": 100}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["seq"], 5, "{:?}", sent.body);
    // Unknown integers, a malformed id, and another tenant's old ids: 404 (400 in a body).
    other_tenant(&app).await;
    let unknown = [
        "/chat/rooms/999/",
        "/chat/rooms/77/",
        "/chat/messages/770/",
        "/chat/rooms/x1/",
    ];
    not_found(&app, &ann, &unknown).await;
    let theirs = app
        .post(
            "/chat/messages/",
            &ann,
            json!({"room": 77, "content": "hi"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{:?}", theirs.body);
    let bad = app
        .post(
            "/chat/messages/",
            &ann,
            json!({"room": "x", "content": "hi"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    let unauthorized = app.get("/chat/rooms/10/", "not-a-token").await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn seed_003_reads_back_through_its_conversations_by_old_integer_ids() {
    let app = spawn_app().await;
    let mut records = seed_003();
    records.push(rec("chat.chatmessage", 5, json!({"conversation": 5, "sender": 3, "content": SECRET, "message_type": "text", "created_at": "2025-08-01T08:00:30Z", "is_edited": false, "is_deleted": true})));
    run(&app, &export(&records), false, false).await;
    let bob = platform(&app, 2);
    let conv = app.get("/chat/conversations/5/", &bob).await;
    assert_eq!(conv.status, StatusCode::OK, "{:?}", conv.body);
    let id = conv.body["id"].as_str().expect("id").to_owned();
    assert_eq!(conv.body["title"], "Job #42");
    assert_eq!(conv.body["participant_count"], 3, "{:?}", conv.body);
    assert_eq!(conv.body["unread_count"], 2, "{:?}", conv.body);
    let job = app.get("/jobs/42/conversation/", &bob).await;
    assert_eq!(job.body["id"], id.as_str(), "{:?}", job.body);
    let counts = app.get("/chat/conversations/unread_counts/", &bob).await;
    assert_eq!(counts.body["total_unread"], 2, "{:?}", counts.body);
    let page = app.get("/chat/messages/?conversation=5", &bob).await;
    let expected = ["", "message 1", "message 2", "message 3", "message 4"];
    assert_eq!(contents(&page.body), expected, "{:?}", page.body);
    let first = app.get("/chat/messages/1/", &bob).await;
    assert_eq!(
        first.body["reactions"][0]["emoji"], "🎉",
        "{:?}",
        first.body
    );
    let urls = [
        "/chat/messages/?conversation=5".to_owned(),
        "/chat/messages/5/".to_owned(),
        format!("/chat/messages/?conversation={id}"),
    ];
    secret_nowhere(&app, &bob, &urls).await;
    // Marking read by old ids: message 3 in the body, then the conversation.
    let marked = app
        .post(
            "/chat/messages/mark_multiple_read/",
            &bob,
            json!({"message_ids": [3, "3"]}),
        )
        .await;
    assert_eq!(marked.body["marked_count"], 1, "{:?}", marked.body);
    let read = app
        .post("/chat/conversations/5/mark_read/", &bob, json!({}))
        .await;
    assert_eq!(read.body["unread_count"], 0, "{:?}", read.body);
    other_tenant(&app).await;
    let unknown = [
        "/chat/conversations/999/",
        "/chat/conversations/77/",
        "/chat/messages/770/",
        "/chat/messages/?conversation=77",
    ];
    not_found(&app, &bob, &unknown).await;
    let theirs = app
        .post(
            "/chat/messages/mark_multiple_read/",
            &bob,
            json!({"message_ids": [770]}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{:?}", theirs.body);
    // A stranger of another tenant asking for this tenant's old id: 404.
    let stranger = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let a = app.get("/chat/conversations/5/", &stranger).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.body);
}

#[actix_rt::test]
async fn seed_000_reads_back_through_the_notifications_routes() {
    let app = spawn_app().await;
    let (mut records, conv, bob) = seed_000(Uuid::new_v4());
    let ann = records[0]["fields"]["created_by"].clone();
    records.push(rec("notifications.chatmessage", Uuid::new_v4().to_string(), json!({"conversation": conv, "sender_id": ann, "message_type": "text", "content": SECRET, "is_deleted": true, "created_at": "2024-01-01T12:02:00Z"})));
    run(&app, &export(&records), false, false).await;
    let tenant = Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap();
    let token = app.platform_token(bob, tenant, "Bob", Role::User);
    let base = "/api/notifications/chat/conversations";
    let one = app.get(&format!("{base}/{conv}/"), &token).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["conversation_type"], "direct", "{:?}", one.body);
    let people = app
        .get(&format!("{base}/{conv}/participants/"), &token)
        .await;
    assert_eq!(people.body["count"], 2, "{:?}", people.body);
    let page = app.get(&format!("{base}/{conv}/messages/"), &token).await;
    let expected = ["Hello world!", "[file: report.pdf]", ""];
    assert_eq!(contents(&page.body), expected, "{:?}", page.body);
    assert_eq!(page.body["results"][0]["reactions"][0]["emoji"], "👍");
    let list = app.get(&format!("{base}/"), &token).await;
    assert_eq!(
        list.body["results"][0]["id"],
        conv.to_string(),
        "{:?}",
        list.body
    );
    assert_eq!(list.body["results"][0]["participant_count"], 2);
    // 000's routes have no unread count: the native one (bob has read nothing; his own file
    // message and the tombstone do not count).
    let counts = app.get("/api/chat/rooms/unread_counts", &token).await;
    assert_eq!(
        counts.body["rooms"][conv.to_string()]["unread"],
        1,
        "{:?}",
        counts.body
    );
    let urls = [format!("{base}/{conv}/messages/"), format!("{base}/")];
    secret_nowhere(&app, &token, &urls).await;
    let stranger = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let a = app.get(&format!("{base}/{conv}/"), &stranger).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.body);
}
