//! Integration tests: the real server on port 0, real Postgres, real HTTP clients.

mod admin;
mod auth;
mod cluster;
mod commit;
mod fuzz;
mod health;
mod helpers;
mod lifecycle;
mod migrations;
mod nodes;
mod openapi;
mod password;
mod realtime;
mod redaction;
mod rest;
mod sweep;
mod uploads;
