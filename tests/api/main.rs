//! Integration tests: the real server on port 0, real Postgres, real HTTP clients.

mod admin;
mod auth;
mod cluster;
mod cluster_hooks;
mod commit;
mod dialect_blocks;
mod dialect_drf;
mod dialect_drf_node;
mod dialect_drf_rest;
mod dialect_drf_slashed;
// Issue 13, seeds 000/002.
mod dialect_notifications;
mod dialect_notifications_node;
mod dialect_notifications_rest;
// Seeds 001 and 003 (issue 13):
mod dialect_academia;
mod dialect_matrix;
mod dialect_wasgo;
mod dialect_wasgo_node;
mod dialect_wasgo_rest;
mod embed;
mod fuzz;
mod health;
mod helpers;
mod http_entry;
mod import;
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
// Issue 14: notifications and webhooks, and the receiver they deliver to.
mod notifications;
mod notify_defaults;
mod receiver;
mod webhook_backlog;
mod webhook_cursors;
mod webhook_priority;
mod webhooks;

// moderation (issue 17)
mod blocks_reports;
mod moderation;
mod retention;

// Issue 20: malware scanning (a clamd of the test's own), formatting and previews.
mod clamd;
mod link_previews;
mod previews;
mod scan;
// import (issue 19): read back through the seeds' routes, resumed runs.
mod import_dialects;

// Issue 18: upgrade requests outside the HTTP/1 dispatcher.
mod upgrade;
