//! Seed 003's REST endpoints as its document lists them: conversations (list, create, detail,
//! participants, archive, mark_read, unread_counts, create_support_conversation), messages (list,
//! send, detail, edit, delete, react, mark_read with `was_already_read`, mark_multiple_read), and
//! the platform objects' conversations; DRF's error shape, other tenants (404), no token (401),
//! and nothing changed by refused requests.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::{count, snapshot};

pub fn stranger(app: &TestApp) -> String {
    app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User)
}

/// A DRF error: `detail`, and the status.
pub fn drf_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert!(a.body["detail"].is_string(), "{:?}", a.body);
}

/// A conversation of `owner` with `others`, created through 003's endpoint.
async fn conversation(app: &TestApp, owner: &User, others: &[&User]) -> String {
    let ids: Vec<Uuid> = others.iter().map(|u| u.id).collect();
    let a = app
        .post(
            "/chat/conversations/",
            &owner.token,
            json!({"conversation_type": "group", "title": "Deal", "participants": ids}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, user: &User, conv: &str, content: &str) -> String {
    let a = app
        .post(
            "/chat/messages/",
            &user.token,
            json!({"conversation": conv, "content": content, "message_type": "text"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

#[actix_rt::test]
async fn conversations_list_create_detail_and_participants() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cid = conversation(&app, &ann, &[&bob]).await;
    let detail = app
        .get(&format!("/chat/conversations/{cid}/"), &bob.token)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{:?}", detail.body);
    let c = &detail.body;
    assert_eq!(c["conversation_type"], "group");
    assert_eq!(c["title"], "Deal");
    assert_eq!(c["participant_count"], 2);
    let roles: Vec<(&str, &str)> = c["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["user"]["username"].as_str().unwrap(),
                p["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("ann", "admin")) && roles.contains(&("bob", "participant")),
        "{roles:?}"
    );
    assert_eq!(c["unread_count"], 0);
    let list = app.get("/chat/conversations/", &bob.token).await;
    assert_eq!(list.body["count"], 1, "{:?}", list.body);
    assert_eq!(list.body["results"][0]["id"], cid);
    assert_eq!(list.body["next"], Value::Null);
    let direct = app
        .post(
            "/chat/conversations/",
            &ann.token,
            json!({"conversation_type": "direct", "participants": [bob.id]}),
        )
        .await;
    assert_eq!(direct.status, StatusCode::CREATED, "{:?}", direct.body);
    assert_eq!(direct.body["conversation_type"], "direct");
    let paged = app
        .get("/chat/conversations/?page=1&page_size=1", &ann.token)
        .await;
    assert_eq!(paged.body["count"], 2);
    assert!(paged.body["next"]
        .as_str()
        .unwrap()
        .ends_with("page=2&page_size=1"));

    let carl = app.register("carl").await;
    let add = format!("/chat/conversations/{cid}/add_participant/");
    let added = app
        .post(
            &add,
            &ann.token,
            json!({"user_id": carl.id, "role": "observer"}),
        )
        .await;
    assert_eq!(
        added.body,
        json!({"status": "participant added"}),
        "{:?}",
        added.body
    );
    let again = app
        .get(&format!("/chat/conversations/{cid}/"), &carl.token)
        .await;
    assert_eq!(again.body["participant_count"], 3);
    let remove = format!("/chat/conversations/{cid}/remove_participant/");
    let removed = app
        .post(&remove, &ann.token, json!({"user_id": carl.id}))
        .await;
    assert_eq!(removed.body, json!({"status": "participant removed"}));
    drf_error(
        &app.get(&format!("/chat/conversations/{cid}/"), &carl.token)
            .await,
        StatusCode::NOT_FOUND,
    );
    // Bob (a participant, not an admin) may not add anyone.
    drf_error(
        &app.post(&add, &bob.token, json!({"user_id": carl.id}))
            .await,
        StatusCode::FORBIDDEN,
    );

    let before = snapshot(&app).await;
    let bad = [
        json!({"conversation_type": "direct", "participants": []}),
        json!({"conversation_type": "meeting"}),
        json!({"conversation_type": "group", "title": "x".repeat(101)}),
        json!({"conversation_type": "group", "participants": ["nobody"]}),
        json!({"conversation_type": "bid", "object_id": 7}),
        json!({"conversation_type": "group", "participants": [Uuid::new_v4()]}),
        json!([1]),
    ];
    for body in bad {
        let a = app
            .post("/chat/conversations/", &ann.token, body.clone())
            .await;
        assert!(a.status.is_client_error(), "{body}: {:?}", a.status);
        assert!(a.body["detail"].is_string(), "{body}: {:?}", a.body);
    }
    drf_error(
        &app.get(&format!("/chat/conversations/{cid}/"), &stranger(&app))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&add, &stranger(&app), json!({"user_id": carl.id}))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get("/chat/conversations/", "").await,
        StatusCode::UNAUTHORIZED,
    );
    drf_error(
        &app.get("/chat/conversations/?page=0", &ann.token).await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.delete("/chat/conversations/", &ann.token).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );
}

#[actix_rt::test]
async fn archive_mark_read_and_unread_counts() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cid = conversation(&app, &ann, &[&bob]).await;
    send(&app, &ann, &cid, "one").await;
    send(&app, &ann, &cid, "two").await;
    let counts = app
        .get("/chat/conversations/unread_counts/", &bob.token)
        .await;
    assert_eq!(
        counts.body,
        json!({"total_unread": 2, "conversations": [{"conversation_id": cid, "unread_count": 2}]})
    );
    let path = format!("/chat/conversations/{cid}/mark_read/");
    let read = app.post(&path, &bob.token, json!({})).await;
    assert_eq!(read.body["status"], "marked as read", "{:?}", read.body);
    assert_eq!(read.body["unread_count"], 0);
    assert_eq!(read.body["was_already_read"], false);
    let archive = app
        .post(
            &format!("/chat/conversations/{cid}/archive/"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(archive.body, json!({"status": "archived"}));
    let seen = app
        .get(&format!("/chat/conversations/{cid}/"), &bob.token)
        .await;
    assert_eq!(seen.body["is_archived"], true);
    let un = app
        .post(
            &format!("/chat/conversations/{cid}/unarchive/"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(un.body, json!({"status": "unarchived"}));
    for action in ["archive", "mark_read", "unarchive"] {
        let p = format!("/chat/conversations/{cid}/{action}/");
        drf_error(
            &app.post(&p, &stranger(&app), json!({})).await,
            StatusCode::NOT_FOUND,
        );
        drf_error(&app.post(&p, "", json!({})).await, StatusCode::UNAUTHORIZED);
    }
    drf_error(
        &app.post(
            &format!("/chat/conversations/{cid}/explode/"),
            &bob.token,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
}

#[actix_rt::test]
async fn support_conversation_gathers_the_tenants_agents() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let agent_id = Uuid::new_v4();
    let agent = app.platform_token(agent_id, ann.tenant_id, "Agent Smith", Role::Admin);
    // The agent's first call provisions it.
    assert_eq!(
        app.get("/chat/conversations/", &agent).await.status,
        StatusCode::OK
    );
    let path = "/chat/conversations/create_support_conversation/";
    let a = app
        .post(
            path,
            &ann.token,
            json!({"support_type": "technical", "title": "Login Issue"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["conversation_type"], "support");
    assert_eq!(a.body["support_type"], "technical");
    assert_eq!(a.body["title"], "Login Issue");
    let ids: Vec<&str> = a.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user"]["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&ann.id.to_string().as_str()) && ids.contains(&agent_id.to_string().as_str()),
        "{ids:?}"
    );
    let cid = a.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/chat/conversations/{cid}/"), &agent)
            .await
            .status,
        StatusCode::OK
    );
    let before = snapshot(&app).await;
    drf_error(
        &app.post(path, &ann.token, json!({"support_type": "Tech Nical"}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.post(path, &ann.token, json!({"title": "x".repeat(101)}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.post(path, "", json!({"title": "t"})).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(snapshot(&app).await, before);
    // Another tenant's user gets a room with its own tenant's agents only, never ours.
    let other = stranger(&app);
    let theirs = app.post(path, &other, json!({"title": "Help"})).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(theirs.body["participant_count"], 1);
}

#[actix_rt::test]
async fn messages_send_list_get_edit_react_delete() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cid = conversation(&app, &ann, &[&bob]).await;
    let id = send(&app, &ann, &cid, "Hello!").await;
    send(&app, &bob, &cid, "hi").await;
    let list = app
        .get(
            &format!("/chat/messages/?conversation={cid}&page_size=1"),
            &bob.token,
        )
        .await;
    assert_eq!(list.body["count"], 2, "{:?}", list.body);
    let first = &list.body["results"][0];
    assert_eq!(first["content"], "Hello!");
    assert_eq!(first["sender_id"], ann.id.to_string());
    assert_eq!(first["conversation"], cid);
    assert!(list.body["next"]
        .as_str()
        .unwrap()
        .contains(&format!("conversation={cid}")));
    let one = app.get(&format!("/chat/messages/{id}/"), &bob.token).await;
    assert_eq!(one.body["id"], id);
    let edit = app
        .post(
            &format!("/chat/messages/{id}/edit/"),
            &ann.token,
            json!({"content": "Updated content"}),
        )
        .await;
    assert_eq!(edit.body["content"], "Updated content", "{:?}", edit.body);
    assert_eq!(edit.body["is_edited"], true);
    let react = format!("/chat/messages/{id}/react/");
    let added = app.post(&react, &bob.token, json!({"emoji": "👍"})).await;
    assert_eq!(added.body["action"], "added", "{:?}", added.body);
    assert_eq!(added.body["reactions"][0]["user_ids"], json!([bob.id]));
    let removed = app.post(&react, &bob.token, json!({"emoji": "👍"})).await;
    assert_eq!(removed.body["action"], "removed");
    assert_eq!(removed.body["reactions"], json!([]));

    let before = snapshot(&app).await;
    let too_long = "x".repeat(app.settings.limits.max_message_chars + 1);
    let bad = [
        json!({"conversation": cid, "content": ""}),
        json!({"conversation": cid, "content": too_long}),
        json!({"conversation": cid, "content": "x", "message_type": "sticker"}),
        json!({"conversation": "nope", "content": "x"}),
        json!({"content": "x"}),
    ];
    for body in bad {
        let a = app.post("/chat/messages/", &ann.token, body.clone()).await;
        assert!(
            a.status.is_client_error() && a.body["detail"].is_string(),
            "{body}: {:?}",
            a.body
        );
    }
    drf_error(
        &app.post(
            &format!("/chat/messages/{id}/edit/"),
            &bob.token,
            json!({"content": "his"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.post(&react, &bob.token, json!({"emoji": "x".repeat(200)}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.get("/chat/messages/", &bob.token).await,
        StatusCode::BAD_REQUEST,
    );
    let other = stranger(&app);
    drf_error(
        &app.get(&format!("/chat/messages/{id}/"), &other).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get(&format!("/chat/messages/?conversation={cid}"), &other)
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(
            "/chat/messages/",
            &other,
            json!({"conversation": cid, "content": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&react, &other, json!({"emoji": "👍"})).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&format!("/chat/messages/{id}/delete/"), &other, json!({}))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get(&format!("/chat/messages/{id}/"), "").await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );

    let deleted = app
        .post(
            &format!("/chat/messages/{id}/delete/"),
            &ann.token,
            json!({}),
        )
        .await;
    assert_eq!(deleted.body, json!({"status": "message deleted"}));
    let gone = app.get(&format!("/chat/messages/{id}/"), &bob.token).await;
    assert_eq!(gone.body["is_deleted"], true);
}

#[actix_rt::test]
async fn mark_read_one_and_many() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cid = conversation(&app, &ann, &[&bob]).await;
    let other = conversation(&app, &ann, &[&bob]).await;
    let m1 = send(&app, &ann, &cid, "one").await;
    let m2 = send(&app, &ann, &cid, "two").await;
    let m3 = send(&app, &ann, &other, "three").await;
    let path = format!("/chat/messages/{m1}/mark_read/");
    let first = app.post(&path, &bob.token, json!({})).await;
    assert_eq!(
        first.body,
        json!({"status": "marked as read", "was_already_read": false})
    );
    let again = app.post(&path, &bob.token, json!({})).await;
    assert_eq!(again.body["was_already_read"], true);
    let before = snapshot(&app).await;
    let multi = "/chat/messages/mark_multiple_read/";
    drf_error(
        &app.post(multi, &bob.token, json!({"message_ids": []}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.post(multi, &bob.token, json!({"message_ids": ["id1"]}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.post(
            multi,
            &bob.token,
            json!({"message_ids": [m2, Uuid::new_v4()]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(multi, &stranger(&app), json!({"message_ids": [m2]}))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(multi, "", json!({"message_ids": [m2]})).await,
        StatusCode::UNAUTHORIZED,
    );
    let many: Vec<Uuid> = (0..501).map(|_| Uuid::new_v4()).collect();
    drf_error(
        &app.post(multi, &bob.token, json!({"message_ids": many}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );
    let both = app
        .post(multi, &bob.token, json!({"message_ids": [m2, m3]}))
        .await;
    assert_eq!(
        both.body,
        json!({"status": "messages marked as read", "marked_count": 2}),
        "{:?}",
        both.body
    );
    let counts = app
        .get("/chat/conversations/unread_counts/", &bob.token)
        .await;
    assert_eq!(counts.body["total_unread"], 0, "{:?}", counts.body);
}

#[actix_rt::test]
async fn platform_objects_conversations() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let backend = app.platform_token(Uuid::new_v4(), ann.tenant_id, "Wasgo", Role::Service);
    for (kind, path) in [("bid", "bids"), ("job", "jobs"), ("dispute", "disputes")] {
        let made = app
            .post("/chat/conversations/", &backend, json!({"conversation_type": kind, "object_id": 17, "title": format!("{kind} 17"), "participants": [ann.id, bob.id]}))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
        let url = format!("/{path}/17/conversation/");
        let got = app.get(&url, &bob.token).await;
        assert_eq!(got.status, StatusCode::OK, "{:?}", got.body);
        assert_eq!(got.body["conversation_type"], kind);
        assert_eq!(
            got.body["related_object"],
            json!({"kind": kind, "id": "17"})
        );
        drf_error(&app.get(&url, &eve.token).await, StatusCode::NOT_FOUND);
        drf_error(&app.get(&url, &stranger(&app)).await, StatusCode::NOT_FOUND);
        drf_error(&app.get(&url, "").await, StatusCode::UNAUTHORIZED);
        drf_error(
            &app.get(&format!("/{path}/18/conversation/"), &bob.token)
                .await,
            StatusCode::NOT_FOUND,
        );
    }
    // A user may not claim a platform object's conversation.
    let claim = app
        .post(
            "/chat/conversations/",
            &ann.token,
            json!({"conversation_type": "job", "object_id": 99}),
        )
        .await;
    drf_error(&claim, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM rooms").await, 3);
}
