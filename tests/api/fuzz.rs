//! Fuzzing with proptest: the WebSocket frame decoder (directly, and over a real socket) and every
//! JSON request body of the REST API (against the real server) get generated JSON of every shape,
//! with the field names and values the API knows mixed in. Nothing may panic, answer 5xx, or
//! leave a frame unanswered. `FUZZ_CASES` sets the run's size (64 by default, as `make test`
//! runs it); a longer run: `FUZZ_CASES=20000 cargo test --test api fuzz`.

use std::time::Duration;

use confab::auth::Role;
use confab::protocol::frames::{parse_client_frame, ClientFrame};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::helpers::*;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

const FRAME_TYPES: &[&str] = &[
    "join_room",
    "leave_room",
    "join_conversation",
    "send_message",
    "edit_message",
    "delete_message",
    "start_typing",
    "stop_typing",
    "add_reaction",
    "remove_reaction",
    "mark_read",
    "update_presence",
    "resume",
    "ping",
    "nonsense",
];

const FIELDS: &[&str] = &[
    "type",
    "ref",
    "room_id",
    "conversation_id",
    "message_id",
    "content",
    "message_type",
    "reply_to",
    "attachment_id",
    "metadata",
    "client_id",
    "emoji",
    "seq",
    "status",
    "current_room",
    "rooms",
    "after_seq",
    "username",
    "password",
    "display_name",
    "email",
    "tenant",
    "refresh_token",
    "current_password",
    "new_password",
    "name",
    "room_type",
    "member_ids",
    "role",
    "user_id",
    "description",
    "is_public",
    "avatar_url",
    "lat",
    "lon",
    "ttl_secs",
    "kind",
    "external_ref",
    "ids",
];

/// JSON of any shape, leaning on the names and values the API knows (`ids` are real ids the
/// test made, so the decoder and handlers get past their first checks).
fn json_value(ids: Vec<String>) -> impl Strategy<Value = Value> + Clone {
    let words = prop_oneof![
        proptest::sample::select(FRAME_TYPES.to_vec()).prop_map(str::to_owned),
        proptest::sample::select(vec![
            "text", "image", "location", "owner", "member", "online", "away", "group", "channel",
            "👍", "", " "
        ])
        .prop_map(str::to_owned),
        ".{0,24}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-3i64..300).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        words.prop_map(Value::from),
        proptest::sample::select(ids).prop_map(Value::from),
        Just(Value::from(Uuid::new_v4().to_string())),
        (0usize..70_000).prop_map(|n| Value::from("x".repeat(n))),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            object(inner),
        ]
    })
}

fn object(inner: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> + Clone {
    let name = prop_oneof![
        4 => proptest::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
    ];
    prop::collection::vec((name, inner), 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>()))
}

/// A frame-shaped object: a known (or unknown) `type` and fields of any shape.
fn frame(ids: Vec<String>) -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(FRAME_TYPES.to_vec()),
        object(json_value(ids)),
    )
        .prop_map(|(ty, mut v)| {
            if let Value::Object(m) = &mut v {
                m.insert("type".into(), Value::from(ty));
            }
            v
        })
}

/// `n` values drawn from `strategy` (no shrinking: a bounded run that reports what failed).
fn draw<S: Strategy>(strategy: S, n: u32) -> Vec<S::Value> {
    let mut runner = TestRunner::new(Config::default());
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .collect()
}

#[test]
fn the_frame_decoder_takes_any_text_without_panicking_and_what_it_accepts_round_trips() {
    let ids = vec![Uuid::new_v4().to_string()];
    let config = Config {
        cases: cases() * 16,
        ..Config::default()
    };
    proptest!(config, |(v in frame(ids.clone()), junk in ".{0,64}")| {
        for text in [v.to_string(), junk.clone(), format!("{v}{junk}")] {
            let (_, parsed) = parse_client_frame(&text);
            if let Ok(f) = parsed {
                let again = serde_json::to_string(&f).unwrap();
                let back: ClientFrame = serde_json::from_str(&again).unwrap();
                prop_assert_eq!(back, f);
            }
        }
    });
}

