//! The OpenAPI 3 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and served at `GET /api/openapi.json`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use actix_web::web;
use serde_json::{json, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::answers::{
    AdminOnly, BadRequest, Conflict, Forbidden, NotFound, RateLimited, TooLarge, Unauthorized,
};
use super::endpoint::Endpoint;
use super::rooms::{create, list, manage, members, read_state};
use super::schemas;
use super::{
    admin, auth, embed, health, messages, presence, reactions, search, uploads, users, ws,
};
use super::{admin_moderation, moderation};
use crate::config::LimitSettings;
use crate::error::{AppError, AppResult, ErrorBody, ErrorEnvelope};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/openapi.json").get(document).build());
}

/// Adds the `bearer` security scheme (an access token, a JWT) that operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        // A file's signed URL (`?uid=&exp=&sig=`) reads it without a token.
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "signed_url",
                SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("sig"))),
            );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confab",
        description = "Realtime chat server: rooms, messages, presence over REST and WebSocket. \
                       Errors answer `{\"error\": {code, message, field?, retry_after_ms?}}`."
    ),
    paths(
        uploads::upload,
        uploads::download_file,
        uploads::download_thumbnail,
        embed::room_page,
        health::healthz,
        health::readyz,
        health::metrics,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::change_password,
        admin::set_password,
        users::me,
        users::update_me,
        users::search,
        users::get_user,
        list::list,
        create::create,
        create::direct,
        list::unread_counts,
        list::public,
        create::get_by_ref,
        create::put_by_ref,
        manage::get,
        manage::patch,
        manage::put,
        manage::deactivate,
        members::join,
        members::leave,
        read_state::archive,
        read_state::unarchive,
        read_state::mark_read,
        read_state::typing,
        members::members,
        members::add_member,
        members::set_role,
        members::remove_member,
        messages::history,
        messages::post,
        messages::get,
        messages::edit,
        messages::put,
        messages::delete,
        messages::thread,
        messages::edit_history,
        messages::read_by,
        reactions::reactions,
        reactions::react,
        reactions::unreact,
        presence::query,
        presence::me,
        presence::set_me,
        presence::online,
        search::messages,
        search::rooms,
        admin::stats,
        admin::rooms,
        admin::system_message,
        admin::delete_message,
        admin::ban,
        admin::unban,
        admin::mint_token,
        admin::sessions,
        ws::ticket,
        ws::connect,
        ws::connect_tenant,
        // Issue 14: notification settings and webhook endpoints.
        super::notify::get_me,
        super::notify::patch_me,
        super::webhooks::create,
        super::webhooks::list,
        super::webhooks::get,
        super::webhooks::patch,
        super::webhooks::delete,
        super::webhooks::rotate,
        super::webhooks::deliveries,
        super::webhooks::retry,
        super::admin_notify::get_defaults,
        super::admin_notify::set_defaults,
        super::admin_notify::clear_defaults,
        document,
        // moderation (issue 17)
        moderation::pin,
        moderation::unpin,
        moderation::pins,
        moderation::report,
        moderation::blocked,
        moderation::block,
        moderation::unblock,
        moderation::room_reports,
        admin_moderation::audit,
        admin_moderation::list_reports,
        admin_moderation::resolve,
        admin_moderation::tenant_retention,
        admin_moderation::set_tenant_retention,
        admin_moderation::room_retention,
        admin_moderation::set_room_retention,
    ),
    components(
        schemas(ErrorEnvelope, ErrorBody),
        responses(BadRequest, Unauthorized, Forbidden, AdminOnly, NotFound, Conflict, TooLarge, RateLimited)
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness, readiness, metrics"),
        (name = "auth", description = "Own accounts: register, login, token refresh, logout"),
        (name = "users", description = "Users of the caller's tenant"),
        (name = "rooms", description = "Rooms, membership and read state"),
        (name = "messages", description = "Messages, threads, reactions"),
        (name = "presence", description = "Who is online"),
        (name = "search", description = "Full-text search of messages and rooms"),
        (name = "admin", description = "Admin and service tokens, within their tenant"),
        (name = "realtime", description = "The WebSocket endpoint and its tickets"),
        (name = "embed", description = "Pages a host platform frames"),
        (name = "meta", description = "This document"),
        (name = "moderation", description = "Pins, blocks and reports"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
async fn document(state: web::Data<AppState>) -> AppResult<web::Json<Value>> {
    let mut doc = serde_json::to_value(&*DOCUMENT).map_err(AppError::internal)?;
    fit(&mut doc, &state.settings.limits);
    Ok(web::Json(doc))
}

/// The generated document made exact: a pattern on every UUID (`format` alone is an annotation
/// in JSON Schema 2020-12, the server's parser is not) and on every other string (no NUL, which
/// PostgreSQL stores nowhere), metadata as JSON without NUL, the configured limits in place of
/// their defaults, and the rules a message's type adds.
fn fit(doc: &mut Value, limits: &LimitSettings) {
    exact_strings(doc);
    json_without_nul(doc);
    configured(doc, limits);
    lenient_fields_required(doc);
    message_type_rules(doc);
}

/// The limits as configured, in place of the defaults the schemas are written with.
fn configured(doc: &mut Value, limits: &LimitSettings) {
    for body in ["PostBody", "EditBody", "SystemBody"] {
        set(
            doc,
            &format!("/components/schemas/{body}/properties/content/maxLength"),
            limits.max_message_chars,
        );
    }
    for body in ["CreateBody", "PatchBody"] {
        set(
            doc,
            &format!("/components/schemas/{body}/properties/max_participants/maximum"),
            limits.max_room_members,
        );
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        let queries = paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
            .flatten()
            .filter(|p| p["name"] == "q" && p["in"] == "query");
        for q in queries {
            q["schema"]["maxLength"] = json!(limits.max_search_query_chars);
        }
    }
}

/// What serde's defaults hide: fields the server needs although it reads them leniently; and the
/// names of an upload's extra parts (read and dropped), which are a header's quoted text.
fn lenient_fields_required(doc: &mut Value) {
    for (schema, field) in [("PostBody", "content"), ("CreateBody", "name")] {
        if let Some(Value::Object(s)) = doc.pointer_mut(&format!("/components/schemas/{schema}")) {
            let required = s.entry("required").or_insert_with(|| json!([]));
            if let Some(list) = required
                .as_array_mut()
                .filter(|l| !l.contains(&json!(field)))
            {
                list.push(json!(field));
            }
        }
    }
    // Extra parts of an upload are read and dropped; their names are header text.
    if let Some(form) = doc.pointer_mut("/components/schemas/UploadForm") {
        // Header text: no control character but tab and line breaks, and a backslash escapes
        // the character after it (so none ends the name alone).
        let char = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F\\]";
        let escaped = r"\\[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]";
        form["propertyNames"] = json!({"pattern": format!("^({char}|{escaped})*$")});
    }
}

/// What a message's type requires: a `location` its coordinates, a file type its file.
fn message_type_rules(doc: &mut Value) {
    if let Some(post) = doc.pointer_mut("/components/schemas/PostBody") {
        post["allOf"] = json!([
            {
                "if": {"properties": {"message_type": {"const": "location"}}, "required": ["message_type"]},
                "then": {"required": ["metadata"], "properties": {"metadata": {
                    "type": "object",
                    "required": ["lat", "lon"],
                    "properties": {
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "label": {"type": "string", "maxLength": 200}
                    }
                }}}
            },
            {
                "if": {
                    "properties": {"message_type": {"enum": ["image", "file", "audio", "video"]}},
                    "required": ["message_type"]
                },
                "then": {
                    "required": ["attachment_id"],
                    "properties": {"attachment_id": {"type": "string"}}
                }
            }
        ]);
    }
}

fn set(doc: &mut Value, pointer: &str, value: impl Into<Value>) {
    if let Some(slot) = doc.pointer_mut(pointer) {
        *slot = value.into();
    }
}

/// Every string schema with a pattern: a UUID's, or "no NUL" where the schema has none.
fn exact_strings(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.contains(&json!("string")),
                _ => false,
            };
            let pattern = match map.get("format").and_then(Value::as_str) {
                Some("uuid") => Some(format!("^{}$", schemas::UUID)),
                Some(_) => None,
                None => is_string.then(|| r"^[^\x00]*$".to_owned()),
            };
            if let Some(p) = pattern.filter(|_| !map.contains_key("pattern")) {
                map.insert("pattern".into(), json!(p));
            }
            map.values_mut().for_each(exact_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(exact_strings),
        _ => {}
    }
}

