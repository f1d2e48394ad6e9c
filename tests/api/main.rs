//! Integration tests: the real server on port 0, real Postgres, real HTTP clients.

mod admin;
mod auth;
mod cluster;
mod commit;
mod dialect_drf;
mod dialect_drf_node;
mod dialect_drf_rest;
mod embed;
mod fuzz;
mod health;
mod helpers;
mod http_entry;
mod lifecycle;
mod migrations;
mod nodes;
mod openapi;
mod password;
mod realtime;
mod redaction;
mod rest;
mod signed_urls;
mod sql;
mod sweep;
mod uploads;

// moderation (issue 17)
mod blocks_reports;
mod moderation;
mod retention;
