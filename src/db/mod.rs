//! The store: the only place with SQL. Functions take a connection (or the pool) and return rows.

pub mod admin;
pub mod attachments;
pub mod events;
pub mod import;
pub mod listing;
pub mod messages;
pub mod models;
pub mod pool;
pub mod presence;
pub mod rooms;
#[rustfmt::skip]
pub mod schema;
pub mod search;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod writes;
// Issue 14: notifications and webhooks.
pub mod hook_cursors;
pub mod notifications;
pub mod outbox;
pub mod webhooks;

// moderation (issue 17)
pub mod audit;
pub mod blocks;
pub mod pins;
pub mod reports;
pub mod retention;
// Issue 20: link previews.
pub mod link_previews;

// Issue 14: a tenant's own notification defaults.
pub mod notify_defaults;

// Issue 18 (speed): the outbox write prepared once per connection.
pub mod outbox_write;

// import (issue 19): old ids of imported rooms and messages.
pub mod import_move;
pub mod legacy;

pub use diesel_async::AsyncPgConnection as Conn;
pub use pool::{run_migrations, DbPool, MIGRATIONS};
