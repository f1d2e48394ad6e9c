//! Integration tests: the real server on port 0, real Postgres, real HTTP clients.

mod admin;
mod auth;
mod cluster;
mod commit;
mod dialect_drf;
mod dialect_drf_node;
mod dialect_drf_rest;
mod health;
mod helpers;
mod migrations;
mod openapi;
mod realtime;
mod rest;
mod sql;
mod uploads;
