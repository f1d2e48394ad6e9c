//! The adapters: how each server under test is spoken to (paths, auth, frames, room setup), and
//! the one parser for the frames they answer with.

use crate::Error;
use futures_util::{stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Tenant of the single-tenant install (`default`, created by Confab's first migration).
const DEFAULT_TENANT: &str = "00000000-0000-0000-0000-000000000001";
/// REST calls in flight at once while setting up users and rooms.
const SETUP_CONCURRENCY: usize = 32;

/// What a server frame means to the load generator; everything else is `Other`.
#[derive(Debug)]
pub enum Event<'a> {
    Established,
    Ack {
        reference: Option<String>,
    },
    Delivery {
        seq: Option<u64>,
        content: Cow<'a, str>,
    },
    Resumed,
    ResyncRequired,
    /// An `error` frame (with the `ref` of the frame it answers) or a `closing`.
    Error {
        reference: Option<String>,
        text: String,
    },
    Other,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    message: Option<FrameMessage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct FrameMessage {
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    content: Option<String>,
}

/// Parses a server frame. All three servers use Confab's frame names; the peers omit `seq`.
pub fn parse_frame(text: &str) -> Event<'_> {
    if let Some(ev) = fast_delivery(text) {
        return ev;
    }
    let Ok(frame) = serde_json::from_str::<Frame>(text) else {
        return Event::Error {
            reference: None,
            text: format!("unparsable frame: {}", truncate(text)),
        };
    };
    match frame.kind.as_str() {
        "connection_established" => Event::Established,
        "ack" => Event::Ack {
            reference: frame.reference,
        },
        // Seed 004's socket calls it `message`, with the same `message` object inside.
        "new_message" | "message" => {
            let (seq, content) = match frame.message {
                Some(m) => (m.seq.or(frame.seq), m.content.unwrap_or_default()),
                None => (frame.seq, String::new()),
            };
            Event::Delivery {
                seq,
                content: Cow::Owned(content),
            }
        }
        "resumed" => Event::Resumed,
        "resync_required" => Event::ResyncRequired,
        "error" | "closing" => Event::Error {
            reference: frame.reference,
            text: truncate(text),
        },
        _ if frame.error.is_some() => Event::Error {
            reference: frame.reference,
            text: truncate(text),
        },
        _ => Event::Other,
    }
}

/// The hot path: a `new_message` whose type comes first (as all three servers write it) and
/// whose content is the bench payload, read without building the whole JSON value. Anything
/// else falls through to the full parser.
fn fast_delivery(text: &str) -> Option<Event<'_>> {
    let rest = text.strip_prefix(r#"{"type":"new_message""#)?;
    let start = rest.find(r#""content":""#)? + r#""content":""#.len();
    let len = rest[start..].find(['"', '\\'])?;
    if rest.as_bytes().get(start + len) != Some(&b'"') {
        return None;
    }
    let seq = match rest.find(r#""seq":"#) {
        Some(i) => {
            let digits = &rest[i + r#""seq":"#.len()..];
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            Some(digits[..end].parse().ok()?)
        }
        None => None,
    };
    Some(Event::Delivery {
        seq,
        content: Cow::Borrowed(&rest[start..start + len]),
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

/// One server protocol. Rooms are named by the adapter's `setup`; connections are one per room.
pub trait Adapter: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// True when the server acks sends itself; otherwise the sender's own copy is its ack.
    fn explicit_acks(&self) -> bool;
    /// True when the server replays missed events on `resume`.
    fn supports_resume(&self) -> bool;
    /// The WebSocket path a connection for `room` opens (peers carry the room in the path).
    fn ws_path(&self, room: Option<&str>) -> String;
    /// The path of a seed dialect's room socket (subscribed on connect, no acks), if any.
    fn dialect_path(&self, _room: &str) -> Option<String> {
        None
    }
    /// The bearer token a user connects and calls REST with, if the server authenticates.
    fn token(&self, user: Uuid) -> Result<Option<String>, Error>;
    /// The frame that subscribes a connection to `room`, answered by an ack with `reference`.
    fn join_frame(&self, room: &str, reference: &str) -> Option<String>;
    /// `send_message` as all three servers read it.
    fn send_frame(&self, room: &str, content: &str, client_id: &str, reference: &str) -> String {
        serde_json::json!({
            "type": "send_message",
            "room_id": room,
            "content": content,
            "client_id": client_id,
            "ref": reference,
        })
        .to_string()
    }
    /// The frame a reconnected client sends to get what it missed after `after_seq`.
    fn resume_frame(&self, room: &str, after_seq: u64) -> Option<String>;
    /// Creates users and rooms (`rooms[i]` lists member indexes into `users`, creator first) and
    /// returns each room's id.
    fn setup(
        &self,
        users: &[Uuid],
        tokens: &[Option<String>],
        rooms: &[Vec<usize>],
    ) -> impl std::future::Future<Output = Result<Vec<String>, Error>> + Send;
}

/// The peers (Django Channels, Node `ws`): the room is in the path, no auth, no acks, no resume.
pub struct Peer {
    pub name: &'static str,
}

impl Adapter for Peer {
    fn name(&self) -> &'static str {
        self.name
    }
    fn explicit_acks(&self) -> bool {
        false
    }
    fn supports_resume(&self) -> bool {
        false
    }
    fn ws_path(&self, room: Option<&str>) -> String {
        format!("/ws/chat/{}/", room.unwrap_or("lobby"))
    }
    fn token(&self, _user: Uuid) -> Result<Option<String>, Error> {
        Ok(None)
    }
    fn join_frame(&self, _room: &str, _reference: &str) -> Option<String> {
        None
    }
    fn resume_frame(&self, _room: &str, _after_seq: u64) -> Option<String> {
        None
    }
    async fn setup(
        &self,
        _users: &[Uuid],
        _tokens: &[Option<String>],
        rooms: &[Vec<usize>],
    ) -> Result<Vec<String>, Error> {
        Ok((0..rooms.len()).map(|i| format!("r{i}")).collect())
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: Uuid,
    tenant: &'a str,
    name: String,
    role: &'a str,
    iat: u64,
    exp: u64,
}

/// A Confab platform token (HS256) of `user` in the default tenant with `role` (`user`, `admin`).
pub fn mint_token(secret: &str, user: Uuid, role: &str) -> Result<String, Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = Claims {
        sub: user,
        tenant: DEFAULT_TENANT,
        name: format!("bench-{}", &user.simple().to_string()[..8]),
        role,
        iat: now,
        exp: now + 6 * 3600,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &key,
    )?)
}

/// Confab, per PROTOCOL.md: HS256 platform tokens, REST room setup, `join_room`, acks with
/// `seq`, and `resume`.
pub struct Confab {
    pub http_base: String,
    pub jwt_secret: String,
    pub client: reqwest::Client,
    /// Subscribed to `message.created` during setup (the ingest guard of issue 14).
    pub webhook_url: Option<String>,
}

#[derive(Deserialize)]
struct CreatedRoom {
    id: String,
}

impl Confab {
    /// Subscribes `url` to `message.created` as an admin of the bench's tenant.
    async fn subscribe_webhook(&self, url: &str) -> Result<(), Error> {
        let token = mint_token(&self.jwt_secret, Uuid::new_v4(), "admin")?;
        self.provision(&token).await?;
        let body = serde_json::json!({"url": url, "events": ["message.created"]});
        self.create("/api/admin/webhooks", &token, &body).await?;
        Ok(())
    }

    /// Calls `path` with `token` (and a JSON `body`); any answer but a success is an error.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, Error> {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.http_base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("{method} {path} answered {status}: {}", truncate(&text)).into());
        }
        Ok(resp)
    }

    /// POSTs `body` to `path` and expects 201.
    async fn create(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, Error> {
        let resp = self
            .call(reqwest::Method::POST, path, token, Some(body))
            .await?;
        if resp.status().as_u16() != 201 {
            return Err(format!("POST {path} answered {}", resp.status()).into());
        }
        Ok(resp)
    }

    /// Makes the token's user known to the server (its first authenticated call).
    pub async fn provision(&self, token: &str) -> Result<(), Error> {
        self.call(reqwest::Method::GET, "/api/chat/users/me", token, None)
            .await?;
        Ok(())
    }

    /// Creates a group room as `token`'s user with `participants`; answers its id.
    pub async fn create_room(
        &self,
        token: &str,
        name: String,
        participants: Vec<Uuid>,
    ) -> Result<String, Error> {
        let body = serde_json::json!({
            "name": name,
            "room_type": "group",
            "participant_ids": participants,
        });
        let resp = self.create("/api/chat/rooms", token, &body).await?;
        Ok(resp.json::<CreatedRoom>().await?.id)
    }
}

/// The webhook deliveries a Confab node has made, from its `/metrics`.
pub async fn webhooks_delivered(client: &reqwest::Client, http_base: &str) -> Result<u64, Error> {
    let text = client
        .get(format!("{http_base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("confab_webhook_delivered_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64))
}

fn token_of(tokens: &[Option<String>], user: usize) -> Result<&str, Error> {
    tokens
        .get(user)
        .and_then(|t| t.as_deref())
        .ok_or_else(|| format!("user {user} has no token").into())
}

impl Adapter for Confab {
    fn name(&self) -> &'static str {
        "confab"
    }
    fn explicit_acks(&self) -> bool {
        true
    }
    fn supports_resume(&self) -> bool {
        true
    }
    fn ws_path(&self, _room: Option<&str>) -> String {
        "/ws/chat/".to_string()
    }
    fn dialect_path(&self, room: &str) -> Option<String> {
        Some(format!("/ws/chat/{room}/?dialect=drf"))
    }
    fn token(&self, user: Uuid) -> Result<Option<String>, Error> {
        mint_token(&self.jwt_secret, user, "user").map(Some)
    }
    fn join_frame(&self, room: &str, reference: &str) -> Option<String> {
        Some(
            serde_json::json!({"type": "join_room", "room_id": room, "ref": reference}).to_string(),
        )
    }
    fn resume_frame(&self, room: &str, after_seq: u64) -> Option<String> {
        Some(
            serde_json::json!({"type": "resume", "rooms": [{"room_id": room, "after_seq": after_seq}]})
                .to_string(),
        )
    }
    async fn setup(
        &self,
        users: &[Uuid],
        tokens: &[Option<String>],
        rooms: &[Vec<usize>],
    ) -> Result<Vec<String>, Error> {
        // Users must exist before they can be added to a room: one authenticated call each.
        stream::iter(0..users.len())
            .map(|u| async move { self.provision(token_of(tokens, u)?).await })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        let ids = stream::iter(0..rooms.len())
            .map(|i| async move {
                let members = &rooms[i];
                let creator = *members.first().ok_or("a room without members")?;
                let others = members[1..].iter().map(|&m| users[m]).collect();
                self.create_room(token_of(tokens, creator)?, format!("bench {i}"), others)
                    .await
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect::<Vec<String>>()
            .await?;
        if let Some(url) = &self.webhook_url {
            self.subscribe_webhook(url).await?;
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confab_new_message_yields_seq_and_content() {
        let ev = parse_frame(
            r#"{"type":"new_message","room_id":"r","seq":7,"message":{"id":"x","seq":7,"content":"t=1;s=2;c=3","sender":{"id":"u"}}}"#,
        );
        match ev {
            Event::Delivery { seq, content } => {
                assert_eq!(seq, Some(7));
                assert_eq!(content, "t=1;s=2;c=3");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn fast_and_full_parsers_agree() {
        for text in [
            r#"{"type":"new_message","room_id":"r","seq":7,"message":{"seq":7,"content":"t=1;s=2;c=3"}}"#,
            r#"{"type":"new_message","room_id":"r5","message":{"id":1,"content":"t=1;s=2;c=3","client_id":"2-3"}}"#,
        ] {
            let Some(Event::Delivery { seq, content }) = fast_delivery(text) else {
                panic!("no fast path for {text}");
            };
            let frame: Frame = serde_json::from_str(text).unwrap();
            let m = frame.message.unwrap();
            assert_eq!(seq, m.seq.or(frame.seq));
            assert_eq!(content, m.content.unwrap());
        }
        assert!(fast_delivery(r#"{"type":"new_message","message":{"content":"a\"b"}}"#).is_none());
    }

    #[test]
    fn seed_004_message_is_a_delivery() {
        let ev = parse_frame(
            r#"{"type":"message","message":{"id":"x","room":"r","content":"t=1;s=2;c=3","seq":4}}"#,
        );
        match ev {
            Event::Delivery { seq, content } => {
                assert_eq!(seq, Some(4));
                assert_eq!(content, "t=1;s=2;c=3");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ack_keeps_its_ref() {
        match parse_frame(r#"{"type":"ack","ref":"m12","message":{"seq":3}}"#) {
            Event::Ack { reference } => assert_eq!(reference.as_deref(), Some("m12")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_frames_are_errors() {
        assert!(matches!(
            parse_frame(r#"{"type":"error","error":{"code":"rate_limited"}}"#),
            Event::Error { .. }
        ));
    }
}
