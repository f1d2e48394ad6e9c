//! `confab import django`: a dumpdata export in each seed family's model shapes, imported into a
//! real database and read back through the API (rooms, members, order, reactions, unread
//! counts, a deleted message's text nowhere); twice is once; bad records are named; `--strict`
//! and `--dry-run` write nothing; a killed run continues.

use std::path::PathBuf;
use std::process::Command;

use awc::http::StatusCode;
use confab::auth::claims::platform_user_id;
use confab::auth::Role;
use confab::import::{self, Options, Report};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::count;

/// A dumpdata file of these records, in a temp dir that lives as long as the value.
pub struct Export {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn export(records: &[Value]) -> Export {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.json");
    std::fs::write(&path, serde_json::to_vec_pretty(records).expect("json")).expect("write");
    Export { _dir: dir, path }
}

pub fn rec(model: &str, pk: impl Into<Value>, fields: Value) -> Value {
    json!({"model": model, "pk": pk.into(), "fields": fields})
}

pub async fn run(app: &TestApp, file: &Export, strict: bool, dry_run: bool) -> Report {
    let options = Options {
        file: file.path.clone(),
        tenant: None,
        dry_run,
        strict,
        chunk: import::CHUNK,
    };
    import::run(&app.state.pool, options).await.expect("import")
}

/// A token of the platform user with this integer id, in the default tenant.
pub fn platform(app: &TestApp, id: u64) -> String {
    let user = platform_user_id(&json!(id)).expect("id");
    let tenant = Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap();
    app.platform_token(user, tenant, "someone", Role::User)
}

pub fn users() -> Vec<Value> {
    (1..=3)
        .map(|n| {
            let name = ["ann", "bob", "cat"][n - 1];
            rec(
                "auth.user",
                n,
                json!({"username": name, "email": format!("{name}@example.com"), "first_name": name.to_uppercase(), "last_name": "", "password": "pbkdf2_sha256$x"}),
            )
        })
        .collect()
}

pub const GROUP: &str = "6f1c3a9e-1111-4c55-9a0e-0000000000aa";

/// Seed 004's ChatRoom (participants M2M, direct_user1/2), Message (reactions map), and
/// MessageReadStatus.
pub fn seed_004() -> Vec<Value> {
    let mut r = users();
    r.push(rec("chat.chatroom", GROUP, json!({"name": "Project Alpha", "room_type": "project", "participants": [1, 2, 3], "created_by": 1, "is_active": true, "created_at": "2025-10-01T10:00:00Z", "updated_at": "2025-10-02T10:00:00Z", "direct_user1": null, "direct_user2": null})));
    r.push(rec("chat.chatroom", "6f1c3a9e-1111-4c55-9a0e-0000000000bb", json!({"name": "", "room_type": "direct", "participants": [1, 2], "created_by": 1, "direct_user1": 1, "direct_user2": 2, "created_at": "2025-10-01T10:00:00Z"})));
    let msg = |pk: &str, at: &str, sender: u64, content: &str, extra: Value| {
        let mut f = json!({"room": GROUP, "sender": sender, "content": content, "message_type": "text", "timestamp": at, "edited_at": null, "is_deleted": false, "reply_to": null, "reactions": {}, "file_attachment": ""});
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        rec("chat.message", pk, f)
    };
    let id = |n: u8| format!("0c0ffee0-0000-4000-8000-0000000000{n:02}");
    // Out of file order on purpose: the import orders by timestamp.
    r.push(msg(
        &id(3),
        "2025-10-02T10:03:00Z",
        1,
        "third",
        json!({"reactions": {"👍": [2, 3], "❤️": [3]}}),
    ));
    r.push(msg(&id(1), "2025-10-02T10:01:00Z", 1, "first", json!({})));
    r.push(msg(
        &id(2),
        "2025-10-02T10:02:00Z",
        2,
        "second, edited",
        json!({"edited_at": "2025-10-02T10:09:00Z"}),
    ));
    r.push(msg(
        &id(4),
        "2025-10-02T10:04:00Z",
        3,
        "the secret that was deleted",
        json!({"is_deleted": true}),
    ));
    r.push(msg(
        &id(5),
        "2025-10-02T10:05:00Z",
        3,
        "a reply",
        json!({"reply_to": id(1)}),
    ));
    r.push(rec(
        "chat.messagereadstatus",
        1,
        json!({"message": id(3), "user": 2, "read_at": "2025-10-02T11:00:00Z"}),
    ));
    r.push(rec(
        "chat.typingindicator",
        1,
        json!({"room": GROUP, "user": 1, "is_typing": false}),
    ));
    r
}

#[actix_rt::test]
async fn seed_004_export_reads_back_through_its_routes_and_the_native_api() {
    let app = spawn_app().await;
    let file = export(&seed_004());
    let report = run(&app, &file, false, false).await;
    assert_eq!(report.skipped_count, 0, "{}", report.summary());
    let bob = platform(&app, 2);
    let page = app
        .get(&format!("/api/chat/rooms/{GROUP}/messages/"), &bob)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let results = page.body["results"].as_array().unwrap();
    let contents: Vec<&str> = results
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["first", "second, edited", "third", "", "a reply"]
    );
    let seqs: Vec<i64> = results.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "seq runs 1..n in timestamp order");
    assert_eq!(results[1]["is_edited"], true);
    assert_eq!(results[3]["is_deleted"], true);
    assert_eq!(results[4]["reply_to"], results[0]["id"]);
    let reactions = &results[2]["reactions"];
    assert_eq!(reactions["👍"].as_array().unwrap().len(), 2);
    assert_eq!(reactions["❤️"].as_array().unwrap().len(), 1);
    assert_eq!(results[2]["read_by"][0]["display_name"], "BOB");
    // The room, its members and bob's unread count (he read up to "third"; "a reply" is new).
    let rooms = app.get("/api/chat/rooms/", &bob).await;
    assert_eq!(rooms.body["count"], 2);
    let group = rooms.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == GROUP)
        .unwrap();
    assert_eq!(
        group["room_type"], "group",
        "004's project rooms are groups"
    );
    assert_eq!(group["participants"].as_array().unwrap().len(), 3);
    assert_eq!(group["unread_count"], 1);
    let direct = app.get("/api/chat/rooms?room_type=direct", &bob).await;
    assert_eq!(
        direct.body["results"][0]["other_user"]["display_name"],
        "ANN"
    );
    let members = app
        .get(&format!("/api/chat/rooms/{GROUP}/members"), &bob)
        .await;
    let owner = members.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "owner")
        .unwrap();
    assert_eq!(
        owner["user"]["id"],
        platform_user_id(&json!(1)).unwrap().to_string()
    );
    // The deleted text is nowhere: not stored, not found.
    let old = "SELECT count(*) AS n FROM legacy_ids";
    assert_eq!(count(&app, old).await, 0, "UUID pks are their own ids");
    let secret = "SELECT count(*) AS n FROM messages WHERE content LIKE '%secret%'";
    assert_eq!(count(&app, secret).await, 0);
    let found = app.get("/api/chat/search/messages?q=secret", &bob).await;
    assert_eq!(found.body["results"], json!([]));
    // Resuming inside the imported history (which has no event log) asks for a resync instead
    // of replaying a part of it.
    let mut ws = app.ws(&bob).await;
    ws.request(json!({"type": "resume", "rooms": [{"room_id": GROUP, "after_seq": 2}]}))
        .await;
    let resync = ws.recv_type("resync_required").await;
    assert_eq!(resync["last_seq"], 5, "{resync}");
    // A new message continues the room's seq.
    let next = app
        .post_message(
            GROUP.parse::<Uuid>().unwrap(),
            &bob,
            json!({"content": "after the move"}),
        )
        .await;
    assert_eq!(next.body["seq"], 6, "{:?}", next.body);
}

