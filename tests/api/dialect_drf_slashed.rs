//! Seed 004's paths that the native API shares, written as 004 writes them (with the trailing
//! slash): 004's shapes for the room list, create, retrieve, update, `mark_read`, `leave`, the
//! message list, send and edit, and search; the same paths without the slash keep Confab's own.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::count;

fn stranger(app: &TestApp) -> String {
    app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User)
}

/// A 004 error: the status and `detail`.
fn drf_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert!(a.body["detail"].is_string(), "{:?}", a.body);
}

/// 004's user object's keys.
fn is_drf_user(v: &Value) {
    for key in [
        "id",
        "email",
        "display_name",
        "profile_picture",
        "clerk_profile_image_url",
    ] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
}

#[actix_rt::test]
async fn rooms_list_and_create_in_004s_shapes() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    // 004's "Create Chat Room" body, verbatim but for the ids.
    let body =
        json!({"name": "Team Discussion", "room_type": "group", "participant_ids": [bob.id]});
    let made = app.post("/api/chat/rooms/", &ann.token, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["name"], "Team Discussion");
    assert_eq!(made.body["participants"].as_array().unwrap().len(), 2);
    is_drf_user(&made.body["participants"][0]);
    assert_eq!(made.body["created_by"]["id"], ann.id.to_string());
    assert_eq!(made.body["unread_count"], 0);
    assert_eq!(made.body["other_user"], Value::Null);
    let project = json!({"name": "Alpha", "room_type": "project", "participant_ids": []});
    let alpha = app.post("/api/chat/rooms/", &ann.token, project).await;
    assert_eq!(alpha.status, StatusCode::CREATED, "{:?}", alpha.body);
    assert_eq!(
        alpha.body["room_type"], "group",
        "a project room is a group"
    );
    app.post(
        "/api/chat/rooms/direct_message/",
        &ann.token,
        json!({"user_id": bob.id}),
    )
    .await;
    let room = made.body["id"].as_str().unwrap().to_owned();
    app.post_message(
        room.parse::<Uuid>().unwrap(),
        &bob.token,
        json!({"content": "hi"}),
    )
    .await;

    let list = app.get("/api/chat/rooms/?page_size=2", &ann.token).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(list.body["count"], 3);
    assert!(list.body["next"]
        .as_str()
        .unwrap()
        .ends_with("/api/chat/rooms/?page=2&page_size=2"));
    assert_eq!(list.body["previous"], Value::Null);
    let first = &list.body["results"][0];
    assert_eq!(first["id"], room, "newest activity first");
    assert_eq!(first["unread_count"], 1);
    assert_eq!(first["last_message"]["content"], "hi");
    assert_eq!(first["last_message"]["sender"]["id"], bob.id.to_string());
    let direct = &list.body["results"][1];
    assert_eq!(direct["room_type"], "direct");
    assert_eq!(direct["other_user"]["id"], bob.id.to_string());
    let page2 = app
        .get("/api/chat/rooms/?page=2&page_size=2", &ann.token)
        .await;
    assert_eq!(page2.body["results"][0]["name"], "Alpha");
    assert_eq!(page2.body["next"], Value::Null);
    assert!(page2.body["previous"].is_string());
    // Without the slash: Confab's own list.
    let native = app.get("/api/chat/rooms", &ann.token).await;
    assert!(
        native.body.get("next_cursor").is_some(),
        "{:?}",
        native.body
    );
    assert!(native.body.get("count").is_none());

    drf_error(
        &app.get("/api/chat/rooms/?page=0", &ann.token).await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.get("/api/chat/rooms/?page=x", &ann.token).await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &app.get("/api/chat/rooms/?page=9", &ann.token).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.get("/api/chat/rooms/", "").await,
        StatusCode::UNAUTHORIZED,
    );
    let other = app.get("/api/chat/rooms/", &stranger(&app)).await;
    assert_eq!(other.body["count"], 0, "another tenant sees none of them");
}

