//! Confab: an actor-based realtime chat server.
//!
//! Browsers speak the WebSocket protocol to a session actor each; room actors order, persist and
//! fan out every room change; a presence actor tracks who is online. REST handlers (`routes`) serve
//! admin tools and platform modules through the same store (`db`) and the same actors. `config`
//! holds the settings, `auth` the tokens and passwords, `domain` the input rules, `protocol` the
//! wire format, `uploads` the files and images people share, and `error` the one error type.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::dbg_macro)
)]

pub mod actors;
pub mod auth;
pub mod broker;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dialects;
pub mod domain;
pub mod error;
pub mod import;
pub mod metrics;
// Issue 20: the guarded HTTP client of webhooks and link previews.
pub mod outbound;
pub mod policy;
pub mod protocol;
pub mod routes;
pub mod startup;
pub mod state;
pub mod transport;
pub mod uploads;