/// Seed 001's ChatRoom (chat_type, course FK), ChatParticipant and ChatMessage (is_edited).
pub fn seed_001() -> Vec<Value> {
    let mut r = users();
    r.push(rec("chat.chatroom", 10, json!({"name": "Rust 101", "description": "Course chat", "chat_type": "course", "course": 7, "created_by": 1, "is_active": true, "max_participants": 100, "created_at": "2025-09-01T09:00:00Z", "updated_at": "2025-09-01T09:00:00Z"})));
    r.push(rec("chat.chatparticipant", 1, json!({"room": 10, "user": 1, "role": "admin", "joined_at": "2025-09-01T09:00:00Z", "is_active": true})));
    r.push(rec("chat.chatparticipant", 2, json!({"room": 10, "user": 2, "role": "member", "joined_at": "2025-09-01T09:05:00Z", "is_active": true})));
    r.push(rec("chat.chatparticipant", 3, json!({"room": 10, "user": 3, "role": "moderator", "joined_at": "2025-09-01T09:05:00Z", "is_active": false})));
    for (pk, at, content, edited) in [
        (101, "2025-09-02T09:00:00Z", "welcome", false),
        (
            100,
            "2025-09-02T09:00:00Z",
            "same time, lower pk first",
            false,
        ),
        (102, "2025-09-03T09:00:00Z", "fixed typo", true),
    ] {
        r.push(rec("chat.chatmessage", pk, json!({"room": 10, "sender": 1, "message_type": "text", "content": content, "file": "", "is_edited": edited, "is_deleted": false, "created_at": at, "updated_at": "2025-09-04T09:00:00Z"})));
    }
    r.push(rec(
        "chat.userpresence",
        1,
        json!({"user": 1, "status": "online"}),
    ));
    r
}

