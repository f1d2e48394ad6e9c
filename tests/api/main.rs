//! Integration tests: the real server on port 0, real Postgres, real HTTP clients.

mod auth;
mod health;
mod helpers;
mod migrations;
mod realtime;
