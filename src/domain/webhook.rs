//! Webhooks' ground rules: the event types, which endpoint URLs may be called (https, no private
//! or link-local address unless allowed), secrets (`whsec_<base64>`) and Standard Webhooks
//! signatures (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`).

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    "notification",
    "message.created",
    "message.updated",
    "message.deleted",
    "member.added",
    "member.removed",
    "room.created",
    "room.updated",
];

/// Each committed room event's wire name that is sent out, and its webhook event type.
const ROOM_EVENTS: [(&str, &str); 6] = [
    ("new_message", "message.created"),
    ("message_updated", "message.updated"),
    ("message_deleted", "message.deleted"),
    ("member_joined", "member.added"),
    ("member_left", "member.removed"),
    ("room_updated", "room.updated"),
];

/// The webhook event type of a committed room event's wire name (None: not sent out).
pub fn event_for_kind(kind: &str) -> Option<&'static str> {
    ROOM_EVENTS
        .iter()
        .find(|(wire, _)| *wire == kind)
        .map(|(_, t)| *t)
}

/// The committed room events' wire names an endpoint subscribed to `events` is sent.
pub fn room_kinds(events: &[String]) -> Vec<&'static str> {
    ROOM_EVENTS
        .iter()
        .filter(|(_, t)| events.iter().any(|e| e == t))
        .map(|(wire, _)| *wire)
        .collect()
}

/// A subscription list: at least one known type, each once, in the order given.
pub fn parse_events(events: &[String]) -> AppResult<Vec<String>> {
    if events.is_empty() || events.len() > EVENT_TYPES.len() {
        return Err(AppError::bad_request(
            "events",
            format!("events must name 1 to 8 of: {}", EVENT_TYPES.join(", ")),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(AppError::bad_request(
                "events",
                format!("unknown event type (known: {})", EVENT_TYPES.join(", ")),
            ));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// The hosts that may be called over plain http and may be private (tests: loopback).
pub struct UrlRules<'a> {
    pub allow_insecure_hosts: &'a [String],
}

impl UrlRules<'_> {
    pub fn allows(&self, host: &str) -> bool {
        self.allow_insecure_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// An endpoint URL as it may be stored: absolute, with a host, https (or http to an allowed
/// host), no credentials, and no private, loopback or link-local address unless allowed. Names
/// are checked again when they are resolved, before each delivery.
pub fn check_url(raw: &str, rules: &UrlRules<'_>) -> AppResult<reqwest::Url> {
    let bad = |why: &str| AppError::bad_request("url", why.to_owned());
    if raw.len() > 2048 || raw.chars().any(char::is_control) {
        return Err(bad(
            "url must be at most 2048 characters, without control characters",
        ));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| bad("url must be an absolute URL"))?;
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
        _ => return Err(bad("url must name a host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("url must not carry credentials"));
    }
    let allowed = rules.allows(&host);
    match url.scheme() {
        "https" => {}
        "http" if allowed => {}
        "http" => {
            return Err(bad(
                "url must use https (this host is not allowed plain http)",
            ))
        }
        _ => return Err(bad("url must be an https URL")),
    }
    if !allowed && private_host(&host) {
        return Err(bad(
            "url must not point at a private, loopback or link-local address",
        ));
    }
    Ok(url)
}

/// A host that names this machine or a private network (literal addresses and local names).
pub fn private_host(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return private_ip(ip);
    }
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h.ends_with(".local")
        || h.ends_with(".internal")
        || !h.contains('.')
}

/// Loopback, private (RFC 1918, unique local), link-local, shared (CGNAT), unspecified,
/// multicast and broadcast addresses.
pub fn private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The body of a room event: `{type, timestamp, data: {tenant_id, room_id, seq, event}}`, where
/// `event` is the committed frame's JSON text as the WebSocket carried it and `timestamp` when
/// it was committed (the same on every attempt).
pub struct RoomEventBody<'a> {
    pub kind: &'a str,
    pub tenant: uuid::Uuid,
    pub room: uuid::Uuid,
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub event_json: &'a str,
}

impl RoomEventBody<'_> {
    pub fn render(&self) -> String {
        let RoomEventBody {
            kind,
            tenant,
            room,
            seq,
            at,
            event_json,
        } = self;
        format!(
            r#"{{"type":"{kind}","timestamp":"{}","data":{{"tenant_id":"{tenant}","room_id":"{room}","seq":{seq},"event":{event_json}}}}}"#,
            time_text(*at)
        )
    }
}

/// Now, as event bodies carry it (RFC 3339, milliseconds, UTC).
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// A time as event bodies carry it.
fn time_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The `webhook-id` of a room's event: one per (room, seq), so it never changes on a retry.
pub fn room_event_id(room: uuid::Uuid, seq: i64) -> String {
    format!("msg_{}_{seq}", room.simple())
}

/// A new signing key (32 random bytes).
pub fn new_secret() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

/// A key as receivers are given it: `whsec_<base64>`.
pub fn secret_text(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` header: one `v1,<base64>` per key, separated by spaces.
pub fn signature_header(keys: &[&[u8]], msg_id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|key| format!("v1,{}", sign(key, msg_id, timestamp, body)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The base64 HMAC-SHA256 of `id.timestamp.body`.
fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(hosts: &[String]) -> UrlRules<'_> {
        UrlRules {
            allow_insecure_hosts: hosts,
        }
    }

    #[test]
    fn urls_must_be_https_to_a_public_host_unless_the_host_is_allowed() {
        let none: Vec<String> = Vec::new();
        assert!(check_url("https://hooks.example.com/x", &rules(&none)).is_ok());
        for bad in [
            "http://hooks.example.com/x",
            "https://10.0.0.5/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://localhost/x",
            "ftp://example.com/",
            "https:///nohost",
            "not a url",
            "https://user:pw@example.com/",
        ] {
            let e = check_url(bad, &rules(&none)).expect_err(bad);
            assert!(matches!(e, AppError::BadRequest { field: Some(ref f), .. } if f == "url"));
        }
        let loopback = vec!["127.0.0.1".to_owned()];
        assert!(check_url("http://127.0.0.1:9/x", &rules(&loopback)).is_ok());
    }

    #[test]
    fn a_signature_is_hmac_sha256_of_id_timestamp_and_body() {
        // The Standard Webhooks specification's example.
        let key = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let header = signature_header(
            &[&key],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn an_endpoint_is_sent_the_room_events_of_its_types_only() {
        let events = [
            "notification".to_owned(),
            "message.created".into(),
            "member.removed".into(),
        ];
        assert_eq!(room_kinds(&events), vec!["new_message", "member_left"]);
        assert!(room_kinds(&["room.created".to_owned()]).is_empty());
    }

    #[test]
    fn events_are_known_types_each_once() {
        let ok = parse_events(&["notification".into(), "notification".into()]).expect("ok");
        assert_eq!(ok, vec!["notification".to_owned()]);
        assert!(parse_events(&[]).is_err());
        assert!(parse_events(&["message.sent".into()]).is_err());
    }
}
