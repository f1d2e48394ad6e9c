//! The OpenAPI document: served, complete against the routes, and true to what they answer.

use std::collections::BTreeSet;

use awc::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

/// Every operation the server routes, as the `configure` functions of src/routes/ register them.
/// (`/ws/chat` and `/ws/chat/{tenant_id}` without the trailing slash are aliases of the
/// documented WebSocket paths and are left out of the document.)
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/chat/users/me"),
    ("patch", "/api/chat/users/me"),
    ("get", "/api/chat/users"),
    ("get", "/api/chat/users/{user_id}"),
    ("get", "/api/chat/rooms"),
    ("post", "/api/chat/rooms"),
    ("post", "/api/chat/rooms/direct"),
    ("get", "/api/chat/rooms/unread_counts"),
    ("get", "/api/chat/rooms/public"),
    ("get", "/api/chat/rooms/by-ref/{kind}/{ref_id}"),
    ("put", "/api/chat/rooms/by-ref/{kind}/{ref_id}"),
    ("get", "/api/chat/rooms/{room_id}"),
    ("patch", "/api/chat/rooms/{room_id}"),
    ("delete", "/api/chat/rooms/{room_id}"),
    ("post", "/api/chat/rooms/{room_id}/join"),
    ("post", "/api/chat/rooms/{room_id}/leave"),
    ("post", "/api/chat/rooms/{room_id}/archive"),
    ("post", "/api/chat/rooms/{room_id}/unarchive"),
    ("post", "/api/chat/rooms/{room_id}/mark_read"),
    ("get", "/api/chat/rooms/{room_id}/typing"),
    ("get", "/api/chat/rooms/{room_id}/members"),
    ("post", "/api/chat/rooms/{room_id}/members"),
    ("patch", "/api/chat/rooms/{room_id}/members/{user_id}"),
    ("delete", "/api/chat/rooms/{room_id}/members/{user_id}"),
    ("get", "/api/chat/rooms/{room_id}/messages"),
    ("post", "/api/chat/rooms/{room_id}/messages"),
    ("get", "/api/chat/rooms/{room_id}/messages/{message_id}"),
    ("patch", "/api/chat/rooms/{room_id}/messages/{message_id}"),
    ("delete", "/api/chat/rooms/{room_id}/messages/{message_id}"),
    (
        "get",
        "/api/chat/rooms/{room_id}/messages/{message_id}/thread",
    ),
    (
        "get",
        "/api/chat/rooms/{room_id}/messages/{message_id}/history",
    ),
    (
        "get",
        "/api/chat/rooms/{room_id}/messages/{message_id}/read_by",
    ),
    (
        "get",
        "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    ),
    (
        "post",
        "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
    ),
    (
        "delete",
        "/api/chat/rooms/{room_id}/messages/{message_id}/reactions/{emoji}",
    ),
    ("get", "/api/chat/presence"),
    ("get", "/api/chat/presence/me"),
    ("put", "/api/chat/presence/me"),
    ("get", "/api/chat/presence/online"),
    ("get", "/api/chat/search/messages"),
    ("get", "/api/chat/search/rooms"),
    ("get", "/api/admin/stats"),
    ("get", "/api/admin/rooms"),
    ("post", "/api/admin/rooms/{room_id}/system_message"),
    ("delete", "/api/admin/messages/{message_id}"),
    ("post", "/api/admin/users/{user_id}/ban"),
    ("post", "/api/admin/users/{user_id}/unban"),
    ("post", "/api/admin/tokens"),
    ("get", "/api/admin/sessions"),
    ("post", "/api/chat/ws-ticket"),
    ("get", "/ws/chat/"),
    ("get", "/ws/chat/{tenant_id}/"),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

async fn document(app: &TestApp) -> Value {
    let a = app.send("GET", "/api/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    let content_type = a.headers.get("content-type").unwrap().to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    a.body
}

/// (method, path) of every operation the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                out.insert((method.to_string(), path.clone()));
            }
        }
    }
    out
}

/// Every `$ref` anywhere under `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[actix_rt::test]
async fn the_openapi_document_is_served_and_describes_exactly_the_routed_operations() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(doc["info"]["title"], "Confab");

    let documented = operations(&doc);
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");

    let mut ids = BTreeSet::new();
    for (method, path) in &documented {
        let id = doc["paths"][path][method]["operationId"]
            .as_str()
            .expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
    }

    // Query parameters come from the handlers' query structs.
    let list = &doc["paths"]["/api/chat/rooms"]["get"]["parameters"];
    let cursor = list
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "cursor")
        .expect("the cursor parameter");
    assert_eq!(cursor["in"], "query");

    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    let me = &doc["paths"]["/api/chat/users/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
    assert_eq!(me["tags"][0], "users");
    assert!(me["summary"].as_str().is_some_and(|s| !s.is_empty()));

    // The shared error shape, and the operations' references to it, resolve.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    for field in ["code", "message", "field", "retry_after_ms"] {
        assert!(
            error["properties"].get(field).is_some(),
            "ErrorBody.{field}"
        );
    }
    let not_found = &doc["paths"]["/api/chat/rooms/{room_id}"]["get"]["responses"]["404"];
    assert_eq!(not_found["$ref"], "#/components/responses/NotFound");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
    }
}

/// `path` with its parameters filled in: ids that exist nowhere (without a token, nothing is
/// looked up anyway).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{tenant_id}" => DEFAULT_TENANT.to_string(),
            "{kind}" => "ticket".to_owned(),
            "{ref_id}" => "x-1".to_owned(),
            "{emoji}" => "%F0%9F%91%8D".to_owned(),
            s if s.starts_with('{') => Uuid::nil().to_string(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_rt::test]
async fn every_documented_operation_is_routed_and_answers_a_status_it_documents() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path) in operations(&doc) {
        let url = concrete(&path);
        let a = app.send(&method.to_uppercase(), &url, None, None).await;
        assert!(
            a.status != StatusCode::NOT_FOUND && a.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {url} is not routed: {} {}",
            a.status,
            a.body
        );
        let responses = &doc["paths"][&path][&method]["responses"];
        assert!(
            responses.get(a.status.as_str()).is_some(),
            "{method} {path} answered {} without a token, which it does not document: {}",
            a.status,
            a.body
        );
    }
}
