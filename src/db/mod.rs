//! The store: the only place with SQL. Functions take a connection (or the pool) and return rows.

pub mod admin;
pub mod attachments;
pub mod events;
pub mod import;
pub mod listing;
pub mod messages;
pub mod models;
// Issue 13, seeds 000/002: the totals of page-number pages.
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

pub use diesel_async::AsyncPgConnection as Conn;
pub use pool::{run_migrations, DbPool, MIGRATIONS};
