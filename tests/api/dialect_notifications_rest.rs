//! Seeds 000/002's REST endpoints (`/api/notifications/chat/…`) replayed with the bodies their
//! documents show, against the real server: the answers' status and the fields the documents
//! name; bad, too large, unauthorized and other-tenant input in DRF's error shape, changing
//! nothing.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::count;

pub const BASE: &str = "/api/notifications/chat";

pub fn conv(id: impl std::fmt::Display) -> String {
    format!("{BASE}/conversations/{id}/")
}

/// 000's file upload: multipart with one `file` part (201).
pub async fn upload(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> Answer {
    let (content_type, body) = crate::uploads::form(name, "application/pdf", bytes);
    app.send_raw(
        "POST",
        &format!("{BASE}/upload/"),
        &[
            ("Content-Type", content_type.as_str()),
            ("Authorization", &format!("Bearer {token}")),
        ],
        Some(&body),
    )
    .await
}

/// A conversation of `owner` with `others` in it, made through the dialect.
pub async fn conversation(app: &TestApp, owner: &User, others: &[&User]) -> Uuid {
    let body = json!({"title": "Project Team Chat", "conversation_type": "group"});
    let a = app
        .post(&format!("{BASE}/conversations/"), &owner.token, body)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let id: Uuid = a.body["id"].as_str().unwrap().parse().unwrap();
    for u in others {
        let add = json!({"user_id": u.id, "role": "member"});
        let p = app
            .post(&format!("{}participants/", conv(id)), &owner.token, add)
            .await;
        assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    }
    id
}

fn assert_drf_error(a: &Answer, status: u16) {
    assert_eq!(a.status.as_u16(), status, "{:?}", a.body);
    assert!(a.body["detail"].is_string(), "{:?}", a.body);
}

async fn message_count(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) AS n FROM messages").await
}

#[actix_rt::test]
async fn conversation_and_participant_examples_answer_as_documented() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let create = json!({"title": "Project Team Chat", "conversation_type": "group"});
    let a = app
        .post(&format!("{BASE}/conversations/"), &ann.token, create)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    for field in ["id", "created_at", "tenant_id"] {
        assert!(a.body[field].is_string(), "{field}: {:?}", a.body);
    }
    assert_eq!(a.body["title"], "Project Team Chat");
    assert_eq!(a.body["conversation_type"], "group");
    assert_eq!(a.body["participant_count"], 1);
    assert_eq!(a.body["last_message"], Value::Null);
    assert_eq!(a.body["created_by"], ann.id.to_string());
    assert_eq!(a.body["is_active"], true);
    let id = a.body["id"].as_str().unwrap().to_owned();

    let add = json!({"user_id": bob.id, "role": "member"});
    let p = app
        .post(&format!("{}participants/", conv(&id)), &ann.token, add)
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    assert_eq!(p.body["user_id"], bob.id.to_string());
    assert_eq!(p.body["role"], "member");
    assert_eq!(p.body["conversation"], id.as_str());
    assert_eq!(p.body["is_active"], true);
    let list = app
        .get(&format!("{}participants/", conv(&id)), &bob.token)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["count"], 2);
    assert_eq!(list.body["results"].as_array().unwrap().len(), 2);

    let mine = app.get(&format!("{BASE}/conversations/"), &bob.token).await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    assert_eq!(mine.body["count"], 1);
    assert_eq!(mine.body["next"], Value::Null);
    assert_eq!(mine.body["results"][0]["participant_count"], 2);
    // A second conversation: two pages of one.
    conversation(&app, &ann, &[&bob]).await;
    let first_page = format!("{BASE}/conversations/?page=1&page_size=1");
    let p1 = app.get(&first_page, &bob.token).await;
    assert_eq!(p1.body["count"], 2, "{:?}", p1.body);
    let next = p1.body["next"].as_str().unwrap();
    let p2 = app
        .get(&next[next.find("/api/").unwrap()..], &bob.token)
        .await;
    assert_eq!(p2.status, StatusCode::OK, "{:?}", p2.body);
    assert_eq!(p2.body["results"].as_array().unwrap().len(), 1);
    assert_ne!(p2.body["results"][0]["id"], p1.body["results"][0]["id"]);
    assert_eq!(p2.body["next"], Value::Null);
    let one = app.get(&conv(&id), &bob.token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["title"], "Project Team Chat");

    let renamed = app
        .put(&conv(&id), &ann.token, json!({"title": "Renamed"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["title"], "Renamed");
    // A member may not rename (the native rule), and nothing changes.
    let refused = app
        .put(&conv(&id), &bob.token, json!({"title": "Mine"}))
        .await;
    assert_drf_error(&refused, 403);
    assert_eq!(
        app.get(&conv(&id), &bob.token).await.body["title"],
        "Renamed"
    );

    let gone = app.delete(&conv(&id), &ann.token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&conv(&id), &ann.token).await.body["is_active"],
        false
    );
}

