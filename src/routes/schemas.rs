//! The rules the server checks on input, as JSON Schemas for the OpenAPI document
//! (`#[schema(schema_with = ..)]` / `#[param(schema_with = ..)]`), built from the same lists the
//! checks use where there is one, so that the document states what is enforced. Patterns spell
//! out what `domain` checks: Rust's `char::is_control` is `\x00-\x1F`, `\x7F-\x9F`;
//! `char::is_whitespace` adds the space, `\x85`, `\xA0` and the Unicode spaces listed here.
//! Lengths that come from the settings are written with their defaults and set to the
//! configured value when the document is served (`openapi::fitted`).

use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use crate::domain;
use crate::domain::role::Role;

/// A UUID as `Uuid`'s parser takes it (the hyphenated form).
pub const UUID: &str =
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
/// Not a control character.
const NOT_CONTROL: &str = r"[^\x00-\x1F\x7F-\x9F]";
/// Neither white space nor a control character.
const VISIBLE: &str = r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// Not a control character other than tab, newline and carriage return (message text).
const MESSAGE_CHAR: &str = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]";
/// Printable ASCII (URLs and addresses, which are counted in bytes).
const PRINTABLE: &str = r"[\x21-\x7E]";

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(ty)
}

fn one_of(values: &[&str], nullable: bool) -> Object {
    let mut values: Vec<Option<&str>> = values.iter().copied().map(Some).collect();
    if nullable {
        values.push(None);
    }
    string(nullable).enum_values(Some(values)).build()
}

/// One line of text that is not blank once trimmed: `min..=max` characters, no control characters.
fn line(min: usize, max: usize, nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(format!("^{NOT_CONTROL}*{VISIBLE}{NOT_CONTROL}*$")))
        .build()
}

/// Text that may span lines (tab and newline allowed) and may be empty.
fn multiline(max: usize, nullable: bool) -> Object {
    string(nullable)
        .max_length(Some(max))
        .pattern(Some(r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))
        .build()
}

/// A room type a list may be filtered by.
pub fn room_type_filter() -> Object {
    one_of(&["direct", "group", "channel", "public"], false)
}

/// A room type a new room may have (direct rooms have their own route).
pub fn new_room_type() -> Object {
    one_of(&["group", "channel", "public"], false)
}

/// A member's role in a room.
pub fn room_role() -> Object {
    one_of(&role_names(), false)
}

/// A member's role, or null for `member`.
pub fn room_role_or_null() -> Object {
    one_of(&role_names(), true)
}

/// The room roles' names, highest first.
fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

/// A message's type, or null for `text`.
pub fn message_type() -> Object {
    one_of(&domain::MESSAGE_TYPES, true)
}

/// A manual presence status.
pub fn presence_status() -> Object {
    one_of(&["online", "away", "busy"], false)
}

/// A room's name (required).
pub fn room_name() -> Object {
    line(1, 100, false)
}

/// A room's new name, or null to leave it.
pub fn room_name_or_null() -> Object {
    line(1, 100, true)
}

pub fn room_description() -> Object {
    multiline(1000, true)
}

/// A display name, or null.
pub fn display_name() -> Object {
    line(1, 64, true)
}

/// A room's size limit (`limits.max_room_members` at most), or null.
pub fn max_participants() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(1))
        .maximum(Some(10_000))
        .build()
}

/// 3–32 of `a-z 0-9 _ . -` (capitals are folded to lower case).
pub fn username() -> Object {
    string(false)
        .pattern(Some("^[A-Za-z0-9_.-]{3,32}$"))
        .build()
}

pub fn password() -> Object {
    string(false)
        .min_length(Some(8))
        .max_length(Some(256))
        .build()
}

/// An address with one `@` and a dot after it, at most 254 bytes, or null.
pub fn email() -> Object {
    let part = r"[\x21-\x3F\x41-\x7E]";
    string(true)
        .max_length(Some(254))
        .pattern(Some(format!("^{part}+@{part}*\\.{part}*$")))
        .build()
}

/// An http(s) URL of at most 2048 bytes, or null.
pub fn avatar_url() -> Object {
    string(true)
        .max_length(Some(2048))
        .pattern(Some(format!("^https?://{PRINTABLE}*$")))
        .build()
}

/// Message text for a new message: not blank, `limits.max_message_chars` at most.
pub fn message_content() -> Object {
    string(false)
        .max_length(Some(4000))
        .pattern(Some(format!("^{MESSAGE_CHAR}*{VISIBLE}{MESSAGE_CHAR}*$")))
        .build()
}

/// A reaction: 1–32 characters, no white space or control characters.
pub fn emoji() -> Object {
    string(false)
        .pattern(Some(format!("^{VISIBLE}{{1,32}}$")))
        .build()
}

/// The client's own id of a message: 1–64 characters without control characters, or null.
pub fn client_id() -> Object {
    string(true)
        .pattern(Some(format!("^{NOT_CONTROL}{{1,64}}$")))
        .build()
}

/// A platform reference's kind: 1–32 of `a-z 0-9 _`.
pub fn ref_kind() -> Object {
    string(false).pattern(Some("^[a-z0-9_]{1,32}$")).build()
}

/// A platform reference's id: 1–128 characters, not blank, no control characters.
pub fn ref_id() -> Object {
    line(1, 128, false)
}

/// A name filter that may be empty: `limits.max_search_query_chars` at most.
pub fn name_filter() -> Object {
    string(false).max_length(Some(256)).build()
}

/// Up to 200 user ids, comma-separated.
pub fn user_ids() -> Object {
    string(false)
        .pattern(Some(format!("^({UUID}(,{UUID}){{0,199}})?$")))
        .build()
}

/// A message's metadata (the conditions of a `location` are added by `openapi::fitted`).
pub fn metadata() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(
            "A JSON object of at most 4096 bytes (413 past it); a `location` message needs \
             numeric `lat` (-90..90) and `lon` (-180..180), and an optional `label` string of \
             at most 200 characters",
        ))
        .into()
}
