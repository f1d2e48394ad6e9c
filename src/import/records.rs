//! What each seed's models mean to Confab: a dump record is recognised by its model name and
//! fields (000/002's ChatConversation, 001's and 004's ChatRoom, 003's Conversation, their
//! participants, messages, reactions and reads, `auth.user` or a custom user model) and turned
//! into one staged row with Confab's ids and values.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dump::Record;
use crate::auth::claims::platform_user_id;

/// A user of the platform (no password: they sign in with the platform's tokens).
pub struct UserRow {
    pub id: Uuid,
    pub username: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
}

pub struct RoomRow {
    pub id: Uuid,
    /// The tenant the record names (000's `tenant_id`), if any.
    pub tenant: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub room_type: &'static str,
    pub reference: Reference,
    pub created_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub max_participants: Option<i32>,
    /// 004's `participants` and `direct_user1/2`.
    pub participants: Vec<Uuid>,
    pub legacy: String,
}

pub struct MemberRow {
    pub room_id: Uuid,
    pub user_id: Uuid,
    pub role: &'static str,
    pub joined_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub last_read_at: Option<DateTime<Utc>>,
}

pub struct MessageRow {
    pub id: Uuid,
    pub room_id: Uuid,
    pub sender_id: Uuid,
    /// The pk as a sortable text: the tie-break after `created_at`.
    pub order: String,
    pub content: String,
    pub message_type: &'static str,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub is_deleted: bool,
    pub reply_to: Option<Uuid>,
    /// 004's `reactions` map: (emoji, user).
    pub reactions: Vec<(String, Uuid)>,
    pub legacy: String,
}

pub struct ReactionRow {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub emoji: String,
}

pub struct ReadRow {
    pub message_id: Uuid,
    pub user_id: Uuid,
}

/// One record, recognised.
pub enum Row {
    User(UserRow),
    Room(RoomRow),
    Member(MemberRow),
    Message(MessageRow),
    Reaction(ReactionRow),
    Read(ReadRow),
    /// A model Confab knows and does not import (presence, typing, sessions: live state).
    Ignored,
}

/// Makes Confab's ids from a dump's pks: a UUID stays itself; an integer user pk becomes the id
/// a platform token with that integer gets; any other pk becomes a v5 UUID of the import's
/// namespace, the model kind and the pk, so a second run makes the same ids.
pub struct Ids {
    namespace: Uuid,
}

impl Ids {
    pub fn new(tenant: Uuid) -> Self {
        Ids {
            namespace: Uuid::new_v5(&Uuid::NAMESPACE_OID, tenant.as_bytes()),
        }
    }

    pub fn of(&self, kind: &str, pk: &Value) -> Option<Uuid> {
        let text = match pk {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) if n.is_u64() => n.to_string(),
            _ => return None,
        };
        if let Ok(id) = Uuid::parse_str(&text) {
            return Some(id);
        }
        if kind == "user" {
            return platform_user_id(pk);
        }
        text.parse::<u64>().ok()?;
        Some(Uuid::new_v5(
            &self.namespace,
            format!("{kind}:{text}").as_bytes(),
        ))
    }
}