#[actix_rt::test]
async fn message_and_reaction_examples_answer_as_documented() {
    let (app, _dir) = crate::uploads::app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = conversation(&app, &ann, &[&bob]).await;
    let messages = format!("{}messages/", conv(id));
    // The document's body verbatim: its reply_to is a placeholder, refused and nothing stored.
    let verbatim =
        json!({"message_type": "text", "content": "Hello everyone! 👋", "reply_to": "uuid"});
    let a = app.post(&messages, &ann.token, verbatim).await;
    assert_drf_error(&a, 400);
    assert!(a.body["reply_to"].is_array(), "{:?}", a.body);
    assert_eq!(message_count(&app).await, 0);
    let send = json!({"message_type": "text", "content": "Hello everyone! 👋"});
    let a = app.post(&messages, &ann.token, send).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let first = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["sender_id"], ann.id.to_string());
    assert_eq!(a.body["message_type"], "text");
    assert_eq!(a.body["content"], "Hello everyone! 👋");
    assert_eq!(a.body["reactions"], json!([]));
    assert_eq!(a.body["reply_count"], 0);
    assert!(a.body["created_at"].is_string());
    let reply = json!({"message_type": "text", "content": "a reply", "reply_to": first});
    let r = app.post(&messages, &bob.token, reply).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["reply_to"], first.as_str());

    let page = app.get(&messages, &bob.token).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(page.body["count"], 2);
    assert_eq!(page.body["results"][0]["id"], first.as_str());
    let two = app
        .get(&format!("{messages}?page=2&page_size=1"), &bob.token)
        .await;
    assert_eq!(two.body["results"].as_array().unwrap().len(), 1);
    assert!(two.body["previous"].is_string());
    let one = format!("{messages}{first}/");
    let edited = app
        .put(&one, &ann.token, json!({"content": "Hello world!"}))
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["content"], "Hello world!");
    assert!(edited.body["edited_at"].is_string());
    assert_drf_error(
        &app.put(&one, &bob.token, json!({"content": "x"})).await,
        403,
    );

    let reactions = format!("{BASE}/messages/{first}/reactions/");
    let thumbs = app
        .post(&reactions, &bob.token, json!({"emoji": "👍"}))
        .await;
    assert_eq!(thumbs.status, StatusCode::CREATED, "{:?}", thumbs.body);
    assert_eq!(thumbs.body["emoji"], "👍");
    assert_eq!(thumbs.body["user_id"], bob.id.to_string());
    assert_eq!(thumbs.body["message"], first.as_str());
    assert!(thumbs.body["created_at"].is_string());
    let again = app
        .post(&reactions, &bob.token, json!({"emoji": "👍"}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let listed = app.get(&reactions, &ann.token).await;
    assert_eq!(listed.body["count"], 1, "{:?}", listed.body);
    let got = app.get(&one, &bob.token).await;
    assert_eq!(got.body["reactions"][0]["emoji"], "👍");

    assert_eq!(
        app.delete(&one, &ann.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&one, &bob.token).await.body["is_deleted"], true);
}

#[actix_rt::test]
async fn file_and_presence_examples_answer_as_documented() {
    let (app, _dir) = crate::uploads::app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = conversation(&app, &ann, &[&bob]).await;
    let messages = format!("{}messages/", conv(id));
    // "Send File" verbatim names a file this server never stored: 400 on file_url.
    let file = json!({"message_type": "file", "content": "Check out this document",
        "file_url": "/media/chat-files/doc.pdf", "file_name": "project_plan.pdf", "file_size": 2048000});
    let f = app.post(&messages, &ann.token, file.clone()).await;
    assert_drf_error(&f, 400);
    assert!(f.body["file_url"].is_array(), "{:?}", f.body);
    // The upload's answer, then the same body with its file_url.
    let up = upload(&app, &ann.token, "document.pdf", b"%PDF-1.4 plan").await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
    assert_eq!(up.body["file_name"], "document.pdf");
    assert_eq!(up.body["file_size"], 13);
    assert!(up.body["content_type"].is_string());
    let mut file = file;
    file["file_url"] = up.body["file_url"].clone();
    let f = app.post(&messages, &ann.token, file).await;
    assert_eq!(f.status, StatusCode::CREATED, "{:?}", f.body);
    assert_eq!(f.body["message_type"], "file");
    assert_eq!(f.body["file_name"], "document.pdf");
    assert_eq!(f.body["file_size"], 13);
    assert!(f.body["file_url"]
        .as_str()
        .unwrap()
        .contains("/api/chat/uploads/"));

    // Presence is a connected user's: ann is online on the multiplexed socket.
    let _online = app.ws(&ann.token).await;
    let busy = json!({"status": "busy", "current_conversation": id});
    let p = app
        .put(&format!("{BASE}/presence/me/"), &ann.token, busy)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert_eq!(p.body["status"], "busy");
    assert_eq!(p.body["current_conversation"], id.to_string());
    let me = app.get(&format!("{BASE}/presence/me/"), &ann.token).await;
    assert_eq!(me.body["user_id"], ann.id.to_string());
    let all = app.get(&format!("{BASE}/presence/"), &bob.token).await;
    assert_eq!(all.body["count"], 2, "{:?}", all.body);
    let bad = app
        .put(
            &format!("{BASE}/presence/me/"),
            &ann.token,
            json!({"status": "asleep"}),
        )
        .await;
    assert_drf_error(&bad, 400);
}

/// Ann's conversation, eve (of her tenant, not in it) and oz (of another tenant).
struct Strangers {
    app: TestApp,
    _dir: tempfile::TempDir,
    ann: User,
    eve: User,
    id: Uuid,
    messages: String,
    oz: String,
}

async fn strangers() -> Strangers {
    let (app, _dir) = crate::uploads::app().await;
    let ann = app.register("ann").await;
    let eve = app.register("eve").await;
    let id = conversation(&app, &ann, &[]).await;
    let oz = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    Strangers {
        messages: format!("{}messages/", conv(id)),
        app,
        _dir,
        ann,
        eve,
        id,
        oz,
    }
}

#[actix_rt::test]
async fn bad_unauthorized_and_other_tenant_requests_change_nothing() {
    let Strangers {
        app,
        _dir,
        ann,
        eve,
        id,
        messages,
        oz,
    } = strangers().await;
    let hello = json!({"message_type": "text", "content": "hi"});
    // No token: 401; another tenant or a stranger: 404, never data.
    let none = app.send("POST", &messages, None, Some(hello.clone())).await;
    assert_drf_error(&none, 401);
    for token in [&oz, &eve.token] {
        assert_drf_error(&app.post(&messages, token, hello.clone()).await, 404);
        assert_drf_error(&app.get(&messages, token).await, 404);
        assert_drf_error(&app.get(&conv(id), token).await, 404);
        assert_drf_error(
            &app.get(&format!("{}participants/", conv(id)), token).await,
            404,
        );
    }
    let other_list = app.get(&format!("{BASE}/conversations/"), &oz).await;
    assert_eq!(other_list.body["count"], 0);
    // Wrong input.
    let too_long = "x".repeat(app.settings.limits.max_message_chars + 1);
    let cases = [
        (json!({"message_type": "text", "content": too_long}), 413),
        (json!({"message_type": "text", "content": ""}), 400),
        (json!({"message_type": "bogus", "content": "x"}), 400),
        (json!({"content": 7}), 400),
        (
            json!({"message_type": "text", "content": "x", "reply_to": Uuid::new_v4()}),
            404,
        ),
    ];
    for (body, status) in cases {
        assert_drf_error(&app.post(&messages, &ann.token, body).await, status);
    }
    let raw = app
        .send_raw(
            "POST",
            &messages,
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &format!("Bearer {}", ann.token)),
            ],
            Some(b"{not json"),
        )
        .await;
    assert_drf_error(&raw, 400);
    let bad_type = json!({"title": "x", "conversation_type": "bogus"});
    let a = app
        .post(&format!("{BASE}/conversations/"), &ann.token, bad_type)
        .await;
    assert_drf_error(&a, 400);
    assert!(a.body["conversation_type"].is_array(), "{:?}", a.body);
    let no_title = json!({"title": "", "conversation_type": "group"});
    let a = app
        .post(&format!("{BASE}/conversations/"), &ann.token, no_title)
        .await;
    assert!(a.body["title"].is_array(), "{:?}", a.body);
    let nul = json!({"title": "a\u{0}b", "conversation_type": "group"});
    let a = app
        .post(&format!("{BASE}/conversations/"), &ann.token, nul)
        .await;
    assert_drf_error(&a, 400);
    let huge = json!({"title": "x".repeat(app.settings.limits.max_json_body_bytes)});
    let a = app
        .post(&format!("{BASE}/conversations/"), &ann.token, huge)
        .await;
    assert_drf_error(&a, 413);
    assert_drf_error(&app.get(&conv("not-a-uuid"), &ann.token).await, 404);
    let stranger = json!({"user_id": Uuid::new_v4(), "role": "member"});
    let add = app
        .post(&format!("{}participants/", conv(id)), &ann.token, stranger)
        .await;
    assert_drf_error(&add, 404);
    // A platform's integer id nobody has used yet: no such user.
    let unseen = json!({"user_id": 7, "role": "member"});
    let add = app
        .post(&format!("{}participants/", conv(id)), &ann.token, unseen)
        .await;
    assert_drf_error(&add, 404);
    let role = json!({"user_id": eve.id, "role": "king"});
    let add = app
        .post(&format!("{}participants/", conv(id)), &ann.token, role)
        .await;
    assert_drf_error(&add, 400);
    assert_eq!(message_count(&app).await, 0);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM room_members").await,
        1
    );
}

