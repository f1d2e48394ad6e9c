//! The store: the only place with SQL. Functions take a connection (or the pool) and return rows.

pub mod models;
pub mod pool;
#[rustfmt::skip]
pub mod schema;
pub mod tenants;
pub mod tokens;
pub mod users;

pub use diesel_async::AsyncPgConnection as Conn;
pub use pool::{run_migrations, DbPool, MIGRATIONS};