/// The pk as it was written (for the report and the legacy id table).
pub fn pk_text(pk: &Value) -> String {
    match pk {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The model part of `app.model`, lowercased.
pub fn model_name(label: &str) -> String {
    label.rsplit('.').next().unwrap_or(label).to_lowercase()
}

/// Recognises a record; None when the model is not one of the seeds'.
pub fn recognise(ids: &Ids, r: &Record) -> Option<Result<Row, String>> {
    let name = model_name(&r.model);
    let row = match name.as_str() {
        "chatconversation" | "conversation" | "chatroom" => room(ids, r).map(Row::Room),
        "chatparticipant" | "conversationparticipant" => member(ids, r).map(Row::Member),
        "chatmessage" | "message" => message(ids, r).map(Row::Message),
        "messagereaction" => reaction(ids, r).map(Row::Reaction),
        "messageread" | "messagereadstatus" => read(ids, r).map(Row::Read),
        "userpresence" | "typingindicator" | "chatsession" => Ok(Row::Ignored),
        _ if is_user_model(&r.model, &r.fields) => user(ids, r).map(Row::User),
        _ => return None,
    };
    Some(row)
}

fn is_user_model(label: &str, fields: &Map<String, Value>) -> bool {
    let name = model_name(label);
    label.eq_ignore_ascii_case("auth.user")
        || (name.ends_with("user")
            && (fields.contains_key("username") || fields.contains_key("email")))
}

/// The first of `keys` the record has (not null).
fn field<'a>(f: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| f.get(*k).filter(|v| !v.is_null()))
}

fn text(f: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    field(f, keys).and_then(Value::as_str).map(str::to_owned)
}

fn flag(f: &Map<String, Value>, key: &str, default: bool) -> bool {
    f.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn time(f: &Map<String, Value>, keys: &[&str]) -> Result<Option<DateTime<Utc>>, String> {
    match field(f, keys) {
        None => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| format!("{}: {e}", keys[0])),
        Some(other) => Err(format!("{} is not a timestamp: {other}", keys[0])),
    }
}

/// A foreign key to a `kind` (required).
fn fk(ids: &Ids, f: &Map<String, Value>, kind: &str, keys: &[&str]) -> Result<Uuid, String> {
    let v = field(f, keys).ok_or_else(|| format!("no {}", keys[0]))?;
    ids.of(kind, v)
        .ok_or_else(|| format!("{} is not an id: {v}", keys[0]))
}

fn optional_fk(ids: &Ids, f: &Map<String, Value>, kind: &str, keys: &[&str]) -> Option<Uuid> {
    field(f, keys).and_then(|v| ids.of(kind, v))
}

fn user(ids: &Ids, r: &Record) -> Result<UserRow, String> {
    let f = &r.fields;
    let id = ids.of("user", &r.pk).ok_or("the pk is not an id")?;
    let username = text(f, &["username"]).map(|u| u.to_lowercase());
    let full = [text(f, &["first_name"]), text(f, &["last_name"])]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let display_name = text(f, &["display_name", "full_name", "name"])
        .filter(|s| !s.trim().is_empty())
        .or_else(|| (!full.is_empty()).then_some(full))
        .or_else(|| username.clone())
        .unwrap_or_else(|| format!("User {}", pk_text(&r.pk)));
    Ok(UserRow {
        id,
        username: username.filter(|u| valid_username(u)),
        email: text(f, &["email"]).filter(|e| (3..=254).contains(&e.len())),
        display_name: display_name.chars().take(64).collect(),
    })
}

/// Confab's username rule; others are imported without a username.
fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// A platform object a room belongs to: `external_ref`'s kind and id.
type Reference = Option<(String, String)>;

/// A seed's room type in Confab's terms, with the platform object it belongs to.
fn room_kind(raw: &str, f: &Map<String, Value>) -> Result<(&'static str, Reference), String> {
    let linked = |kind: &str, keys: &[&str]| {
        field(f, keys).map(|v| (kind.to_owned(), pk_text(v).chars().take(128).collect()))
    };
    Ok(match raw {
        "direct" => ("direct", None),
        "group" | "private" | "project" => ("group", linked(raw, &["object_id", raw])),
        "channel" => ("channel", None),
        "public" => ("public", None),
        "course" => ("group", linked("course", &["course", "object_id"])),
        "support" | "job" | "bid" | "request" | "dispute" => {
            ("group", linked(raw, &["object_id", raw]))
        }
        other => return Err(format!("unknown room type `{other}`")),
    })
}

fn room(ids: &Ids, r: &Record) -> Result<RoomRow, String> {
    let f = &r.fields;
    let id = ids.of("room", &r.pk).ok_or("the pk is not an id")?;
    let raw_type =
        text(f, &["conversation_type", "chat_type", "room_type"]).unwrap_or_else(|| "group".into());
    let (room_type, reference) = room_kind(&raw_type, f)?;
    let mut participants: Vec<Uuid> = ["participants"]
        .iter()
        .filter_map(|k| f.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| ids.of("user", v))
        .collect();
    participants.extend(optional_fk(ids, f, "user", &["direct_user1"]));
    participants.extend(optional_fk(ids, f, "user", &["direct_user2"]));
    let name = text(f, &["title", "name"]).filter(|n| !n.trim().is_empty());
    Ok(RoomRow {
        id,
        tenant: field(f, &["tenant_id", "tenant"])
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok()),
        name: name
            .unwrap_or_else(|| format!("{raw_type} {}", pk_text(&r.pk)))
            .chars()
            .take(100)
            .collect(),
        description: text(f, &["description"])
            .unwrap_or_default()
            .chars()
            .take(1000)
            .collect(),
        room_type,
        reference,
        created_by: optional_fk(ids, f, "user", &["created_by", "created_by_id"]),
        created_at: time(f, &["created_at"])?,
        is_active: flag(f, "is_active", true),
        max_participants: field(f, &["max_participants"])
            .and_then(Value::as_i64)
            .map(|n| n.clamp(1, 100_000) as i32),
        participants,
        legacy: pk_text(&r.pk),
    })
}