#[actix_rt::test]
async fn native_permissions_hold_through_the_dialect() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let obs = app.register("obs").await;
    let eve = app.register("eve").await;
    let group = conversation(&app, &ann, &[&bob]).await;
    let watch = json!({"user_id": obs.id, "role": "observer"});
    let p = app
        .post(&format!("{}participants/", conv(group)), &ann.token, watch)
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    let channel = json!({"title": "News", "conversation_type": "channel"});
    let c = app
        .post(&format!("{BASE}/conversations/"), &ann.token, channel)
        .await;
    let channel: Uuid = c.body["id"].as_str().unwrap().parse().unwrap();
    let add = json!({"user_id": bob.id});
    let p = app
        .post(&format!("{}participants/", conv(channel)), &ann.token, add)
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    let hello = json!({"content": "hello"});
    let first = app
        .post(
            &format!("{}messages/", conv(group)),
            &ann.token,
            hello.clone(),
        )
        .await;
    let mid = first.body["id"].as_str().unwrap().to_owned();
    let before = message_count(&app).await;
    // An observer posts nowhere, a member does not post in a channel: 403, over REST and socket.
    for (user, room) in [(&obs, group), (&bob, channel)] {
        let a = app
            .post(
                &format!("{}messages/", conv(room)),
                &user.token,
                hello.clone(),
            )
            .await;
        assert_drf_error(&a, 403);
        let mut ws = app
            .ws_dialect(&format!("/ws/chat/{}/", user.tenant_id), Some(&user.token))
            .await
            .unwrap();
        let frame = json!({"type": "send_message", "conversation_id": room, "content": "x"});
        let e = ws.request(frame).await;
        assert_eq!(e["error"]["code"], "forbidden", "{e}");
    }
    // A member deletes nobody else's message and adds nobody to a group; eve adds herself nowhere.
    let theirs = format!("{}messages/{mid}/", conv(group));
    assert_drf_error(&app.delete(&theirs, &bob.token).await, 403);
    let add_eve = json!({"user_id": eve.id});
    let a = app
        .post(
            &format!("{}participants/", conv(group)),
            &bob.token,
            add_eve.clone(),
        )
        .await;
    assert_drf_error(&a, 403);
    let a = app
        .post(
            &format!("{}participants/", conv(group)),
            &eve.token,
            add_eve,
        )
        .await;
    assert_drf_error(&a, 404);
    // A deactivated conversation takes no new message.
    assert_eq!(
        app.delete(&conv(group), &ann.token).await.status,
        StatusCode::NO_CONTENT
    );
    let a = app
        .post(&format!("{}messages/", conv(group)), &bob.token, hello)
        .await;
    assert_drf_error(&a, 403);
    assert_eq!(message_count(&app).await, before);
    let members = "SELECT count(*) AS n FROM room_members WHERE left_at IS NULL";
    assert_eq!(count(&app, members).await, 5);
}

