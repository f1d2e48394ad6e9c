//! The embeddable room page, the SDK's files, and CORS for the platforms `allowed_origins` names.

use awc::http::StatusCode;
use uuid::Uuid;

use crate::helpers::*;

async fn get_with(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
) -> (StatusCode, awc::http::header::HeaderMap, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(o) = origin {
        req = req.insert_header(("Origin", o));
    }
    let mut resp = req.send().await.expect("sent");
    let body = resp.body().limit(1024 * 1024).await.expect("body");
    (
        resp.status(),
        resp.headers().clone(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn header<'a>(h: &'a awc::http::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[actix_rt::test]
async fn the_embed_page_is_one_page_without_data_under_the_configured_frame_ancestors() {
    let csp =
        "default-src 'self'; img-src 'self' blob: data:; frame-ancestors https://academy.example";
    let app = spawn_app_with(|s| s.server.content_security_policy = csp.into()).await;
    let (status, headers, page) =
        get_with(&app, &format!("/embed/rooms/{}", Uuid::new_v4()), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert_eq!(header(&headers, "content-security-policy"), csp);
    assert!(page.contains("/sdk/embed.js"), "{page}");
    let (_, _, other) = get_with(&app, &format!("/embed/rooms/{}", Uuid::new_v4()), None).await;
    assert_eq!(page, other, "the page carries nothing of a room");
    let (bad, _, _) = get_with(&app, "/embed/rooms/not-a-room", None).await;
    assert_eq!(bad, StatusCode::BAD_REQUEST);
    let (sdk, h, js) = get_with(&app, "/sdk/confab.js", None).await;
    assert_eq!(sdk, StatusCode::OK);
    assert!(header(&h, "content-type").contains("javascript"));
    assert!(js.contains("export function connect"));
}

#[actix_rt::test]
async fn cors_lets_allowed_origins_call_the_api_and_nobody_else() {
    let app = spawn_app_with(|s| {
        s.server.allowed_origins = vec!["https://academy.example".into()];
    })
    .await;
    let ann = app.register("ann").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(awc::http::Method::OPTIONS, app.url("/api/chat/rooms"))
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "GET"))
            .insert_header(("Access-Control-Request-Headers", "authorization"))
            .send()
    };
    let ok = preflight("https://academy.example").await.expect("sent");
    // actix-cors answers an accepted preflight 200 with no body.
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        header(ok.headers(), "access-control-allow-origin"),
        "https://academy.example"
    );
    assert!(header(ok.headers(), "access-control-allow-headers").contains("authorization"));
    let no = preflight("https://evil.example").await.expect("sent");
    assert_eq!(no.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(no.headers(), "access-control-allow-origin"), "");
    let mut call = app
        .client
        .get(app.url("/api/chat/users/me"))
        .bearer_auth(&ann.token)
        .insert_header(("Origin", "https://academy.example"))
        .send()
        .await
        .expect("sent");
    assert_eq!(call.status(), StatusCode::OK);
    assert_eq!(
        header(call.headers(), "access-control-allow-origin"),
        "https://academy.example"
    );
    assert!(call.body().await.is_ok());
    let (_, h, _) = get_with(&app, "/sdk/confab.js", Some("https://evil.example")).await;
    assert_eq!(header(&h, "access-control-allow-origin"), "");
    let (_, h, _) = get_with(&app, "/sdk/confab.js", Some("https://academy.example")).await;
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        "https://academy.example"
    );
}