#[actix_rt::test]
async fn creating_refuses_bad_bodies_in_004s_shape_and_makes_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let rooms = "SELECT count(*) AS n FROM rooms";
    let before = count(&app, rooms).await;
    let bad_type = json!({"name": "x", "room_type": "lounge"});
    let a = app.post("/api/chat/rooms/", &ann.token, bad_type).await;
    drf_error(&a, StatusCode::BAD_REQUEST);
    assert!(a.body["room_type"].is_array(), "{:?}", a.body);
    let bad_ids = json!({"name": "x", "room_type": "group", "participant_ids": ["nope"]});
    drf_error(
        &app.post("/api/chat/rooms/", &ann.token, bad_ids).await,
        StatusCode::BAD_REQUEST,
    );
    let outsider = json!({"name": "x", "room_type": "group", "participant_ids": [Uuid::new_v4()]});
    drf_error(
        &app.post("/api/chat/rooms/", &ann.token, outsider).await,
        StatusCode::NOT_FOUND,
    );
    let long = json!({"name": "x".repeat(10_000), "room_type": "group"});
    let a = app.post("/api/chat/rooms/", &ann.token, long).await;
    assert!(
        a.status.is_client_error() && a.body["detail"].is_string(),
        "{:?}",
        a.body
    );
    let none = json!({"name": "x", "room_type": "group"});
    drf_error(
        &app.post("/api/chat/rooms/", "", none).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(count(&app, rooms).await, before, "nothing was created");
}