#[actix_rt::test]
async fn other_tenants_and_strangers_reach_no_reaction_message_or_upload() {
    let s = strangers().await;
    let (app, ann, messages, oz) = (&s.app, &s.ann, &s.messages, &s.oz);
    let hello = json!({"message_type": "text", "content": "hi"});
    // Other tenant's reactions and messages by id.
    let m = app.post(messages, &ann.token, hello).await;
    let mid = m.body["id"].as_str().unwrap().to_owned();
    let reactions = format!("{BASE}/messages/{mid}/reactions/");
    assert_drf_error(&app.post(&reactions, oz, json!({"emoji": "👍"})).await, 404);
    assert_drf_error(&app.get(&reactions, &s.eve.token).await, 404);
    assert_drf_error(
        &app.post(&reactions, &ann.token, json!({"emoji": ""})).await,
        400,
    );
    assert_drf_error(&app.delete(&format!("{messages}{mid}/"), oz).await, 404);
    // Uploads: no token, too large.
    let big = vec![b'x'; usize::try_from(app.settings.limits.max_upload_bytes).unwrap() + 1];
    assert_drf_error(&upload(app, &ann.token, "big.pdf", &big).await, 413);
    let (content_type, body) = crate::uploads::form("a.pdf", "application/pdf", b"%PDF");
    let anon = app
        .send_raw(
            "POST",
            &format!("{BASE}/upload/"),
            &[("Content-Type", content_type.as_str())],
            Some(&body),
        )
        .await;
    assert_drf_error(&anon, 401);
    assert_eq!(count(app, "SELECT count(*) AS n FROM reactions").await, 0);
    assert_eq!(count(app, "SELECT count(*) AS n FROM attachments").await, 0);
    assert_eq!(message_count(app).await, 1);
}
