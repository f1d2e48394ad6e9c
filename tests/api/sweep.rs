//! Uploads no message carries are removed (row and file) after `uploads.unattached_ttl_secs`;
//! attached ones stay; the sweep is counted in `/metrics`.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::uploads::uploaded;

async fn stored_file(app: &TestApp, id: &str) -> std::path::PathBuf {
    let mut conn = app.db.conn().await;
    let key = crate::sql::text(
        &mut conn,
        &format!("SELECT storage_key AS s FROM attachments WHERE id = '{id}'"),
    )
    .await;
    let root = std::path::Path::new(&app.settings.uploads.dir);
    let root = if root.is_absolute() {
        root.to_path_buf()
    } else {
        manifest_dir().join(root)
    };
    root.join(key)
}

#[actix_rt::test]
async fn uploads_never_attached_are_swept_after_their_ttl_and_attached_ones_stay() {
    let app = spawn_app_with(|s| {
        s.uploads.unattached_ttl_secs = 2;
        s.uploads.sweep_interval_secs = 1;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let loose = uploaded(&app, &ann, "loose.txt", b"never attached").await;
    let kept = uploaded(&app, &ann, "kept.txt", b"attached").await;
    let (loose, kept) = (loose["id"].as_str().unwrap(), kept["id"].as_str().unwrap());
    let sent = app
        .post(
            &format!("/api/chat/rooms/{room}/messages"),
            &ann.token,
            json!({"content": "see file", "attachment_id": kept, "message_type": "file"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.raw);
    let loose_file = stored_file(&app, loose).await;
    let kept_file = stored_file(&app, kept).await;
    assert!(loose_file.exists() && kept_file.exists(), "{loose_file:?}");
    // Still there before its time.
    let path = |id: &str| format!("/api/chat/uploads/{id}");
    assert_eq!(
        app.get(&path(loose), &ann.token).await.status,
        StatusCode::OK
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&path(loose), &ann.token).await.status != StatusCode::NOT_FOUND {
        assert!(Instant::now() < deadline, "not swept within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!loose_file.exists(), "the file goes with the row");
    assert_eq!(
        app.get(&path(kept), &bob.token).await.status,
        StatusCode::OK
    );
    assert!(kept_file.exists());
    let metrics = app
        .http
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("confab_uploads_swept_total 1"),
        "{metrics}"
    );
}
