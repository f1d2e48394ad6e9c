//! Operators' endpoints, the static client, and configuration errors.

use awc::http::StatusCode;

use crate::helpers::*;

#[actix_rt::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let h = app.send("GET", "/healthz", None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    let r = app.send("GET", "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["postgres"], "ok");
    let mut m = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(m.status(), StatusCode::OK);
    let text = String::from_utf8(m.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains(
            "confab_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("confab_http_request_duration_seconds_bucket"));
    assert!(text.contains("confab_ws_connections 0"));
}

#[actix_rt::test]
async fn unknown_paths_answer_404_in_the_error_shape_and_the_client_is_served() {
    let app = spawn_app().await;
    let a = app.send("GET", "/api/chat/nothing-here", None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.error_code(), "not_found");
    let mut index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let html = index.body().await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains("Confab"));
}

#[actix_rt::test]
async fn a_bad_configuration_value_names_its_key() {
    let dir = manifest_dir().join("config");
    let e = confab::config::Settings::load_with(
        &dir,
        &[
            ("server.port", "not-a-port"),
            ("database.url", "postgres://x/y"),
            ("auth.jwt_secret", &"s".repeat(40)),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.port"), "{e}");
    let e = confab::config::Settings::load_with(&dir, &[("database.url", "postgres://x/y")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("auth.jwt_secret"), "{e}");
    let e = confab::config::Settings::load_with(
        &dir,
        &[
            ("database.url", "postgres://x/y"),
            ("auth.jwt_secret", &"s".repeat(40)),
            ("realtime.heartbeat_secs", "90"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("realtime.client_timeout_secs"), "{e}");
}
