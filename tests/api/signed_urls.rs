//! Signed file URLs: REST answers carry them, they serve the file without a token (ranges too),
//! and a wrong one (expired, tampered, another user's, another file's) serves nothing.

use awc::http::StatusCode;
use chrono::Utc;
use confab::auth::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;
use crate::uploads::{app, download_with, png, share, uploaded, url, Download};

/// A GET without any Authorization header, as `<img src>` makes it.
async fn fetch(app: &TestApp, path: &str, range: Option<&str>) -> Download {
    download_with(app, "", path, range).await
}

/// The attachment of the newest message of `room` as `user`'s history answers it.
async fn attachment_in_history(app: &TestApp, user: &User, room: Uuid) -> Value {
    let h = app
        .get(&format!("/api/chat/rooms/{room}/messages"), &user.token)
        .await;
    assert_eq!(h.status, StatusCode::OK, "{:?}", h.body);
    h.body["results"]
        .as_array()
        .and_then(|r| r.last())
        .map(|m| m["attachment"].clone())
        .expect("a message")
}

/// `path?query` signed by the server's own signer (as a URL it minted would be).
fn signed(app: &TestApp, file: &str, path: &str, user: Uuid, exp: i64) -> String {
    let id: Uuid = file.parse().expect("file id");
    let q = app.state.uploads.signer.query(id, user, exp);
    format!("{path}?{q}")
}

fn refused(g: &Download, what: &str, png: &[u8]) {
    assert!(
        g.status == StatusCode::FORBIDDEN || g.status == StatusCode::NOT_FOUND,
        "{what}: {}",
        g.status
    );
    assert!(!g.body.starts_with(&png[..8]), "{what}: file bytes served");
    assert!(!g.body.starts_with(b"\xff\xd8"), "{what}: thumbnail served");
}

#[actix_rt::test]
async fn answers_carry_signed_urls_that_serve_the_file_without_a_token() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let bytes = png(64, 48);
    let image = uploaded(&app, &ann, "cat.png", &bytes).await;
    assert!(url(&image, "signed_url").contains(&format!("uid={}", ann.id)));
    share(&app, &ann, room, &image).await;

    let a = attachment_in_history(&app, &bob, room).await;
    let file = url(&a, "signed_url");
    assert!(file.starts_with(&format!("{}?uid={}&exp=", url(&a, "url"), bob.id)));
    let until = chrono::DateTime::parse_from_rfc3339(&url(&a, "signed_until")).expect("rfc3339");
    let left = until.timestamp() - Utc::now().timestamp();
    assert!(
        (590..=600).contains(&left),
        "default ttl 600 s, {left} left"
    );

    let got = fetch(&app, &file, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body[..], &bytes[..]);
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("cache-control").starts_with("private, max-age="));
    let thumb = fetch(&app, &url(&a, "signed_thumbnail_url"), None).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert!(thumb.header("content-type").starts_with("image/"));
    // Media players seek with ranges.
    let part = fetch(&app, &file, Some("bytes=0-7")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&part.body[..], &bytes[..8]);
    // The bearer path is unchanged beside it.
    let plain = fetch(&app, &url(&a, "url"), None).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn expired_tampered_another_users_and_another_files_urls_serve_nothing() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let room = app.room(&ann, "group", &[&bob, &carol]).await;
    let bytes = png(40, 40);
    let image = uploaded(&app, &ann, "cat.png", &bytes).await;
    share(&app, &ann, room, &image).await;
    let other = uploaded(&app, &ann, "dog.png", &png(30, 30)).await;
    share(&app, &ann, room, &other).await;
    let (file_id, path) = (url(&image, "id"), url(&image, "url"));
    let good = signed(&app, &file_id, &path, bob.id, Utc::now().timestamp() + 60);
    assert_eq!(fetch(&app, &good, None).await.status, StatusCode::OK);
    let query = good
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .expect("query");
    let sig = query
        .rsplit_once("sig=")
        .map(|(_, s)| s.to_owned())
        .expect("sig");
    let flipped = format!(
        "{}{}",
        if sig.starts_with('A') { 'B' } else { 'A' },
        &sig[1..]
    );
    let exp: i64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("exp="))
        .and_then(|e| e.parse().ok())
        .expect("exp");
    let stranger = Uuid::new_v4();
    let cases = [
        (
            "expired",
            signed(&app, &file_id, &path, bob.id, Utc::now().timestamp() - 1),
        ),
        ("tampered signature", good.replace(&sig, &flipped)),
        (
            "tampered expiry",
            good.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600)),
        ),
        (
            "another user's (bob's signature, carol's id)",
            good.replace(&bob.id.to_string(), &carol.id.to_string()),
        ),
        ("another file's", format!("{}?{query}", url(&other, "url"))),
        (
            "another file's thumbnail",
            format!("{}?{query}", url(&other, "thumbnail_url")),
        ),
        (
            "signed for a non-member",
            signed(&app, &file_id, &path, dave.id, exp),
        ),
        (
            "signed for a user of no tenant here",
            signed(&app, &file_id, &path, stranger, exp),
        ),
        ("no uid", format!("{path}?exp={exp}&sig={sig}")),
        ("garbage", format!("{path}?uid=x&exp=y&sig=%%%")),
        (
            "a signature far too long",
            format!("{path}?uid={}&exp={exp}&sig={}", bob.id, "A".repeat(8000)),
        ),
        (
            "an expiry past i64",
            format!("{path}?uid={}&exp=9{exp}9{exp}&sig={sig}", bob.id),
        ),
    ];
    for (what, u) in &cases {
        refused(&fetch(&app, u, None).await, what, &bytes);
        refused(&fetch(&app, u, Some("bytes=0-7")).await, what, &bytes);
    }
    // Another tenant's admin, signed by this server, still gets nothing of this tenant.
    let admin = Uuid::new_v4();
    let token = app.platform_token(admin, Uuid::new_v4(), "mod", Role::Admin);
    assert_eq!(
        app.get("/api/chat/users/me", &token).await.status,
        StatusCode::OK
    );
    let u = signed(&app, &file_id, &path, admin, exp);
    refused(
        &fetch(&app, &u, None).await,
        "another tenant's admin",
        &bytes,
    );
}

