//! Accounts and tokens: register, login, refresh, logout, token validation, tenants, throttling.

use awc::http::StatusCode;
use confab::auth::{Claims, Role};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

const PW: &str = "correct horse battery";

#[actix_rt::test]
async fn register_login_refresh_and_logout_work_end_to_end() {
    let app = spawn_app().await;
    let reg = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"username": "Alice", "password": PW, "email": "alice@example.com"})),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED);
    assert_eq!(reg.body["user"]["username"], "alice");
    assert_eq!(reg.body["user"]["display_name"], "alice");
    assert_eq!(reg.body["user"]["tenant_id"], DEFAULT_TENANT.to_string());
    assert_eq!(reg.body["expires_in"], 900);
    assert!(reg.body["user"].get("password_hash").is_none());

    // Login by username and by email.
    for login in ["alice", "ALICE@example.com"] {
        let a = app
            .send(
                "POST",
                "/api/auth/login",
                None,
                Some(json!({"username": login, "password": PW})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{login}: {:?}", a.body);
        assert_eq!(a.body["user"]["username"], "alice");
    }

    let user = User::from_pair(&reg.body);
    let me = app.get("/api/chat/users/me", &user.token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "alice@example.com");

    let refreshed = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": user.refresh})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    let next = User::from_pair(&refreshed.body);
    assert_ne!(next.refresh, user.refresh);
    assert_eq!(
        app.get("/api/chat/users/me", &next.token).await.status,
        StatusCode::OK
    );

    let out = app
        .send(
            "POST",
            "/api/auth/logout",
            None,
            Some(json!({"refresh_token": next.refresh})),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    // The login is over: its refresh token and its access tokens are refused.
    let again = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": next.refresh})),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/chat/users/me", &next.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_rt::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("bob").await;
    let wrong = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "bob", "password": "not the password"})),
        )
        .await;
    let unknown = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "nobody", "password": PW})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.error_code(), "invalid_credentials");
}

#[actix_rt::test]
async fn duplicate_username_is_a_conflict() {
    let app = spawn_app().await;
    app.register("carol").await;
    let dup = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"username": "CAROL", "password": PW})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.error_code(), "conflict");
}

#[actix_rt::test]
async fn bad_usernames_and_passwords_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"username": "ab", "password": PW}), "username"),
        (json!({"username": "has space", "password": PW}), "username"),
        (
            json!({"username": "x".repeat(33), "password": PW}),
            "username",
        ),
        (json!({"username": "dave", "password": "short"}), "password"),
        (
            json!({"username": "dave", "password": "p".repeat(257)}),
            "password",
        ),
        (
            json!({"username": "dave", "password": PW, "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"username": "dave", "password": PW, "display_name": ""}),
            "display_name",
        ),
        (json!({"username": "dave"}), "password"),
        (json!({"username": 42, "password": PW}), "username"),
    ];
    for (body, field) in cases {
        let a = app
            .send("POST", "/api/auth/register", None, Some(body.clone()))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.error_code(), "bad_request");
        assert_eq!(a.body["error"]["field"], field, "{body}: {:?}", a.body);
    }
    // A tenant that does not exist is not found (the field names it).
    let body = json!({"username": "dave", "password": PW, "tenant": "no-such-tenant"});
    let a = app
        .send("POST", "/api/auth/register", None, Some(body.clone()))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(a.error_code(), "not_found");
    assert_eq!(a.body["error"]["field"], "tenant", "{body}: {:?}", a.body);
    // Nothing was created by the refused attempts.
    let ok = app
        .send(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"username": "dave", "password": PW})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

#[actix_rt::test]
async fn a_rotated_refresh_token_used_again_is_refused_and_ends_the_login() {
    let app = spawn_app().await;
    let user = app.register("erin").await;
    let first = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": user.refresh})),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let rotated = User::from_pair(&first.body);
    let reuse = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": user.refresh})),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    // Reuse means the token leaked: the newer token of that login stops working too.
    let newer = app
        .send(
            "POST",
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": rotated.refresh})),
        )
        .await;
    assert_eq!(newer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/chat/users/me", &rotated.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn claims(sub: Uuid, exp_offset: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub,
        tenant: DEFAULT_TENANT,
        name: Some("Tok".into()),
        role: Role::User,
        username: None,
        iat: now,
        exp: now + exp_offset,
        nbf: None,
        iss: None,
        aud: None,
        sid: None,
    }
}

