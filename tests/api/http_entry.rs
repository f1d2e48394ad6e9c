//! The HTTP entry: unknown methods, trailing slashes, unmatched paths, bodies of the wrong JSON
//! type, PUT as an update, and CORS from allowed and other origins.

use awc::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_json(a: &Answer) -> bool {
    header(a, "content-type").starts_with("application/json")
}

#[actix_rt::test]
async fn a_method_a_path_does_not_serve_answers_json_405_naming_the_allowed_ones() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let cases = [
        (
            "DELETE",
            "/api/chat/users/me".to_owned(),
            "GET, PATCH, OPTIONS",
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/typing"),
            "GET, OPTIONS",
        ),
        ("GET", "/api/auth/login".to_owned(), "POST, OPTIONS"),
        ("PATCH", "/api/chat/rooms".to_owned(), "GET, POST, OPTIONS"),
        // Without a token too: the method is wrong whoever asks.
        ("PUT", "/api/chat/rooms/direct".to_owned(), "POST, OPTIONS"),
    ];
    for (method, path, allow) in cases {
        let token = (method != "PUT").then_some(ann.token.as_str());
        let a = app.send(method, &path, token, None).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(is_json(&a), "{method} {path}: {:?}", a.headers);
        assert_eq!(a.error_code(), "method_not_allowed", "{method} {path}");
        assert_eq!(header(&a, "allow"), allow, "{method} {path}");
    }
    // OPTIONS (not a CORS preflight) names the methods too.
    let a = app
        .send("OPTIONS", &format!("/api/chat/rooms/{room}"), None, None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(header(&a, "allow"), "GET, PATCH, PUT, DELETE, OPTIONS");
}

