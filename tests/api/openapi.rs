//! The OpenAPI document: served, complete against the routes, and true to what they answer.

use std::collections::BTreeSet;

use awc::http::StatusCode;
use confab::auth::Role;
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
    ("post", "/api/auth/password"),
    ("post", "/api/chat/uploads"),
    ("get", "/api/chat/uploads/{id}"),
    ("get", "/api/chat/uploads/{id}/thumbnail"),
    ("get", "/embed/rooms/{room_id}"),
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
    ("put", "/api/chat/rooms/{room_id}"),
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
    ("put", "/api/chat/rooms/{room_id}/messages/{message_id}"),
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
    ("post", "/api/admin/users/{user_id}/password"),
    ("post", "/api/admin/tokens"),
    ("get", "/api/admin/sessions"),
    // Issue 14: notification settings and webhook endpoints.
    ("get", "/api/chat/rooms/{room_id}/members/me"),
    ("patch", "/api/chat/rooms/{room_id}/members/me"),
    ("get", "/api/admin/webhooks"),
    ("post", "/api/admin/webhooks"),
    ("get", "/api/admin/webhooks/{webhook_id}"),
    ("patch", "/api/admin/webhooks/{webhook_id}"),
    ("delete", "/api/admin/webhooks/{webhook_id}"),
    ("post", "/api/admin/webhooks/{webhook_id}/rotate_secret"),
    ("get", "/api/admin/webhooks/{webhook_id}/deliveries"),
    (
        "post",
        "/api/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    ),
    ("get", "/api/admin/notify_defaults"),
    ("put", "/api/admin/notify_defaults"),
    ("delete", "/api/admin/notify_defaults"),
    ("post", "/api/chat/ws-ticket"),
    ("get", "/ws/chat/"),
    ("get", "/ws/chat/{tenant_id}/"),
];

// moderation (issue 17)
const MODERATION_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/chat/rooms/{room_id}/pins"),
    ("post", "/api/chat/rooms/{room_id}/pins/{message_id}"),
    ("delete", "/api/chat/rooms/{room_id}/pins/{message_id}"),
    (
        "post",
        "/api/chat/rooms/{room_id}/messages/{message_id}/report",
    ),
    ("get", "/api/chat/rooms/{room_id}/reports"),
    ("get", "/api/chat/users/me/blocks"),
    ("put", "/api/chat/users/me/blocks/{user_id}"),
    ("delete", "/api/chat/users/me/blocks/{user_id}"),
    ("get", "/api/admin/audit"),
    ("get", "/api/admin/reports"),
    ("post", "/api/admin/reports/{report_id}/resolve"),
    ("get", "/api/admin/retention"),
    ("put", "/api/admin/retention"),
    ("get", "/api/admin/rooms/{room_id}/retention"),
    ("put", "/api/admin/rooms/{room_id}/retention"),
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
        .chain(MODERATION_ROUTES)
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

/// `schema` with a `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(&r[1..]).expect("reference resolves"),
        None => schema,
    }
}

