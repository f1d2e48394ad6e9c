//! Password changes: your own (with the current password) and an admin's reset. Every login of
//! the user ends: refresh tokens are revoked and their sockets close at once (seconds, not the access token's lifetime).

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

const OLD: &str = "correct horse battery";
const NEW: &str = "a brand new passphrase";
/// "At once": far below the access token's lifetime (minutes), with room for a loaded CI box.
const AT_ONCE: Duration = Duration::from_secs(5);

async fn login(app: &TestApp, username: &str, password: &str) -> Answer {
    app.post(
        "/api/auth/login",
        "",
        json!({"username": username, "password": password}),
    )
    .await
}

/// Waits for the socket to be closed with `closing {reason}` and code 1008.
async fn closed_with(ws: &mut Ws, reason: &str) {
    let (frames, closed) = ws.until_closed().await;
    let closing = frames
        .iter()
        .find(|f| f["type"] == "closing")
        .expect("closing");
    assert_eq!(closing["reason"], reason);
    assert!(matches!(closed, Closed::Code(1008, _)), "{closed:?}");
}

#[actix_rt::test]
async fn changing_your_password_ends_every_login_and_closes_every_socket_at_once() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let second = User::from_pair(&login(&app, "ann", OLD).await.body);
    let mut ws1 = app.ws(&ann.token).await;
    let mut ws2 = app.ws(&second.token).await;

    let changed = app
        .post(
            "/api/auth/password",
            &ann.token,
            json!({"current_password": OLD, "new_password": NEW}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.raw);
    // Timed from the answer, so the two argon2 hashes before it do not count.
    let answered = Instant::now();
    for ws in [&mut ws1, &mut ws2] {
        closed_with(ws, "password_changed").await;
    }
    assert!(answered.elapsed() < AT_ONCE, "{:?}", answered.elapsed());

    // The old logins are gone: refresh tokens and access tokens alike.
    for old in [&ann, &second] {
        let r = app
            .post(
                "/api/auth/refresh",
                "",
                json!({"refresh_token": old.refresh}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.get("/api/chat/users/me", &old.token).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.ws_try("/ws/chat/", Some(&second.token), None)
            .await
            .err(),
        Some(401)
    );
    // The answer is a working login; the new password works, the old one not.
    let fresh = User::from_pair(&changed.body);
    assert_eq!(
        app.get("/api/chat/users/me", &fresh.token).await.status,
        StatusCode::OK
    );
    app.ws(&fresh.token).await;
    assert_eq!(
        login(&app, "ann", OLD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(&app, "ann", NEW).await.status, StatusCode::OK);
}

#[actix_rt::test]
async fn a_password_change_with_a_wrong_or_bad_body_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let path = "/api/auth/password";
    let wrong = app
        .post(
            path,
            &ann.token,
            json!({"current_password": "not it at all", "new_password": NEW}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "invalid_credentials");
    let short = app
        .post(
            path,
            &ann.token,
            json!({"current_password": OLD, "new_password": "short"}),
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.body["error"]["field"], "new_password");
    let long = app
        .post(
            path,
            &ann.token,
            json!({"current_password": OLD, "new_password": "x".repeat(257)}),
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    let huge = app
        .post(
            path,
            &ann.token,
            json!({"current_password": OLD, "new_password": "x".repeat(300_000)}),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let missing = app
        .post(path, &ann.token, json!({"new_password": NEW}))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let anonymous = app
        .send(
            "POST",
            path,
            None,
            Some(json!({"current_password": OLD, "new_password": NEW})),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // A platform user has no password here.
    let platform = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Pat", Role::User);
    let none = app
        .post(
            path,
            &platform,
            json!({"current_password": OLD, "new_password": NEW}),
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    // Nothing changed: the old login and password still work.
    assert_eq!(
        app.get("/api/chat/users/me", &ann.token).await.status,
        StatusCode::OK
    );
    assert_eq!(login(&app, "ann", OLD).await.status, StatusCode::OK);
    // Guessing is throttled like a login.
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        last = app
            .post(
                path,
                &ann.token,
                json!({"current_password": "guess guess", "new_password": NEW}),
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_rt::test]
async fn an_admin_can_force_a_password_within_their_tenant_only() {
    let app = spawn_app().await;
    let bob = app.register("bob").await;
    let mut ws = app.ws(&bob.token).await;
    let path = format!("/api/admin/users/{}/password", bob.id);
    let body = json!({"new_password": NEW});
    // Not an admin; another tenant's admin; an unknown user.
    assert_eq!(
        app.post(&path, &bob.token, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let other = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Other", Role::Admin);
    assert_eq!(
        app.post(&path, &other, body.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let admin = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Admin", Role::Admin);
    let unknown = format!("/api/admin/users/{}/password", Uuid::new_v4());
    assert_eq!(
        app.post(&unknown, &admin, body.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = app
        .post(&path, &admin, json!({"new_password": "short"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(login(&app, "bob", OLD).await.status, StatusCode::OK);

    let done = app.post(&path, &admin, body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.raw);
    assert_eq!(done.body["connections_closed"], 1);
    let answered = Instant::now();
    closed_with(&mut ws, "password_changed").await;
    assert!(answered.elapsed() < AT_ONCE, "{:?}", answered.elapsed());
    let r = app
        .post(
            "/api/auth/refresh",
            "",
            json!({"refresh_token": bob.refresh}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&app, "bob", OLD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(&app, "bob", NEW).await.status, StatusCode::OK);
}