#[actix_rt::test]
async fn seed_001_course_room_keeps_its_course_roles_and_order() {
    let app = spawn_app().await;
    let report = run(&app, &export(&seed_001()), false, false).await;
    assert_eq!(report.skipped_count, 0, "{}", report.summary());
    let ann = platform(&app, 1);
    let room = app.get("/api/chat/rooms/by-ref/course/7", &ann).await;
    assert_eq!(room.status, StatusCode::OK, "{:?}", room.body);
    assert_eq!(room.body["name"], "Rust 101");
    assert_eq!(room.body["room_type"], "group");
    let id = room.body["id"].as_str().unwrap().to_owned();
    let members = app
        .get(&format!("/api/chat/rooms/{id}/members"), &ann)
        .await;
    let roles: Vec<&str> = members.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["admin", "member"],
        "the inactive participant has left"
    );
    let history = app.get(&messages_path(&id), &ann).await;
    let results = history.body["results"].as_array().unwrap();
    assert_eq!(results[0]["content"], "same time, lower pk first");
    assert_eq!(results[1]["content"], "welcome");
    assert!(results[2]["edited_at"].is_string(), "{}", results[2]);
    assert!(results[0]["edited_at"].is_null());
    // The old integer pks are kept beside the new ids.
    let old = "SELECT count(*) AS n FROM legacy_ids WHERE (kind = 'room' AND legacy_pk = '10') OR (kind = 'message' AND legacy_pk IN ('100', '101', '102'))";
    assert_eq!(count(&app, old).await, 4);
}

/// Seed 003's Conversation (generic link), ConversationParticipant (last_read_at),
/// ChatMessage, MessageReaction and MessageRead.
pub fn seed_003() -> Vec<Value> {
    let mut r = users();
    r.push(rec("chat.conversation", 5, json!({"title": "Job #42", "conversation_type": "job", "content_type": 12, "object_id": 42, "created_by": 1, "created_at": "2025-08-01T08:00:00Z"})));
    for (pk, user, role, read) in [
        (1, 1, "admin", Value::Null),
        (2, 2, "participant", json!("2025-08-01T08:02:30Z")),
        (3, 3, "observer", Value::Null),
    ] {
        r.push(rec("chat.conversationparticipant", pk, json!({"conversation": 5, "user": user, "role": role, "joined_at": "2025-08-01T08:00:00Z", "last_read_at": read})));
    }
    for (pk, minute, sender) in [(1, 1, 1), (2, 2, 2), (3, 3, 1), (4, 4, 1)] {
        r.push(rec("chat.chatmessage", pk, json!({"conversation": 5, "sender": sender, "content": format!("message {pk}"), "message_type": "text", "created_at": format!("2025-08-01T08:0{minute}:00Z"), "is_edited": false, "is_deleted": false})));
    }
    r.push(rec(
        "chat.messagereaction",
        1,
        json!({"message": 1, "user": 2, "emoji": "🎉"}),
    ));
    r.push(rec(
        "chat.messageread",
        1,
        json!({"message": 3, "user": 3, "read_at": "2025-08-01T09:00:00Z"}),
    ));
    r
}

