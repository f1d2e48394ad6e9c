//! The rules the server checks on input, as JSON Schemas for the OpenAPI document
//! (`#[schema(schema_with = ..)]` / `#[param(schema_with = ..)]`), built from the same lists the
//! checks use where there is one, so the document states what is enforced.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

use crate::domain;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

fn one_of(values: &[&str]) -> Object {
    string().enum_values(Some(values.iter().copied())).build()
}

/// A room type a list may be filtered by.
pub fn room_type() -> Object {
    one_of(&["direct", "group", "channel", "public"])
}

/// A room type a new room may have (direct rooms have their own route).
pub fn new_room_type() -> Object {
    one_of(&["group", "channel", "public"])
}

/// A member's role in a room.
pub fn room_role() -> Object {
    one_of(&domain::ROLES)
}

/// A message's type.
pub fn message_type() -> Object {
    one_of(&domain::MESSAGE_TYPES)
}
