//! Seed 004's REST endpoints as its document shows them: page-number paging with 004's message
//! shape, `direct_message`, `typing_users`, `react` and per-message `mark_read`; its error shape,
//! other tenants (404) and missing tokens (401). Paths the native API serves are written without
//! the trailing slash until the server normalizes them (see docs/DIALECTS.md).

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::count;

/// 004's "Send Message" body, verbatim.
fn seed_message(content: &str) -> Value {
    json!({"content": content, "message_type": "text", "reply_to": null, "file_attachment": null})
}

async fn posted(app: &TestApp, user: &User, room: Uuid, content: &str) -> String {
    let a = app
        .post_message(room, &user.token, seed_message(content))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().expect("id").to_owned()
}

fn stranger(app: &TestApp) -> String {
    app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User)
}

/// A 004 error: `detail`, and the status.
fn drf_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert!(a.body["detail"].is_string(), "{:?}", a.body);
}

#[actix_rt::test]
async fn messages_page_by_number_in_004s_shape() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    for c in ["one", "two", "three"] {
        posted(&app, &ann, room, c).await;
    }
    let path = messages_path(room);
    let p1 = app
        .get(&format!("{path}?page=1&page_size=2"), &bob.token)
        .await;
    assert_eq!(p1.status, StatusCode::OK, "{:?}", p1.body);
    assert_eq!(p1.body["count"], 3);
    assert!(p1.body["next"]
        .as_str()
        .unwrap()
        .ends_with("page=2&page_size=2"));
    assert_eq!(p1.body["previous"], Value::Null);
    let first = &p1.body["results"][0];
    assert_eq!(first["content"], "one");
    assert_eq!(first["room"], room.to_string());
    assert_eq!(first["sender"]["id"], ann.id.to_string());
    assert!(first["sender"]["display_name"].is_string());
    for key in ["timestamp", "message_type"] {
        assert!(first[key].is_string(), "{key}: {first}");
    }
    assert_eq!(first["is_edited"], false);
    assert_eq!(first["is_deleted"], false);
    assert_eq!(first["reactions"], json!({}));
    assert_eq!(first["read_by"], json!([]));
    assert_eq!(first["file_attachment"], Value::Null);
    let p2 = app
        .get(&format!("{path}?page=2&page_size=2"), &bob.token)
        .await;
    assert_eq!(p2.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(p2.body["next"], Value::Null);
    assert!(p2.body["previous"].is_string());
    // The seed's React component fetches without paging and reads `results`.
    let plain = app.get(&path, &bob.token).await;
    assert_eq!(
        plain.body["results"][2]["sender"]["display_name"],
        first["sender"]["display_name"]
    );
    for bad in ["page=0", "page=x", "page_size=-"] {
        let a = app.get(&format!("{path}?{bad}"), &bob.token).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let beyond = app.get(&format!("{path}?page=9"), &bob.token).await;
    assert_eq!(beyond.status, StatusCode::NOT_FOUND);
    let other = app.get(&format!("{path}?page=1"), &stranger(&app)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let none = app.get(&format!("{path}?page=1"), "").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn react_adds_and_removes_and_answers_the_map() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let id = posted(&app, &ann, room, "hi").await;
    let path = format!("/api/chat/rooms/{room}/messages/{id}/react/");
    let add = app
        .post(&path, &bob.token, json!({"emoji": "👍", "action": "add"}))
        .await;
    assert_eq!(add.status, StatusCode::OK, "{:?}", add.body);
    assert_eq!(
        add.body,
        json!({"reactions": {"👍": [bob.id]}, "message": "Reaction added"})
    );
    let remove = app
        .post(
            &path,
            &bob.token,
            json!({"emoji": "👍", "action": "remove"}),
        )
        .await;
    assert_eq!(
        remove.body,
        json!({"reactions": {}, "message": "Reaction removed"})
    );
    let bad = app
        .post(
            &path,
            &bob.token,
            json!({"emoji": "👍", "action": "toggle"}),
        )
        .await;
    drf_error(&bad, StatusCode::BAD_REQUEST);
    assert!(bad.body["action"].is_array(), "{:?}", bad.body);
    let long = app
        .post(&path, &bob.token, json!({"emoji": "x".repeat(200)}))
        .await;
    drf_error(&long, StatusCode::BAD_REQUEST);
    drf_error(
        &app.post(&path, &bob.token, json!({})).await,
        StatusCode::BAD_REQUEST,
    );
    let other = app
        .post(&path, &stranger(&app), json!({"emoji": "👍"}))
        .await;
    drf_error(&other, StatusCode::NOT_FOUND);
    drf_error(
        &app.post(&path, "", json!({"emoji": "👍"})).await,
        StatusCode::UNAUTHORIZED,
    );
    let left = "SELECT count(*) AS n FROM reactions";
    assert_eq!(
        count(&app, left).await,
        0,
        "nothing changed by the refused ones"
    );
}

#[actix_rt::test]
async fn mark_one_message_read_tells_whether_it_was() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let id = posted(&app, &ann, room, "read me").await;
    let path = format!("/api/chat/rooms/{room}/messages/{id}/mark_read/");
    let first = app.post(&path, &bob.token, json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(
        first.body,
        json!({"status": "marked as read", "was_already_read": false})
    );
    let again = app.post(&path, &bob.token, json!({})).await;
    assert_eq!(again.body["was_already_read"], true);
    let page = app
        .get(&format!("{}?page=1", messages_path(room)), &ann.token)
        .await;
    assert_eq!(
        page.body["results"][0]["read_by"][0]["id"],
        bob.id.to_string()
    );
    drf_error(
        &app.post(&path, &stranger(&app), json!({})).await,
        StatusCode::NOT_FOUND,
    );
    let unknown = format!(
        "/api/chat/rooms/{room}/messages/{}/mark_read/",
        Uuid::new_v4()
    );
    drf_error(
        &app.post(&unknown, &bob.token, json!({})).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&path, "", json!({})).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[actix_rt::test]
async fn direct_message_finds_or_creates_the_one_room() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let path = "/api/chat/rooms/direct_message/";
    let made = app.post(path, &ann.token, json!({"user_id": bob.id})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["room_type"], "direct");
    assert_eq!(made.body["other_user"]["id"], bob.id.to_string());
    assert_eq!(made.body["participants"].as_array().unwrap().len(), 2);
    assert_eq!(made.body["unread_count"], 0);
    assert_eq!(made.body["is_active"], true);
    let found = app.post(path, &bob.token, json!({"user_id": ann.id})).await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["id"], made.body["id"]);
    assert_eq!(found.body["other_user"]["id"], ann.id.to_string());
    // A direct room with oneself is the native rule's 409 (docs/DIALECTS.md), in 004's shape.
    let own = app.post(path, &ann.token, json!({"user_id": ann.id})).await;
    drf_error(&own, StatusCode::CONFLICT);
    for bad in [json!({}), json!({"user_id": true}), json!("x"), json!(null)] {
        drf_error(
            &app.post(path, &ann.token, bad).await,
            StatusCode::BAD_REQUEST,
        );
    }
    let nobody = json!({"user_id": Uuid::new_v4()});
    drf_error(
        &app.post(path, &ann.token, nobody).await,
        StatusCode::NOT_FOUND,
    );
    let across = app
        .post(path, &stranger(&app), json!({"user_id": bob.id}))
        .await;
    drf_error(&across, StatusCode::NOT_FOUND);
    drf_error(
        &app.post(path, "", json!({"user_id": bob.id})).await,
        StatusCode::UNAUTHORIZED,
    );
    let rooms = "SELECT count(*) AS n FROM rooms WHERE room_type = 'direct'";
    assert_eq!(count(&app, rooms).await, 1);
}

#[actix_rt::test]
async fn typing_users_lists_who_types_now() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut b = app
        .ws_dialect(&format!("/ws/chat/{room}/"), Some(&bob.token))
        .await
        .expect("socket");
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    b.send(json!({"type": "typing", "is_typing": true})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let path = format!("/api/chat/rooms/{room}/typing_users/");
    let t = app.get(&path, &ann.token).await;
    assert_eq!(t.status, StatusCode::OK, "{:?}", t.body);
    assert_eq!(t.body[0]["room"], room.to_string());
    assert_eq!(t.body[0]["user"]["id"], bob.id.to_string());
    assert_eq!(t.body[0]["is_typing"], true);
    assert!(t.body[0]["last_seen"].is_string());
    b.send(json!({"type": "typing", "is_typing": false})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.get(&path, &ann.token).await.body, json!([]));
    drf_error(
        &app.get(&path, &stranger(&app)).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(&app.get(&path, "").await, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn sessions_list_the_callers_open_sockets() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let _socket = app
        .ws_dialect(&format!("/ws/chat/{room}/"), Some(&ann.token))
        .await
        .expect("socket");
    let _other = app.ws(&bob.token).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let path = "/api/chat/sessions/active_sessions/";
    let a = app.get(path, &ann.token).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let list = a.body.as_array().expect("an array");
    assert_eq!(list.len(), 1, "only the caller's: {list:?}");
    assert_eq!(list[0]["is_active"], true);
    assert!(list[0]["session_id"].is_string() && list[0]["connected_at"].is_string());
    let across = app.get(path, &stranger(&app)).await;
    assert_eq!(across.body, json!([]));
    drf_error(&app.get(path, "").await, StatusCode::UNAUTHORIZED);
    let cleanup = "/api/chat/sessions/cleanup_old_sessions/";
    let c = app.post(cleanup, &ann.token, json!({})).await;
    assert_eq!(
        c.body,
        json!({"status": "cleanup completed", "deleted_sessions": 0})
    );
    drf_error(
        &app.post(cleanup, "", json!({})).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        app.get(path, &ann.token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