#[actix_rt::test]
async fn seed_003_job_conversation_keeps_reactions_and_read_positions() {
    let app = spawn_app().await;
    let report = run(&app, &export(&seed_003()), false, false).await;
    assert_eq!(report.skipped_count, 0, "{}", report.summary());
    let bob = platform(&app, 2);
    let room = app.get("/api/chat/rooms/by-ref/job/42", &bob).await;
    assert_eq!(room.status, StatusCode::OK, "{:?}", room.body);
    let id = room.body["id"].as_str().unwrap().to_owned();
    let history = app.get(&messages_path(&id), &bob).await;
    let first = &history.body["results"][0];
    assert_eq!(first["reactions"][0]["emoji"], "🎉", "{first}");
    // bob read up to 08:02:30 (his own message 2): messages 3 and 4 are unread.
    let counts = app.get("/api/chat/rooms/unread_counts", &bob).await;
    assert_eq!(counts.body["rooms"][&id]["unread"], 2, "{:?}", counts.body);
    // cat read message 3: only message 4 is unread for her.
    let cat = platform(&app, 3);
    let counts = app.get("/api/chat/rooms/unread_counts", &cat).await;
    assert_eq!(counts.body["rooms"][&id]["unread"], 1, "{:?}", counts.body);
    let members = app
        .get(&format!("/api/chat/rooms/{id}/members"), &bob)
        .await;
    let roles: Vec<&str> = members.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "member", "observer"]);
}

/// Seed 000's ChatConversation (tenant_id), ChatParticipant, ChatMessage, MessageReaction, with
/// UUID pks and platform user ids that no user record names.
pub fn seed_000(other_tenant: Uuid) -> (Vec<Value>, Uuid, Uuid) {
    let tenant = "00000000-0000-0000-0000-000000000001";
    let (conv, ann, bob) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut r = vec![rec(
        "notifications.chatconversation",
        conv.to_string(),
        json!({"tenant_id": tenant, "title": "", "conversation_type": "direct", "created_by": ann, "is_active": true, "last_message_at": "2024-01-01T12:00:00Z", "created_at": "2024-01-01T10:00:00Z"}),
    )];
    r.push(rec(
        "notifications.chatconversation",
        Uuid::new_v4().to_string(),
        json!({"tenant_id": other_tenant, "title": "Elsewhere", "conversation_type": "group"}),
    ));
    for user in [ann, bob] {
        r.push(rec("notifications.chatparticipant", Uuid::new_v4().to_string(), json!({"conversation": conv, "user_id": user, "role": "member", "joined_at": "2024-01-01T10:00:00Z", "last_seen_at": "2024-01-01T12:00:00Z", "is_active": true})));
    }
    let first = Uuid::new_v4();
    r.push(rec("notifications.chatmessage", first.to_string(), json!({"conversation": conv, "sender_id": ann, "message_type": "text", "content": "Hello world!", "file_url": null, "reply_to": null, "edited_at": null, "is_deleted": false, "created_at": "2024-01-01T12:00:00Z"})));
    r.push(rec("notifications.chatmessage", Uuid::new_v4().to_string(), json!({"conversation": conv, "sender_id": bob, "message_type": "file", "content": "", "file_url": "/media/chat-files/report.pdf", "file_name": "report.pdf", "reply_to": first, "is_deleted": false, "created_at": "2024-01-01T12:01:00Z"})));
    r.push(rec("notifications.messagereaction", Uuid::new_v4().to_string(), json!({"message": first, "user_id": bob, "emoji": "👍", "created_at": "2024-01-01T12:01:00Z"})));
    (r, conv, bob)
}