/// Checks `value` against `schema`: types, required properties, no undocumented properties.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(variants) = schema["oneOf"].as_array() {
        let null = variants.iter().any(|v| v["type"] == "null");
        if !(value.is_null() && null) {
            let other = variants
                .iter()
                .find(|v| v["type"] != "null")
                .expect("variant");
            conforms(doc, other, value, at);
        }
        return;
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return, // any value
    };
    let fits = allowed.contains(&kind) || (kind == "integer" && allowed.contains(&"number"));
    assert!(fits, "{at}: {value} is not {allowed:?}");
    match value {
        Value::Object(map) => {
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in map {
                    let p = props
                        .get(k)
                        .unwrap_or_else(|| panic!("{at}.{k} is not documented"));
                    conforms(doc, p, v, &format!("{at}.{k}"));
                }
            }
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().expect("name");
                assert!(map.contains_key(r), "{at}.{r} is required but missing");
            }
            if schema["additionalProperties"].is_object() {
                for (k, v) in map {
                    conforms(
                        doc,
                        &schema["additionalProperties"],
                        v,
                        &format!("{at}.{k}"),
                    );
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                conforms(doc, &schema["items"], v, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[actix_rt::test]
async fn real_answers_match_the_documented_schemas() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let svc = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Platform", Role::Service);
    let (a, b, s) = (ann.token.as_str(), bob.token.as_str(), svc.as_str());
    let posted = app
        .post(
            &messages_path(room),
            a,
            serde_json::json!({"content": "hello budget", "client_id": "c1"}),
        )
        .await;
    let msg = posted.body["id"].as_str().expect("message id").to_owned();
    let r = format!("/api/chat/rooms/{room}");
    let m = format!("{r}/messages/{msg}");
    let body = |v: Value| Some(v);
    use serde_json::json;
    // (method, documented path, concrete path, token, body)
    let calls: Vec<(&str, &str, String, &str, Option<Value>)> = vec![
        ("get", "/healthz", "/healthz".into(), a, None),
        ("get", "/readyz", "/readyz".into(), a, None),
        (
            "get",
            "/api/chat/users/me",
            "/api/chat/users/me".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/users",
            "/api/chat/users?q=bo".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/users/{user_id}",
            format!("/api/chat/users/{}", bob.id),
            a,
            None,
        ),
        (
            "post",
            "/api/chat/rooms/{room_id}/messages",
            format!("{r}/messages"),
            b,
            body(json!({"content": "a reply", "reply_to": msg, "metadata": {"k": 1}})),
        ),
        (
            "post",
            "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
            format!("{m}/reactions"),
            b,
            body(json!({"emoji": "👍"})),
        ),
        (
            "patch",
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            m.clone(),
            a,
            body(json!({"content": "hello budget, edited"})),
        ),
        (
            "put",
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            m.clone(),
            a,
            body(json!({"content": "hello budget, edited again"})),
        ),
        (
            "put",
            "/api/chat/rooms/{room_id}",
            r.clone(),
            a,
            body(json!({"description": "The budget room"})),
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages",
            format!("{r}/messages?after_seq=0&before_seq=9"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms",
            "/api/chat/rooms?limit=1".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/unread_counts",
            "/api/chat/rooms/unread_counts".into(),
            b,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/public",
            "/api/chat/rooms/public".into(),
            a,
            None,
        ),
        ("get", "/api/chat/rooms/{room_id}", r.clone(), a, None),
        (
            "get",
            "/api/chat/rooms/{room_id}/members",
            format!("{r}/members"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/typing",
            format!("{r}/typing"),
            a,
            None,
        ),
        (
            "post",
            "/api/chat/rooms/{room_id}/mark_read",
            format!("{r}/mark_read"),
            b,
            None,
        ),
        (
            "post",
            "/api/chat/rooms/{room_id}/archive",
            format!("{r}/archive"),
            b,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages",
            format!("{r}/messages"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages/{message_id}",
            m.clone(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages/{message_id}/thread",
            format!("{m}/thread"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages/{message_id}/history",
            format!("{m}/history"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages/{message_id}/read_by",
            format!("{m}/read_by"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/rooms/{room_id}/messages/{message_id}/reactions",
            format!("{m}/reactions"),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/presence/me",
            "/api/chat/presence/me".into(),
            a,
            None,
        ),
        (
            "put",
            "/api/chat/presence/me",
            "/api/chat/presence/me".into(),
            a,
            body(json!({"status": "away"})),
        ),
        (
            "get",
            "/api/chat/presence",
            format!("/api/chat/presence?user_ids={},{}", ann.id, bob.id),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/presence/online",
            "/api/chat/presence/online".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/search/messages",
            "/api/chat/search/messages?q=budget".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/chat/search/rooms",
            "/api/chat/search/rooms?q=group".into(),
            a,
            None,
        ),
        (
            "post",
            "/api/chat/ws-ticket",
            "/api/chat/ws-ticket".into(),
            a,
            None,
        ),
        (
            "get",
            "/api/admin/stats",
            "/api/admin/stats".into(),
            s,
            None,
        ),
        (
            "get",
            "/api/admin/rooms",
            "/api/admin/rooms".into(),
            s,
            None,
        ),
        (
            "get",
            "/api/admin/sessions",
            "/api/admin/sessions".into(),
            s,
            None,
        ),
        (
            "post",
            "/api/admin/tokens",
            "/api/admin/tokens".into(),
            s,
            body(json!({"user_id": bob.id})),
        ),
        (
            "post",
            "/api/admin/users/{user_id}/ban",
            format!("/api/admin/users/{}/ban", bob.id),
            s,
            None,
        ),
    ];
    let mut checked = 0;
    for (method, path, url, token, payload) in calls {
        let a = app
            .send(&method.to_uppercase(), &url, Some(token), payload)
            .await;
        assert!(
            a.status.is_success(),
            "{method} {url}: {} {}",
            a.status,
            a.body
        );
        let response = &doc["paths"][path][method]["responses"][a.status.as_str()];
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} {} has no documented JSON body",
            a.status
        );
        conforms(&doc, schema, &a.body, &format!("{method} {path}"));
        checked += 1;
    }
    assert!(checked >= 33);
}