fn b64(v: &serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[actix_rt::test]
async fn bad_tokens_are_refused() {
    let app = spawn_app().await;
    let secret = app.settings.auth.jwt_secret.clone();
    let sub = Uuid::new_v4();
    let good = encode(
        &Header::new(Algorithm::HS256),
        &claims(sub, 600),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        app.get("/api/chat/users/me", &good).await.status,
        StatusCode::OK
    );

    let expired = encode(
        &Header::new(Algorithm::HS256),
        &claims(sub, -120),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let wrong_sig = encode(
        &Header::new(Algorithm::HS256),
        &claims(sub, 600),
        &EncodingKey::from_secret(b"another secret that is long enough!!"),
    )
    .unwrap();
    let wrong_alg = encode(
        &Header::new(Algorithm::HS512),
        &claims(sub, 600),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let rsa = EncodingKey::from_rsa_pem(
        &std::fs::read(manifest_dir().join("tests/fixtures/platform_rsa.pem")).unwrap(),
    )
    .unwrap();
    let rs256 = encode(&Header::new(Algorithm::RS256), &claims(sub, 600), &rsa).unwrap();
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&serde_json::to_value(claims(sub, 600)).unwrap())
    );
    let mut no_exp = serde_json::to_value(claims(sub, 600)).unwrap();
    no_exp.as_object_mut().unwrap().remove("exp");
    let no_exp = encode(
        &Header::new(Algorithm::HS256),
        &no_exp,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let mut future = claims(sub, 3600);
    future.nbf = Some(chrono::Utc::now().timestamp() + 1200);
    let not_yet = encode(
        &Header::new(Algorithm::HS256),
        &future,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();

    for (what, token) in [
        ("expired", expired),
        ("wrong signature", wrong_sig),
        ("wrong algorithm", wrong_alg),
        ("unconfigured RS256", rs256),
        ("alg none", none),
        ("no exp", no_exp),
        ("nbf in the future", not_yet),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let a = app.get("/api/chat/users/me", &token).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(a.error_code(), "unauthorized", "{what}");
    }
    let none_at_all = app.send("GET", "/api/chat/users/me", None, None).await;
    assert_eq!(none_at_all.status, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = spawn_app_with(|s| {
        s.auth.issuer = "https://academy.example".into();
        s.auth.audience = "confab".into();
    })
    .await;
    let key = EncodingKey::from_secret(app.settings.auth.jwt_secret.as_bytes());
    let sub = Uuid::new_v4();
    let with = |iss: Option<&str>, aud: Option<&str>| {
        let mut c = claims(sub, 600);
        c.iss = iss.map(str::to_owned);
        c.aud = aud.map(|a| json!(a));
        encode(&Header::new(Algorithm::HS256), &c, &key).unwrap()
    };
    let ok = with(Some("https://academy.example"), Some("confab"));
    assert_eq!(
        app.get("/api/chat/users/me", &ok).await.status,
        StatusCode::OK
    );
    for (what, token) in [
        (
            "wrong iss",
            with(Some("https://evil.example"), Some("confab")),
        ),
        (
            "wrong aud",
            with(Some("https://academy.example"), Some("other")),
        ),
        ("missing iss", with(None, Some("confab"))),
        ("missing aud", with(Some("https://academy.example"), None)),
    ] {
        assert_eq!(
            app.get("/api/chat/users/me", &token).await.status,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
    // Tokens Confab mints itself carry the configured iss and aud.
    let user = app.register("frank").await;
    assert_eq!(
        app.get("/api/chat/users/me", &user.token).await.status,
        StatusCode::OK
    );
}

#[actix_rt::test]
async fn a_platform_token_provisions_its_user_and_tenant() {
    let pub_key = manifest_dir().join("tests/fixtures/platform_rsa.pub.pem");
    let app = spawn_app_with(|s| {
        s.auth.platform_jwt_algorithm = "RS256".into();
        s.auth.platform_public_key_path = pub_key.to_string_lossy().into_owned();
    })
    .await;
    let rsa = EncodingKey::from_rsa_pem(
        &std::fs::read(manifest_dir().join("tests/fixtures/platform_rsa.pem")).unwrap(),
    )
    .unwrap();
    let tenant = Uuid::new_v4();
    let sub = Uuid::new_v4();
    let mut c = claims(sub, 600);
    c.tenant = tenant;
    c.name = Some("Grace Hopper".into());
    let token = encode(&Header::new(Algorithm::RS256), &c, &rsa).unwrap();
    let me = app.get("/api/chat/users/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["id"], sub.to_string());
    assert_eq!(me.body["tenant_id"], tenant.to_string());
    assert_eq!(me.body["display_name"], "Grace Hopper");
    // The same user on the next request, not a second one; an HS256 platform token works too.
    let hs = app.platform_token(sub, tenant, "Grace Hopper", Role::User);
    let again = app.get("/api/chat/users/me", &hs).await;
    assert_eq!(again.body["id"], sub.to_string());
    // A token naming the same user under another tenant is refused.
    let other = app.platform_token(sub, Uuid::new_v4(), "Grace", Role::User);
    assert_eq!(
        app.get("/api/chat/users/me", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_rt::test]
async fn a_token_of_tenant_a_cannot_see_users_of_tenant_b() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let tenant_b = Uuid::new_v4();
    let mallory_id = Uuid::new_v4();
    let mallory = app.platform_token(mallory_id, tenant_b, "Mallory Alice", Role::User);
    // Mallory (tenant B) searches for "alice" and sees only tenant B.
    let found = app.get("/api/chat/users?q=alice", &mallory).await;
    assert_eq!(found.status, StatusCode::OK);
    let ids: Vec<&str> = found.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![mallory_id.to_string().as_str()]);
    let direct = app
        .get(&format!("/api/chat/users/{}", alice.id), &mallory)
        .await;
    assert_eq!(direct.status, StatusCode::NOT_FOUND);
    assert!(direct.body.get("username").is_none());
    // Alice sees herself by id and by search, never Mallory.
    assert_eq!(
        app.get(&format!("/api/chat/users/{}", alice.id), &alice.token)
            .await
            .status,
        StatusCode::OK
    );
    let mine = app.get("/api/chat/users?q=mallory", &alice.token).await;
    assert_eq!(mine.body["results"], json!([]));
    assert_eq!(
        app.get(&format!("/api/chat/users/{mallory_id}"), &alice.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn login_is_throttled_after_repeated_failures() {
    let app = spawn_app().await;
    app.register("henry").await;
    let max = app.settings.auth.login_max_failures_per_account;
    for _ in 0..max {
        let a = app
            .send(
                "POST",
                "/api/auth/login",
                None,
                Some(json!({"username": "henry", "password": "wrong password"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    let a = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "henry", "password": PW})),
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.error_code(), "rate_limited");
    assert!(a.body["error"]["retry_after_ms"].as_u64().unwrap() > 0);
    assert!(a.headers.get("retry-after").is_some());
    // Another account from the same address is not locked by henry's failures.
    app.register("ivy").await;
    let b = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"username": "ivy", "password": PW})),
        )
        .await;
    assert_eq!(b.status, StatusCode::OK);
}

#[actix_rt::test]
async fn oversized_and_malformed_bodies_get_the_error_shape() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(app.settings.limits.max_json_body_bytes + 10)
    );
    let a = app
        .post_raw("/api/auth/register", "application/json", big.into_bytes())
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.error_code(), "too_large");
    let b = app
        .post_raw(
            "/api/auth/register",
            "application/json",
            b"{\"username\": ".to_vec(),
        )
        .await;
    assert_eq!(b.status, StatusCode::BAD_REQUEST);
    assert_eq!(b.error_code(), "bad_request");
    assert!(b.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("JSON"));
    let c = app
        .post_raw("/api/auth/login", "text/plain", b"hello".to_vec())
        .await;
    assert_eq!(c.status, StatusCode::BAD_REQUEST);
}

#[actix_rt::test]
async fn profile_updates_are_validated() {
    let app = spawn_app().await;
    let u = app.register("jack").await;
    let ok = app
        .patch(
            "/api/chat/users/me",
            &u.token,
            json!({"display_name": "Jack R.", "avatar_url": "https://img.example/j.png"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["display_name"], "Jack R.");
    assert_eq!(ok.body["avatar_url"], "https://img.example/j.png");
    let bad = app
        .patch(
            "/api/chat/users/me",
            &u.token,
            json!({"avatar_url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["field"], "avatar_url");
    let long = app
        .patch(
            "/api/chat/users/me",
            &u.token,
            json!({"display_name": "x".repeat(65)}),
        )
        .await;
    assert_eq!(long.body["error"]["field"], "display_name");
    let unknown = app
        .patch("/api/chat/users/me", &u.token, json!({"role": "admin"}))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let cleared = app
        .patch("/api/chat/users/me", &u.token, json!({"avatar_url": null}))
        .await;
    assert_eq!(cleared.body["avatar_url"], serde_json::Value::Null);
    assert_eq!(cleared.body["display_name"], "Jack R.");
}