#[actix_rt::test]
async fn seed_000_direct_conversation_with_platform_user_ids() {
    let app = spawn_app().await;
    let other = Uuid::new_v4();
    let (records, conv, bob) = seed_000(other);
    let report = run(&app, &export(&records), false, false).await;
    assert_eq!(report.skipped_count, 1, "{}", report.summary());
    assert!(
        report.skipped[0].why.contains(&other.to_string()),
        "{}",
        report.summary()
    );
    let tenant = Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap();
    let token = app.platform_token(bob, tenant, "Bob", Role::User);
    let room = app.get(&format!("/api/chat/rooms/{conv}"), &token).await;
    assert_eq!(room.status, StatusCode::OK, "{:?}", room.body);
    assert_eq!(room.body["room_type"], "direct");
    let history = app.get(&messages_path(conv), &token).await;
    let results = history.body["results"].as_array().unwrap();
    assert_eq!(results[1]["content"], "[file: report.pdf]");
    assert_eq!(results[1]["reply_to"], results[0]["id"]);
    assert_eq!(results[0]["reactions"][0]["emoji"], "👍");
}

#[actix_rt::test]
async fn twice_is_once_bad_records_are_named_and_strict_or_dry_runs_write_nothing() {
    let app = spawn_app().await;
    let mut records = seed_004();
    records.push(rec(
        "chat.message",
        "not-a-uuid-or-number",
        json!({"room": GROUP, "sender": 1, "content": "x", "timestamp": "2025-10-02T10:00:00Z"}),
    ));
    records.push(rec(
        "chat.message",
        "0c0ffee0-0000-4000-8000-0000000000ff",
        json!({"room": GROUP, "sender": 1, "content": "no time"}),
    ));
    records.push(json!({"pk": 1}));
    let file = export(&records);
    let tables = "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM rooms) + (SELECT count(*) FROM room_members) + (SELECT count(*) FROM reactions) + (SELECT count(*) FROM users) AS n";
    let before = count(&app, tables).await;
    for (strict, dry) in [(true, false), (false, true)] {
        let report = run(&app, &file, strict, dry).await;
        assert!(!report.written);
        assert_eq!(
            count(&app, tables).await,
            before,
            "strict {strict} dry {dry}"
        );
    }
    let first = run(&app, &file, false, false).await;
    assert_eq!(first.skipped_count, 3, "{}", first.summary());
    let summary = first.summary();
    assert!(
        summary.contains("chat.message pk not-a-uuid-or-number: the pk is not an id"),
        "{summary}"
    );
    assert!(
        summary.contains("pk 0c0ffee0-0000-4000-8000-0000000000ff: no created_at or timestamp"),
        "{summary}"
    );
    let after_first = count(&app, tables).await;
    let seqs = "SELECT sum(seq)::bigint AS n FROM messages";
    let seq_sum = count(&app, seqs).await;
    let second = run(&app, &file, false, false).await;
    assert!(second.written);
    assert_eq!(
        count(&app, tables).await,
        after_first,
        "the second run wrote nothing"
    );
    assert_eq!(count(&app, seqs).await, seq_sum);
    let messages: usize = second
        .moved
        .iter()
        .filter(|(s, _, _)| s == "messages")
        .map(|(_, n, _)| *n)
        .sum();
    assert_eq!(messages, 0);
}

/// 20 rooms of 3,000 messages each, written out of time order.
fn many_rooms() -> Vec<Value> {
    let mut records = users();
    let rooms = 20;
    for room in 0..rooms {
        records.push(rec("chat.chatroom", room + 1, json!({"name": format!("Room {room}"), "chat_type": "public", "created_by": 1, "created_at": "2025-01-01T00:00:00Z"})));
    }
    for pk in (0..60_000).rev() {
        let at = format!(
            "2025-01-01T{:02}:{:02}:{:02}Z",
            pk / 3600 % 24,
            pk / 60 % 60,
            pk % 60
        );
        records.push(rec("chat.chatmessage", pk + 1, json!({"room": pk % rooms + 1, "sender": pk % 3 + 1, "content": format!("message number {pk}"), "created_at": at, "reply_to": if pk >= 40 { json!(pk - 39) } else { Value::Null }})));
    }
    records
}