#[actix_rt::test]
async fn retrieve_update_mark_read_and_leave_a_room() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let path = format!("/api/chat/rooms/{room}/");
    let got = app.get(&path, &bob.token).await;
    assert_eq!(got.status, StatusCode::OK, "{:?}", got.body);
    assert_eq!(got.body["id"], room.to_string());
    is_drf_user(&got.body["created_by"]);
    let renamed = app
        .patch(&path, &ann.token, json!({"name": "Renamed"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "Renamed");
    assert!(renamed.body["participants"].is_array());
    drf_error(
        &app.patch(&path, &bob.token, json!({"name": "Mine"})).await,
        StatusCode::FORBIDDEN,
    );
    drf_error(
        &app.get(&path, &stranger(&app)).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.patch(&path, &ann.token, json!({"name": 5})).await,
        StatusCode::BAD_REQUEST,
    );

    for c in ["one", "two"] {
        app.post_message(room, &ann.token, json!({"content": c}))
            .await;
    }
    let mark = format!("/api/chat/rooms/{room}/mark_read/");
    let read = app.post(&mark, &bob.token, json!({})).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    assert_eq!(read.body, json!({"status": "marked as read", "count": 2}));
    let again = app.post(&mark, &bob.token, json!({})).await;
    assert_eq!(again.body["count"], 0);
    drf_error(
        &app.post(&mark, &stranger(&app), json!({})).await,
        StatusCode::NOT_FOUND,
    );

    let leave = format!("/api/chat/rooms/{room}/leave/");
    let left = app.post(&leave, &bob.token, json!({})).await;
    assert_eq!(left.status, StatusCode::OK, "{:?}", left.body);
    assert_eq!(left.body, json!({"status": "left room"}));
    drf_error(&app.get(&path, &bob.token).await, StatusCode::NOT_FOUND);
    let dm = app
        .post(
            "/api/chat/rooms/direct_message/",
            &ann.token,
            json!({"user_id": bob.id}),
        )
        .await;
    let dm_leave = format!("/api/chat/rooms/{}/leave/", dm.body["id"].as_str().unwrap());
    drf_error(
        &app.post(&dm_leave, &ann.token, json!({})).await,
        StatusCode::FORBIDDEN,
    );
}

#[actix_rt::test]
async fn messages_list_send_and_edit_in_004s_shapes() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let path = format!("/api/chat/rooms/{room}/messages/");
    // 004's "Send Message" body, verbatim.
    let body = json!({"content": "Message text here", "message_type": "text", "reply_to": null, "file_attachment": null});
    let sent = app.post(&path, &ann.token, body).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["content"], "Message text here");
    assert_eq!(sent.body["room"], room.to_string());
    assert_eq!(sent.body["reactions"], json!({}));
    assert!(sent.body["timestamp"].is_string());
    let id = sent.body["id"].as_str().unwrap().to_owned();
    let reply = json!({"content": "re", "reply_to": id});
    let replied = app.post(&path, &bob.token, reply).await;
    assert_eq!(replied.body["reply_to"], id);

    let page = app.get(&path, &bob.token).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(page.body["count"], 2);
    assert_eq!(page.body["results"][0]["content"], "Message text here");
    assert_eq!(page.body["next"], Value::Null);

    let one = format!("{path}{id}/");
    let edited = app
        .patch(&one, &ann.token, json!({"content": "Updated message text"}))
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["is_edited"], true);
    assert!(edited.body["edited_at"].is_string());
    drf_error(
        &app.patch(&one, &bob.token, json!({"content": "mine"}))
            .await,
        StatusCode::FORBIDDEN,
    );

    let file = json!({"content": "x", "file_attachment": "file.pdf"});
    let a = app.post(&path, &ann.token, file).await;
    drf_error(&a, StatusCode::BAD_REQUEST);
    assert!(a.body["file_attachment"].is_array(), "{:?}", a.body);
    drf_error(
        &app.post(&path, &ann.token, json!({"content": ""})).await,
        StatusCode::BAD_REQUEST,
    );
    let long = json!({"content": "x".repeat(100_000)});
    drf_error(
        &app.post(&path, &ann.token, long).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    drf_error(
        &app.post(&path, &stranger(&app), json!({"content": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &app.post(&path, "", json!({"content": "x"})).await,
        StatusCode::UNAUTHORIZED,
    );
    let messages = "SELECT count(*) AS n FROM messages";
    assert_eq!(count(&app, messages).await, 2, "nothing else was written");
    assert_eq!(
        app.delete(&one, &ann.token).await.status,
        StatusCode::NO_CONTENT
    );
}

#[actix_rt::test]
async fn search_answers_bare_arrays() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    app.post_message(room, &ann.token, json!({"content": "the quarterly report"}))
        .await;
    let found = app
        .get("/api/chat/search/messages/?q=report", &bob.token)
        .await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    assert_eq!(found.body[0]["content"], "the quarterly report");
    assert_eq!(found.body[0]["room"], room.to_string());
    let rooms = app.get("/api/chat/search/rooms/?q=room", &bob.token).await;
    assert_eq!(rooms.status, StatusCode::OK, "{:?}", rooms.body);
    assert!(rooms.body.is_array(), "{:?}", rooms.body);
    let native = app
        .get("/api/chat/search/messages?q=report", &bob.token)
        .await;
    assert!(
        native.body["results"].is_array(),
        "without the slash: Confab's shape"
    );
    let missing = app.get("/api/chat/search/messages/", &bob.token).await;
    drf_error(&missing, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["detail"], "Search query is required");
    drf_error(
        &app.get("/api/chat/search/rooms/?q=", &bob.token).await,
        StatusCode::BAD_REQUEST,
    );
    let other = app
        .get("/api/chat/search/messages/?q=report", &stranger(&app))
        .await;
    assert_eq!(other.body, json!([]), "another tenant finds nothing");
    drf_error(
        &app.get("/api/chat/search/messages/?q=report", "").await,
        StatusCode::UNAUTHORIZED,
    );
}

/// 004's "With File Upload" form: `content`, `message_type=file`, `file_attachment=<binary>`.
fn seed_form(content: &str, file: Option<&[u8]>) -> (String, Vec<u8>) {
    use std::io::Write;
    let boundary = format!("----seed004{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in [("content", content), ("message_type", "file")] {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .unwrap();
    }
    if let Some(bytes) = file {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"file_attachment\"; filename=\"notes.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").unwrap();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[actix_rt::test]
async fn a_message_with_a_file_is_sent_as_004s_form() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let path = format!("/api/chat/rooms/{room}/messages/");
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let send = |token: String, form: (String, Vec<u8>)| {
        let app = &app;
        let path = path.clone();
        async move {
            let auth = format!("Bearer {token}");
            let headers = [
                ("Content-Type", form.0.as_str()),
                ("Authorization", auth.as_str()),
            ];
            app.send_raw("POST", &path, &headers, Some(&form.1)).await
        }
    };
    let sent = send(ann.token.clone(), seed_form("Message text", Some(pdf))).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["content"], "Message text");
    assert_eq!(sent.body["message_type"], "file");
    assert_eq!(sent.body["file_name"], "notes.pdf");
    assert_eq!(sent.body["file_size"], pdf.len());
    let url = sent.body["file_attachment"]
        .as_str()
        .expect("the file's url");
    let file = app.get(url, &bob.token).await;
    assert_eq!(file.status, StatusCode::OK, "the other member fetches it");
    assert_eq!(file.raw.as_bytes(), pdf);
    // No file part, a stranger, no token: 004's error shape, nothing sent.
    drf_error(
        &send(ann.token.clone(), seed_form("x", None)).await,
        StatusCode::BAD_REQUEST,
    );
    drf_error(
        &send(stranger(&app), seed_form("x", Some(pdf))).await,
        StatusCode::NOT_FOUND,
    );
    drf_error(
        &send(String::new(), seed_form("x", Some(pdf))).await,
        StatusCode::UNAUTHORIZED,
    );
    let messages = "SELECT count(*) AS n FROM messages";
    assert_eq!(count(&app, messages).await, 1);
    let files = "SELECT count(*) AS n FROM attachments";
    assert_eq!(count(&app, files).await, 1, "a refused form stores no file");
}