#[actix_rt::test]
async fn every_route_answers_with_or_without_a_trailing_slash() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let me = app.get("/api/chat/users/me/", &ann.token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["id"], json!(ann.id));
    let created = app
        .post(
            "/api/chat/rooms/",
            &ann.token,
            json!({"name": "Slashed", "room_type": "group"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let room = created.body["id"].as_str().expect("room id").to_owned();
    let posted = app
        .post(
            &format!("/api/chat/rooms/{room}/messages/"),
            &ann.token,
            json!({"content": "hello"}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    let page = app
        .get(&format!("/api/chat/rooms/{room}/messages/"), &ann.token)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["results"][0]["content"], "hello");
    // The WebSocket answers at both spellings as well.
    for path in ["/ws/chat/", "/ws/chat"] {
        let ws = app.ws_try(path, Some(&ann.token), None).await;
        assert!(ws.is_ok(), "{path}");
    }
}

#[actix_rt::test]
async fn unmatched_api_and_ws_paths_answer_the_json_404() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    for (method, path) in [
        ("GET", "/api/nothing"),
        ("POST", "/api/chat/nothing/"),
        ("DELETE", "/api/chat/rooms/x/y/z"),
        ("GET", "/ws/nothing"),
        ("POST", "/index.html"),
    ] {
        let a = app.send(method, path, Some(&ann.token), None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert!(is_json(&a), "{method} {path}: {:?}", a.headers);
        assert_eq!(a.error_code(), "not_found", "{method} {path}");
    }
    // The web client is still served.
    let index = app.send_raw("GET", "/", &[], None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(header(&index, "content-type").starts_with("text/html"));
}

#[actix_rt::test]
async fn a_body_of_the_wrong_json_type_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let auth = format!("Bearer {}", ann.token);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    for (method, path, body) in [
        ("PATCH", "/api/chat/users/me".to_owned(), "[null, null]"),
        ("PATCH", "/api/chat/users/me".to_owned(), "\"ann\""),
        ("POST", "/api/chat/rooms".to_owned(), "[\"x\", \"group\"]"),
        ("POST", format!("/api/chat/rooms/{room}/mark_read"), "[1]"),
        (
            "POST",
            format!("/api/chat/rooms/{room}/mark_read"),
            "{\"seq\": \"x\"}",
        ),
        ("POST", format!("/api/chat/rooms/{room}/messages"), "7"),
    ] {
        let a = app
            .send_raw(method, &path, &headers, Some(body.as_bytes()))
            .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {}",
            a.body
        );
        assert_eq!(a.error_code(), "bad_request", "{method} {path} {body}");
    }
    let me = app.get("/api/chat/users/me", &ann.token).await;
    assert_eq!(me.body["display_name"], "ann");
    let page = app
        .get(&format!("/api/chat/rooms/{room}/messages"), &ann.token)
        .await;
    assert_eq!(page.body["results"], json!([]));
    // An empty body is still a valid mark_read (the body is optional).
    let read = app
        .send_raw(
            "POST",
            &format!("/api/chat/rooms/{room}/mark_read"),
            &headers,
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
}

#[actix_rt::test]
async fn put_updates_rooms_and_messages_as_patch_does() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let r = format!("/api/chat/rooms/{room}");
    let renamed = app.put(&r, &ann.token, json!({"name": "Renamed"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(app.get(&r, &ann.token).await.body["name"], "Renamed");
    // The same rules as PATCH: a member may not, another tenant's caller sees nothing.
    let denied = app.put(&r, &bob.token, json!({"name": "Mine"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    let other = app.platform_token(
        Uuid::new_v4(),
        Uuid::new_v4(),
        "Eve",
        confab::auth::Role::User,
    );
    let hidden = app.put(&r, &other, json!({"name": "Eve's"})).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let bad = app.put(&r, &ann.token, json!({"name": ""})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let msg = app
        .post(
            &format!("{r}/messages"),
            &ann.token,
            json!({"content": "first"}),
        )
        .await;
    let m = format!("{r}/messages/{}", msg.body["id"].as_str().expect("id"));
    let edited = app.put(&m, &ann.token, json!({"content": "second"})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["content"], "second");
    assert!(edited.body["edited_at"].is_string());
    let not_mine = app.put(&m, &bob.token, json!({"content": "bob's"})).await;
    assert_eq!(not_mine.status, StatusCode::FORBIDDEN);
    let too_long = app
        .put(&m, &ann.token, json!({"content": "x".repeat(4001)}))
        .await;
    assert_eq!(too_long.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[actix_rt::test]
async fn cors_answers_preflights_from_allowed_origins_and_refuses_others() {
    let app = spawn_app_with(|s| {
        s.server.allowed_origins = vec!["https://app.example/".into()];
    })
    .await;
    let ann = app.register("ann").await;
    let preflight = |origin: &'static str| {
        [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ]
    };
    let ok = app
        .send_raw(
            "OPTIONS",
            "/api/chat/rooms",
            &preflight("https://app.example"),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        header(&ok, "access-control-allow-origin"),
        "https://app.example"
    );
    assert_eq!(header(&ok, "access-control-allow-credentials"), "true");
    assert!(header(&ok, "access-control-allow-methods").contains("POST"));
    let allowed_headers = header(&ok, "access-control-allow-headers").to_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );

    let refused = app
        .send_raw(
            "OPTIONS",
            "/api/chat/rooms",
            &preflight("https://evil.example"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(is_json(&refused), "{:?}", refused.headers);
    assert_eq!(refused.error_code(), "forbidden");
    assert!(refused.headers.get("access-control-allow-origin").is_none());

    // The actual requests: the allowed origin may read the answer, the other may not.
    let auth = format!("Bearer {}", ann.token);
    let from = |origin: &'static str| [("Origin", origin), ("Authorization", "")];
    let mut headers = from("https://app.example");
    headers[1].1 = &auth;
    let mine = app
        .send_raw("GET", "/api/chat/users/me", &headers, None)
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(
        header(&mine, "access-control-allow-origin"),
        "https://app.example"
    );
    assert_eq!(header(&mine, "access-control-allow-credentials"), "true");
    let mut headers = from("https://evil.example");
    headers[1].1 = &auth;
    let theirs = app
        .send_raw("GET", "/api/chat/users/me", &headers, None)
        .await;
    assert!(theirs.headers.get("access-control-allow-origin").is_none());
    // The WebSocket Origin check reads the same setting.
    assert!(app
        .ws_try("/ws/chat/", Some(&ann.token), Some("https://app.example"))
        .await
        .is_ok());
    assert!(app
        .ws_try("/ws/chat/", Some(&ann.token), Some("https://evil.example"))
        .await
        .is_err());
}

#[actix_rt::test]
async fn text_with_nul_and_metadata_beyond_jsonb_are_400_and_the_room_stays_readable() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let msgs = format!("/api/chat/rooms/{room}/messages");
    for (path, body, field) in [
        (msgs.clone(), json!({"content": "a\u{0}b"}), "content"),
        (
            msgs.clone(),
            json!({"content": "x", "metadata": {"k": "\u{0}"}}),
            "metadata",
        ),
        (
            msgs.clone(),
            json!({"content": "x", "extra": ["\u{0}"]}),
            "extra",
        ),
        (
            msgs.clone(),
            json!({"content": "x", "metadata": {"n": -1.797_693_134_862_315_7e308}}),
            "metadata",
        ),
        (
            "/api/auth/login".to_owned(),
            json!({"username": "a\u{0}", "password": "x"}),
            "username",
        ),
    ] {
        let a = app
            .send("POST", &path, Some(&ann.token), Some(body.clone()))
            .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["field"], field, "{path} {body}");
    }
    for path in [
        "/api/chat/search/messages?q=a%00b",
        "/api/chat/search/rooms?q=%00",
        "/api/chat/users?q=%00",
    ] {
        let a = app.get(path, &ann.token).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.body);
        assert_eq!(a.body["error"]["field"], "q", "{path}");
    }
    // Metadata within the range goes in and comes back out.
    let ok = app
        .post(
            &msgs,
            &ann.token,
            json!({"content": "x", "metadata": {"n": 1e300, "m": 2.5}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let page = app.get(&msgs, &ann.token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(page.body["results"][0]["metadata"]["m"], 2.5);
}

#[actix_rt::test]
async fn history_between_two_seqs_and_whole_numbers_written_as_floats() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let msgs = format!("/api/chat/rooms/{room}/messages");
    for i in 1..=5 {
        let a = app
            .post(&msgs, &ann.token, json!({"content": format!("m{i}")}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let page = app
        .get(
            &format!("{msgs}?after_seq=1&before_seq=5&limit=2"),
            &ann.token,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let seqs: Vec<i64> = page.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(page.body["has_more"], true);
    let rest = app
        .get(&format!("{msgs}?after_seq=3&before_seq=5"), &ann.token)
        .await;
    assert_eq!(rest.body["results"][0]["seq"], 4);
    assert_eq!(rest.body["has_more"], false);
    // `2.0` is the integer 2 (JSON Schema's reading); `2.5` is not an integer.
    let read = app
        .post(
            &format!("/api/chat/rooms/{room}/mark_read"),
            &ann.token,
            json!({"seq": 2.0}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["last_read_seq"], 2);
    let bad = app
        .post(
            &format!("/api/chat/rooms/{room}/mark_read"),
            &ann.token,
            json!({"seq": 2.5}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["field"], "seq");
}

#[actix_rt::test]
async fn the_document_states_the_configured_limits_and_the_checked_formats() {
    let app = spawn_app_with(|s| {
        s.limits.max_message_chars = 1234;
        s.limits.max_search_query_chars = 77;
    })
    .await;
    let doc = app.send("GET", "/api/openapi.json/", None, None).await.body;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PostBody"]["properties"]["content"]["maxLength"],
        1234
    );
    assert_eq!(
        schemas["EditBody"]["properties"]["content"]["maxLength"],
        1234
    );
    let q = doc["paths"]["/api/chat/search/messages"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "q")
        .expect("q")
        .clone();
    assert_eq!(q["required"], true);
    assert_eq!(q["schema"]["maxLength"], 77);
    // Every UUID has its pattern; enums come from the server's own lists.
    let room_id = &doc["paths"]["/api/chat/rooms/{room_id}"]["get"]["parameters"][0]["schema"];
    assert!(room_id["pattern"]
        .as_str()
        .is_some_and(|p| p.contains("[0-9a-fA-F]{8}")));
    let roles = &schemas["RoleBody"]["properties"]["role"]["enum"];
    assert_eq!(
        roles,
        &json!(["owner", "admin", "moderator", "member", "observer"])
    );
    // The room list's cursor is what the server gives out.
    let ann = app.register("ann").await;
    for _ in 0..2 {
        app.room(&ann, "group", &[]).await;
    }
    let first = app.get("/api/chat/rooms?limit=1", &ann.token).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let list = &doc["paths"]["/api/chat/rooms"]["get"]["parameters"];
    let pattern = list
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "cursor")
        .and_then(|p| p["schema"]["pattern"].as_str())
        .expect("cursor pattern")
        .to_owned();
    let (micros, id) = cursor.split_once('_').expect("{micros}_{uuid}");
    assert!(
        micros.chars().all(|c| c.is_ascii_digit()) && id.parse::<Uuid>().is_ok(),
        "{cursor} vs {pattern}"
    );
    let next = app
        .get(
            &format!("/api/chat/rooms?limit=1&cursor={cursor}"),
            &ann.token,
        )
        .await;
    assert_eq!(next.status, StatusCode::OK);
    assert_ne!(
        next.body["results"][0]["id"],
        first.body["results"][0]["id"]
    );
}