#[actix_rt::test]
async fn any_frame_over_a_real_socket_is_answered_and_the_socket_stays_open() {
    let app = spawn_app_with(|s| {
        s.rate_limits.ws_frames_per_sec = 100_000;
        s.rate_limits.ws_burst = 100_000;
        s.rate_limits.messages_per_minute = 1_000_000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut ws = app.ws(&ann.token).await;
    let first = ws.request(send_frame(room, "hello")).await;
    let ids = vec![
        room.to_string(),
        bob.id.to_string(),
        first["message"]["id"].as_str().unwrap().to_owned(),
    ];
    for (i, mut f) in draw(frame(ids), cases() * 4).into_iter().enumerate() {
        let r = format!("f{i}");
        f["ref"] = Value::from(r.clone());
        let text = f.to_string();
        if text.len() > app.settings.limits.max_frame_bytes {
            continue; // closes with 1009 by design (tested in realtime.rs)
        }
        ws.send_raw(text.clone()).await;
        if f["type"] == "start_typing" || f["type"] == "stop_typing" || f["type"] == "ping" {
            ws.drain(20).await; // answered only when asked / with pong
            continue;
        }
        let answer = loop {
            match ws.next_frame(10_000).await {
                Ok(Some(v)) if v["ref"] == r.as_str() => break v,
                Ok(Some(_)) => {}
                Ok(None) => panic!("no answer to {text}"),
                Err(c) => panic!("closed by {text}: {c:?}"),
            }
        };
        assert!(
            answer["type"] == "ack" || answer["type"] == "error",
            "{answer}"
        );
        assert_ne!(answer["error"]["code"], "internal", "{text} -> {answer}");
    }
}

#[actix_rt::test]
async fn any_json_body_to_any_endpoint_gets_a_client_error_or_success_never_a_server_error() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let admin = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Admin", Role::Admin);
    let m = app
        .post(
            &format!("/api/chat/rooms/{room}/messages"),
            &ann.token,
            json!({"content": "hi"}),
        )
        .await;
    let message = m.body["id"].as_str().unwrap().to_owned();
    let ids = vec![room.to_string(), bob.id.to_string(), message.clone()];
    let endpoints: Vec<(&str, String, &str)> = vec![
        ("POST", "/api/auth/register".into(), ""),
        ("POST", "/api/auth/login".into(), ""),
        ("POST", "/api/auth/refresh".into(), ""),
        ("POST", "/api/auth/logout".into(), ""),
        ("POST", "/api/auth/password".into(), &ann.token),
        ("PATCH", "/api/chat/users/me".into(), &ann.token),
        ("POST", "/api/chat/rooms".into(), &ann.token),
        ("POST", "/api/chat/rooms/direct".into(), &ann.token),
        ("PUT", "/api/chat/rooms/by-ref/course/c1".into(), &admin),
        ("PATCH", format!("/api/chat/rooms/{room}"), &ann.token),
        (
            "POST",
            format!("/api/chat/rooms/{room}/mark_read"),
            &ann.token,
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/members"),
            &ann.token,
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/members/{}", bob.id),
            &ann.token,
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/messages"),
            &ann.token,
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/messages/{message}"),
            &ann.token,
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/messages/{message}/reactions"),
            &ann.token,
        ),
        ("PUT", "/api/chat/presence/me".into(), &ann.token),
        (
            "POST",
            format!("/api/admin/rooms/{room}/system_message"),
            &admin,
        ),
        ("POST", "/api/admin/tokens".into(), &admin),
        (
            "POST",
            format!("/api/admin/users/{}/password", Uuid::new_v4()),
            &admin,
        ),
    ];
    let bodies = draw(
        prop_oneof![object(json_value(ids.clone())), json_value(ids)],
        cases(),
    );
    for (method, path, token) in &endpoints {
        for body in &bodies {
            let token = (!token.is_empty()).then_some(*token);
            let a = app.send(method, path, token, Some(body.clone())).await;
            assert!(
                a.status.as_u16() < 500,
                "{method} {path} {body} -> {} {}",
                a.status,
                a.raw
            );
        }
    }
    // Still serving, and Ann's token still works (nothing above could take it away).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.get("/api/chat/users/me", &ann.token).await.status, 200);
}
