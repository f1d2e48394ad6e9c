//! Search, the admin API, and what bans and logouts do to live sockets.

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[actix_rt::test]
async fn search_finds_only_messages_of_rooms_i_am_in_now() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let shared = app.room(&ann, "group", &[&bob]).await;
    let private = app.room(&ann, "group", &[]).await;
    let post = |room: Uuid, text: &str| {
        let (path, body) = (messages_path(room), json!({"content": text}));
        let app = &app;
        let token = ann.token.clone();
        async move {
            assert_eq!(
                app.post(&path, &token, body).await.status,
                StatusCode::CREATED
            )
        }
    };
    post(shared, "The quarterly budget meeting moved to Friday").await;
    post(shared, "Budgets are <b>tight</b> this year").await;
    post(shared, "lunch at noon").await;
    post(private, "my secret budget notes").await;
    // Another tenant's identical text is invisible.
    let other = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Other", Role::User);
    let orm = app
        .post(
            "/api/chat/rooms",
            &other,
            json!({"name": "x", "room_type": "group"}),
        )
        .await;
    app.post(
        &format!(
            "/api/chat/rooms/{}/messages",
            orm.body["id"].as_str().unwrap()
        ),
        &other,
        json!({"content": "budget budget budget"}),
    )
    .await;

    let hits = app
        .get("/api/chat/search/messages?q=budget", &bob.token)
        .await;
    assert_eq!(hits.status, StatusCode::OK);
    let texts: Vec<&str> = hits.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().all(|t| !t.contains("secret")));
    // Highlights are HTML with the user's text escaped.
    let snippets: Vec<&str> = hits.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["snippet"].as_str().unwrap())
        .collect();
    assert!(
        snippets
            .iter()
            .any(|s| s.contains("<mark>") && s.contains("&lt;b&gt;")),
        "{snippets:?}"
    );
    // Quotes and operators (websearch syntax).
    let phrase = app
        .get(
            &format!("/api/chat/search/messages?q={}", pct("\"budget meeting\"")),
            &bob.token,
        )
        .await;
    assert_eq!(phrase.body["results"].as_array().unwrap().len(), 1);
    let not = app
        .get(
            &format!("/api/chat/search/messages?q={}", pct("budget -friday")),
            &bob.token,
        )
        .await;
    assert_eq!(not.body["results"].as_array().unwrap().len(), 1);
    let by_room = app
        .get(
            &format!("/api/chat/search/messages?q=budget&room_id={private}"),
            &bob.token,
        )
        .await;
    assert_eq!(by_room.body["results"], json!([]));
    let by_sender = app
        .get(
            &format!("/api/chat/search/messages?q=lunch&sender_id={}", bob.id),
            &bob.token,
        )
        .await;
    assert_eq!(by_sender.body["results"], json!([]));
    let later = app
        .get(
            "/api/chat/search/messages?q=lunch&after=2999-01-01T00:00:00Z",
            &bob.token,
        )
        .await;
    assert_eq!(later.body["results"], json!([]));
    // Removed from the room: nothing any more.
    app.delete(
        &format!("/api/chat/rooms/{shared}/members/{}", bob.id),
        &ann.token,
    )
    .await;
    let after = app
        .get("/api/chat/search/messages?q=budget", &bob.token)
        .await;
    assert_eq!(after.body["results"], json!([]));
    // A 10 KB query is refused cleanly.
    let huge = app
        .get(
            &format!("/api/chat/search/messages?q={}", "a".repeat(10 * 1024)),
            &bob.token,
        )
        .await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST);
    assert_eq!(huge.body["error"]["field"], "q");
    assert_eq!(
        app.get("/api/chat/search/messages?q=", &bob.token)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[actix_rt::test]
async fn room_search_covers_my_rooms_public_rooms_and_member_names() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let zed = app.register("zed").await;
    app.post(
        "/api/chat/rooms",
        &ann.token,
        json!({"name": "Rust Study Group", "room_type": "public"}),
    )
    .await;
    app.post(
        "/api/chat/rooms",
        &ann.token,
        json!({"name": "Rust admins", "room_type": "group"}),
    )
    .await;
    app.post(
        "/api/chat/rooms",
        &ann.token,
        json!({"name": "Cooking", "room_type": "group", "participant_ids": [zed.id]}),
    )
    .await;
    let found = app.get("/api/chat/search/rooms?q=rust", &bob.token).await;
    let names: Vec<&str> = found.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Rust Study Group"]);
    let by_member = app.get("/api/chat/search/rooms?q=zed", &ann.token).await;
    assert_eq!(by_member.body["results"][0]["name"], "Cooking");
}