#[actix_rt::test]
async fn removal_and_deletion_stop_new_urls_and_end_the_old_ones() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.room(&ann, "group", &[&bob, &carol]).await;
    let bytes = png(32, 32);
    let image = uploaded(&app, &ann, "cat.png", &bytes).await;
    let m = share(&app, &ann, room, &image).await;
    let carols = url(
        &attachment_in_history(&app, &carol, room).await,
        "signed_url",
    );
    let bobs = url(&attachment_in_history(&app, &bob, room).await, "signed_url");
    assert_eq!(fetch(&app, &carols, None).await.status, StatusCode::OK);

    let removed = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", carol.id),
            &ann.token,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let h = app
        .get(&format!("/api/chat/rooms/{room}/messages"), &carol.token)
        .await;
    assert_eq!(h.status, StatusCode::NOT_FOUND, "no new URL for carol");
    refused(&fetch(&app, &carols, None).await, "removed member", &bytes);
    assert_eq!(fetch(&app, &bobs, None).await.status, StatusCode::OK);

    let d = app
        .delete(
            &format!("/api/chat/rooms/{room}/messages/{}", url(&m, "id")),
            &ann.token,
        )
        .await;
    assert!(d.status.is_success());
    assert!(attachment_in_history(&app, &bob, room).await.is_null());
    refused(&fetch(&app, &bobs, None).await, "deleted message", &bytes);
}

#[actix_rt::test]
async fn the_ttl_comes_from_uploads_url_ttl_secs_and_must_be_sane() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf-8").to_owned();
    let app = spawn_app_with(move |s| {
        s.uploads.dir = path;
        s.uploads.url_ttl_secs = 30;
    })
    .await;
    let ann = app.register("ann").await;
    let image = uploaded(&app, &ann, "cat.png", &png(16, 16)).await;
    let until = chrono::DateTime::parse_from_rfc3339(&url(&image, "signed_until")).expect("time");
    let left = until.timestamp() - Utc::now().timestamp();
    assert!((25..=30).contains(&left), "{left}");
    let e = confab::config::Settings::load_with(
        &manifest_dir().join("config"),
        &[
            ("database.url", "postgres://x/y"),
            ("auth.jwt_secret", "a-secret-that-is-long-enough-0123456789"),
            ("uploads.url_ttl_secs", "0"),
        ],
    )
    .expect_err("0 is refused");
    assert!(e.to_string().contains("uploads.url_ttl_secs"), "{e}");
}