/// Every room's messages in seq order, with their replies, as one digest (ids differ by tenant
/// only, and these tests import into the default tenant).
const DIGEST: &str =
    "SELECT md5(string_agg(r.name || ':' || m.seq || ':' || m.id || ':' || m.content
     || ':' || COALESCE(m.reply_to::text, '') || ':' || m.reply_count, ',' ORDER BY r.name, m.seq))
     AS s FROM messages m JOIN rooms r ON r.id = m.room_id";

#[actix_rt::test]
async fn a_killed_import_continues_where_it_stopped() {
    let app = spawn_app().await;
    let file = export(&many_rooms());
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(["import", "django", "--chunk-messages", "1000", "--file"])
        .arg(&file.path)
        .env("CONFAB_CONFIG_DIR", manifest_dir().join("config"))
        .env("DATABASE_URL", &app.db.url)
        .env("CONFAB__DATABASE__URL", &app.db.url)
        .env("CONFAB__AUTH__JWT_SECRET", "x".repeat(40))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the import");
    // SIGKILL as soon as the first rooms' chunks are committed: no chance to clean up.
    let progress = "SELECT count(*) AS n FROM import_progress";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while count(&app, progress).await < 2 {
        assert!(std::time::Instant::now() < deadline, "no chunk committed");
        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.kill().expect("kill");
    child.wait().expect("reap");
    let done = count(&app, progress).await;
    let stored = "SELECT count(*) AS n FROM messages";
    let at_kill = count(&app, stored).await;
    assert!(done < 20, "killed mid-move: {done} of 20 rooms were done");
    assert_eq!(at_kill, done * 3_000, "only whole rooms were committed");
    let report = run(&app, &file, false, false).await;
    let summary = report.summary();
    assert_eq!(report.skipped_count, 0, "{summary}");
    assert_eq!(report.chunked.rooms_done_before as i64, done, "{summary}");
    assert_eq!(report.chunked.rooms_moved as i64, 20 - done, "{summary}");
    assert!(
        summary.contains(&format!(
            "resumed: {done} rooms ({} messages)",
            done * 3_000
        )),
        "{summary}"
    );
    assert_eq!(
        report.staged_messages as i64,
        60_000 - done * 3_000,
        "the moved rooms' messages are not staged again: {summary}"
    );
    assert!(summary.contains("search index merged after"), "{summary}");
    assert_eq!(count(&app, stored).await, 60_000);
    assert_eq!(count(&app, progress).await, 20);
    let found =
        "SELECT count(*) AS n FROM messages WHERE search @@ plainto_tsquery('english', 'number')";
    assert_eq!(
        count(&app, found).await,
        60_000,
        "all imported history is searchable"
    );
    let gaps = "SELECT count(*) AS n FROM rooms r WHERE r.last_seq <> (SELECT count(*) FROM messages m WHERE m.room_id = r.id) OR r.last_seq <> (SELECT COALESCE(max(seq), 0) FROM messages m WHERE m.room_id = r.id)";
    assert_eq!(count(&app, gaps).await, 0, "every room's seq runs 1..n");
    // The same file imported in one go into a fresh database: the same rooms, seqs and replies.
    let clean = spawn_app().await;
    let whole = run(&clean, &file, false, false).await;
    assert_eq!(whole.chunked.rooms_done_before, 0);
    let mut conn = app.db.conn().await;
    let mut clean_conn = clean.db.conn().await;
    assert_eq!(
        crate::sql::text(&mut conn, DIGEST).await,
        crate::sql::text(&mut clean_conn, DIGEST).await
    );
    let replies = "SELECT count(*) AS n FROM messages WHERE reply_to IS NOT NULL";
    assert_eq!(count(&app, replies).await, 60_000 - 40, "{summary}");
}