#[actix_rt::test]
async fn a_ban_closes_live_sockets_and_refuses_the_token_until_unbanned() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut b = app.ws(&bob.token).await;
    b.request(json!({"type": "join_room", "room_id": room}))
        .await;
    let admin = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Admin", Role::Admin);
    let ban = app
        .post(
            &format!("/api/admin/users/{}/ban", bob.id),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(ban.status, StatusCode::OK, "{:?}", ban.body);
    assert_eq!(ban.body["connections_closed"], 1);
    let (frames, _) = b.until_closed().await;
    assert_eq!(frames.last().unwrap()["reason"], "banned");
    assert_eq!(
        app.get("/api/chat/users/me", &bob.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.ws_try("/ws/chat/", Some(&bob.token), None).await.err(),
        Some(401)
    );
    let login = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "bob", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post(
            &format!("/api/admin/users/{}/unban", bob.id),
            &admin,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    let login = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "bob", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    // Tokens issued before the ban stay refused.
    assert_eq!(
        app.get("/api/chat/users/me", &bob.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_rt::test]
async fn logout_closes_the_sockets_of_that_login_only() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let again = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "ann", "password": "correct horse battery"})),
        )
        .await;
    let second = User::from_pair(&again.body);
    let mut first_ws = app.ws(&ann.token).await;
    let mut second_ws = app.ws(&second.token).await;
    let out = app
        .send(
            "POST",
            "/api/auth/logout",
            None,
            Some(json!({"refresh_token": ann.refresh})),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let (frames, _) = first_ws.until_closed().await;
    assert_eq!(frames.last().unwrap()["reason"], "logged_out");
    second_ws.send(json!({"type": "ping"})).await;
    second_ws.recv_type("pong").await;
}

#[actix_rt::test]
async fn the_admin_api_reports_mints_and_moderates_within_its_tenant() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let svc = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Platform", Role::Service);
    let m = app
        .post(&messages_path(room), &bob.token, json!({"content": "spam"}))
        .await;
    let _ws = app.ws(&ann.token).await;
    let stats = app.get("/api/admin/stats", &svc).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["tenant"]["connections"], 1);
    assert_eq!(stats.body["tenant"]["messages_per_minute"], 1);
    assert!(stats.body["node"]["room_actors"].as_u64().unwrap() >= 1);
    let rooms = app.get("/api/admin/rooms", &svc).await;
    assert_eq!(rooms.body["results"][0]["id"], room.to_string());
    assert_eq!(rooms.body["results"][0]["member_count"], 2);
    let sessions = app
        .get(&format!("/api/admin/sessions?user_id={}", ann.id), &svc)
        .await;
    assert_eq!(sessions.body["results"].as_array().unwrap().len(), 1);
    let del = app
        .delete(
            &format!("/api/admin/messages/{}", m.body["id"].as_str().unwrap()),
            &svc,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let h = app.get(&messages_path(room), &ann.token).await;
    assert_eq!(h.body["results"][0]["is_deleted"], true);
    // Minting: service only; a token for a new platform user provisions them on first use.
    let newcomer = Uuid::new_v4();
    let t = app
        .post(
            "/api/admin/tokens",
            &svc,
            json!({"user_id": newcomer, "ttl_secs": 600, "name": "New Student"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    let me = app
        .get(
            "/api/chat/users/me",
            t.body["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(me.body["display_name"], "New Student");
    let admin = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Admin", Role::Admin);
    assert_eq!(
        app.post("/api/admin/tokens", &admin, json!({"user_id": ann.id}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "/api/admin/tokens",
            &svc,
            json!({"user_id": ann.id, "ttl_secs": 5})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/admin/stats", &ann.token).await.status,
        StatusCode::FORBIDDEN
    );
    // Another tenant's service sees none of this.
    let other = app.platform_token(
        Uuid::new_v4(),
        Uuid::new_v4(),
        "Other platform",
        Role::Service,
    );
    assert_eq!(
        app.get("/api/admin/rooms", &other).await.body["results"],
        json!([])
    );
    assert_eq!(
        app.post("/api/admin/tokens", &other, json!({"user_id": ann.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/admin/sessions?user_id={}", ann.id), &other)
            .await
            .body["results"],
        json!([])
    );
}

#[actix_rt::test]
async fn a_course_module_sets_up_its_room_adds_students_and_posts_a_system_message() {
    // The README's worked example, step by step.
    let app = spawn_app().await;
    let svc = app.platform_token(
        Uuid::new_v4(),
        DEFAULT_TENANT,
        "Course module",
        Role::Service,
    );
    let students: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let tokens: Vec<String> = students
        .iter()
        .map(|s| app.platform_token(*s, DEFAULT_TENANT, "Student", Role::User))
        .collect();
    for t in &tokens {
        app.get("/api/chat/users/me", t).await;
    }
    let room = app
        .put(
            "/api/chat/rooms/by-ref/course/cs101",
            &svc,
            json!({"name": "CS 101", "room_type": "group", "participant_ids": [students[0]]}),
        )
        .await;
    assert_eq!(room.status, StatusCode::CREATED, "{:?}", room.body);
    let id = room.body["id"].as_str().unwrap();
    for s in &students[1..] {
        let r = app
            .post(
                &format!("/api/chat/rooms/{id}/members"),
                &svc,
                json!({"user_id": s}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let sys = app
        .post(
            &format!("/api/admin/rooms/{id}/system_message"),
            &svc,
            json!({"content": "Welcome to CS 101!"}),
        )
        .await;
    assert_eq!(sys.status, StatusCode::CREATED);
    let h = app
        .get(&format!("/api/chat/rooms/{id}/messages"), &tokens[2])
        .await;
    assert_eq!(h.body["results"][0]["content"], "Welcome to CS 101!");
    let again = app
        .put(
            "/api/chat/rooms/by-ref/course/cs101",
            &svc,
            json!({"name": "CS 101", "room_type": "group"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], id);
}
