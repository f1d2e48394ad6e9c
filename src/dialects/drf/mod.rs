//! Seed 004 (DRF + Channels): `/api/chat/…` with page-number paging and the per-room sockets.
//! Paths equal to native ones are served by the native routes (docs/DIALECTS.md lists them);
//! this module serves the rest.

pub mod messages;
pub mod rest;
pub mod rooms;
pub mod search;
pub mod slashed;
pub mod socket;
pub mod views;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::configure_sockets)
        .configure(rest::configure)
        .configure(rooms::configure)
        .configure(messages::configure)
        .configure(search::configure);
}