fn role(raw: Option<String>) -> &'static str {
    match raw.as_deref() {
        Some("owner") => "owner",
        Some("admin") => "admin",
        Some("moderator") => "moderator",
        Some("observer") => "observer",
        _ => "member",
    }
}

fn member(ids: &Ids, r: &Record) -> Result<MemberRow, String> {
    let f = &r.fields;
    let left = time(f, &["left_at"])?;
    Ok(MemberRow {
        room_id: fk(ids, f, "room", &["conversation", "room"])?,
        user_id: fk(ids, f, "user", &["user", "user_id"])?,
        role: role(text(f, &["role"])),
        joined_at: time(f, &["joined_at"])?,
        active: flag(f, "is_active", true) && left.is_none(),
        last_read_at: time(f, &["last_read_at"])?,
    })
}

fn message_type(raw: Option<String>) -> &'static str {
    match raw.as_deref() {
        Some("emoji") => "emoji",
        Some("image") => "image",
        Some("file") => "file",
        Some("audio") => "audio",
        Some("video") => "video",
        Some("system") => "system",
        _ => "text",
    }
}

fn message(ids: &Ids, r: &Record) -> Result<MessageRow, String> {
    let f = &r.fields;
    let id = ids.of("message", &r.pk).ok_or("the pk is not an id")?;
    let created_at = time(f, &["created_at", "timestamp"])?.ok_or("no created_at or timestamp")?;
    let is_deleted = flag(f, "is_deleted", false);
    let edited_at = match time(f, &["edited_at"])? {
        Some(t) => Some(t),
        None if flag(f, "is_edited", false) => time(f, &["updated_at"])?.or(Some(created_at)),
        None => None,
    };
    let mut content = text(f, &["content"]).unwrap_or_default();
    if content.trim().is_empty() && !is_deleted {
        // A file message of a seed: its file stays on the old system; the text names it.
        let file = text(f, &["file_name", "file_url", "file", "file_attachment"]);
        content = file
            .map(|n| format!("[file: {n}]"))
            .unwrap_or_else(|| "[empty message]".into());
    }
    let reactions = f
        .get("reactions")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .flat_map(|(emoji, users)| {
                    users
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|u| ids.of("user", u))
                        .map(|u| (emoji.clone(), u))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(MessageRow {
        id,
        room_id: fk(ids, f, "room", &["conversation", "room"])?,
        sender_id: fk(ids, f, "user", &["sender", "sender_id", "user"])?,
        order: sortable(&r.pk),
        content: if is_deleted {
            String::new()
        } else {
            content.chars().take(100_000).collect()
        },
        message_type: message_type(text(f, &["message_type"])),
        created_at,
        edited_at,
        is_deleted,
        reply_to: optional_fk(ids, f, "message", &["reply_to", "reply_to_id", "parent"]),
        reactions,
        legacy: pk_text(&r.pk),
    })
}

/// Integers padded so their text sorts as numbers do.
fn sortable(pk: &Value) -> String {
    match pk {
        Value::Number(n) => format!("{:020}", n.as_u64().unwrap_or(0)),
        Value::String(s) => s
            .parse::<u64>()
            .map(|n| format!("{n:020}"))
            .unwrap_or_else(|_| s.clone()),
        other => other.to_string(),
    }
}

fn reaction(ids: &Ids, r: &Record) -> Result<ReactionRow, String> {
    let f = &r.fields;
    let emoji = text(f, &["emoji", "reaction"]).ok_or("no emoji")?;
    if emoji.is_empty() || emoji.chars().count() > 32 {
        return Err("emoji must be 1 to 32 characters".into());
    }
    Ok(ReactionRow {
        message_id: fk(ids, f, "message", &["message"])?,
        user_id: fk(ids, f, "user", &["user", "user_id"])?,
        emoji,
    })
}

fn read(ids: &Ids, r: &Record) -> Result<ReadRow, String> {
    let f = &r.fields;
    Ok(ReadRow {
        message_id: fk(ids, f, "message", &["message"])?,
        user_id: fk(ids, f, "user", &["user", "user_id"])?,
    })
}