/// `metadata`: a JSON object (or null) whose keys and strings hold no NUL and whose numbers
/// lie within ±1e300 (what jsonb gives back as JSON); and the properties a JSON body may carry
/// beside its own, which the server ignores once it has checked that they hold no NUL.
fn json_without_nul(doc: &mut Value) {
    let no_nul = json!({"pattern": r"^[^\x00]*$"});
    let value = |name: &str, number: Value| {
        let this = json!({"$ref": format!("#/components/schemas/{name}")});
        json!({"anyOf": [
            {"type": ["null", "boolean"]},
            number,
            {"type": "string", "pattern": r"^[^\x00]*$"},
            {"type": "array", "items": this},
            {"type": "object", "propertyNames": no_nul, "additionalProperties": this}
        ]})
    };
    let any = value("JsonValue", json!({"type": "number"}));
    let metadata = value(
        "MetadataValue",
        json!({"type": "number", "minimum": -1e300, "maximum": 1e300}),
    );
    let bodies = json_bodies(doc);
    if let Some(Value::Object(components)) = doc.pointer_mut("/components/schemas") {
        components.insert("JsonValue".into(), any);
        components.insert("MetadataValue".into(), metadata);
        for name in bodies {
            let Some(Value::Object(body)) = components.get_mut(&name) else {
                continue;
            };
            if body.get("additionalProperties") != Some(&json!(false)) {
                body.insert("propertyNames".into(), no_nul.clone());
                body.insert(
                    "additionalProperties".into(),
                    json!({"$ref": "#/components/schemas/JsonValue"}),
                );
            }
        }
    }
    for body in ["PostBody", "SystemBody"] {
        let pointer = format!("/components/schemas/{body}/properties/metadata");
        if let Some(metadata) = doc.pointer_mut(&pointer) {
            let description = metadata["description"].clone();
            *metadata = json!({
                "description": description,
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "propertyNames": no_nul,
                        "additionalProperties": {"$ref": "#/components/schemas/MetadataValue"}
                    }
                ]
            });
        }
    }
}

/// The component schemas JSON request bodies use, and those they refer to.
fn json_bodies(doc: &Value) -> BTreeSet<String> {
    let mut todo: Vec<&Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .map(|op| &op["requestBody"]["content"]["application/json"]["schema"])
        .collect();
    let mut found = BTreeSet::new();
    while let Some(v) = todo.pop() {
        match v {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    if found.insert(name.to_owned()) {
                        todo.push(&doc["components"]["schemas"][name]);
                    }
                }
                todo.extend(map.values());
            }
            Value::Array(items) => todo.extend(items),
            _ => {}
        }
    }
    found
}
