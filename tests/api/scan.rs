//! Malware scanning of uploads (issue 20) against a real clamd over its socket: EICAR is refused
//! with 422 and nothing is stored, clean files pass, and a scanner that is down refuses uploads
//! (fail closed) or lets them in counted (fail open).

use std::path::PathBuf;
use std::time::Duration;

use awc::http::StatusCode;
use diesel_async::RunQueryDsl;

use crate::clamd::{eicar, Clamd};
use crate::helpers::*;
use crate::uploads::{app_with, pdf, upload};

async fn scanning_app(clamd: &str, fail_open: bool) -> (TestApp, tempfile::TempDir) {
    let clamd = clamd.to_owned();
    app_with(move |s| {
        s.uploads.scan = "clamav".into();
        s.uploads.clamd = clamd;
        s.uploads.scan_fail_open = fail_open;
        s.uploads.scan_timeout_ms = 2000;
    })
    .await
}

/// Rows in `attachments`.
async fn attachment_rows(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn().await;
    let c: Count = diesel::sql_query("SELECT count(*) AS n FROM attachments")
        .get_result(&mut conn)
        .await
        .expect("count attachments");
    c.n
}

/// The value of counter `name` on the node's /metrics.
pub(crate) async fn metric(app: &TestApp, name: &str) -> u64 {
    let mut m = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = String::from_utf8(m.body().await.unwrap().to_vec()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Waits (up to 10 s) for counter `name` to reach `want`, for counters counted after the event
/// a test saw (a socket may hear the event before the counter moves); answers the last value.
pub(crate) async fn metric_reaching(app: &TestApp, name: &str, want: u64) -> u64 {
    for _ in 0..200 {
        let now = metric(app, name).await;
        if now >= want {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    metric(app, name).await
}

#[actix_rt::test]
async fn eicar_is_refused_with_422_and_nothing_is_stored_while_clean_files_pass() {
    let clamd = Clamd::start();
    let (app, dir) = scanning_app(&clamd.address(), false).await;
    let ann = app.register("ann").await;
    // Whatever name and type it claims.
    for (name, part_type) in [
        ("eicar.com", "application/octet-stream"),
        ("notes.txt", "text/plain"),
    ] {
        let a = upload(&app, &ann.token, name, part_type, &eicar()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.body);
        assert_eq!(a.error_code(), "infected");
        assert!(
            a.body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("eicar"),
            "{:?}",
            a.body
        );
    }
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new(), "no file kept");
    assert_eq!(attachment_rows(&app).await, 0, "no row written");
    assert_eq!(metric(&app, "confab_uploads_infected_total").await, 2);
    // A clean PDF and a text that merely mentions EICAR pass.
    let a = upload(&app, &ann.token, "paper.pdf", "application/pdf", &pdf()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let a = upload(
        &app,
        &ann.token,
        "a.txt",
        "text/plain",
        b"EICAR is a test file",
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(attachment_rows(&app).await, 2);
    // Without a token nothing is scanned or stored.
    let a = upload(&app, "not-a-token", "eicar.com", "text/plain", &eicar()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(metric(&app, "confab_uploads_infected_total").await, 2);
}

#[actix_rt::test]
async fn a_stopped_scanner_refuses_uploads_when_failing_closed() {
    let mut clamd = Clamd::start();
    let (app, dir) = scanning_app(&clamd.address(), false).await;
    let ann = app.register("ann").await;
    clamd.stop();
    let a = upload(&app, &ann.token, "paper.pdf", "application/pdf", &pdf()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", a.body);
    assert_eq!(a.error_code(), "unavailable");
    assert!(a.headers.get("retry-after").is_some());
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
    assert_eq!(attachment_rows(&app).await, 0);
    assert_eq!(metric(&app, "confab_upload_scanner_down_total").await, 1);
    assert_eq!(metric(&app, "confab_uploads_unscanned_total").await, 0);
}

#[actix_rt::test]
async fn a_stopped_scanner_lets_uploads_in_counted_when_failing_open() {
    let mut clamd = Clamd::start();
    let (app, _dir) = scanning_app(&clamd.address(), true).await;
    let ann = app.register("ann").await;
    clamd.stop();
    let a = upload(&app, &ann.token, "paper.pdf", "application/pdf", &pdf()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(attachment_rows(&app).await, 1);
    assert_eq!(metric(&app, "confab_upload_scanner_down_total").await, 1);
    assert_eq!(metric(&app, "confab_uploads_unscanned_total").await, 1);
}

#[actix_rt::test]
async fn a_scanner_that_never_answers_times_out_and_fails_closed() {
    // A TCP "clamd" that accepts and stays silent.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("tcp:{}", silent.local_addr().expect("addr"));
    let (app, _dir) = app_with(move |s| {
        s.uploads.scan = "clamav".into();
        s.uploads.clamd = addr;
        s.uploads.scan_timeout_ms = 300;
    })
    .await;
    let ann = app.register("ann").await;
    let started = std::time::Instant::now();
    let a = upload(&app, &ann.token, "a.txt", "text/plain", b"hello").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", a.body);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(attachment_rows(&app).await, 0);
    drop(silent);
}

#[test]
fn scan_settings_are_checked_at_start() {
    let dir = manifest_dir().join("config");
    let secret = "0123456789abcdef0123456789abcdef";
    let load = |scan: &str, clamd: &str| {
        confab::config::Settings::load_with(
            &dir,
            &[
                ("database.url", "postgres://x/y"),
                ("auth.jwt_secret", secret),
                ("uploads.scan", scan),
                ("uploads.clamd", clamd),
            ],
        )
    };
    assert!(load("clamav", "unix:/run/clamav/clamd.ctl").is_ok());
    assert!(load("clamav", "tcp:clamav:3310").is_ok());
    for (scan, clamd) in [
        ("clamav", ""),
        ("clamav", "/run/clamd.ctl"),
        ("virustotal", ""),
    ] {
        let e = load(scan, clamd)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("uploads."), "{scan} {clamd}: {e}");
    }
}
