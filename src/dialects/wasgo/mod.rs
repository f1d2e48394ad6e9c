//! Seed 003 (Wasgo): `/chat/conversations/…`, `/chat/messages/…`, the platform objects'
//! `/bids|jobs|disputes/{id}/conversation/`, and the sockets `ws/chat/{conversation_id}/` (with
//! `?dialect=wasgo` or `dialects.room_socket = "wasgo"`) and `ws/notifications/`.

pub mod conversations;
pub mod messages;
pub mod rest;
pub mod socket;
pub mod views;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(conversations::configure)
        .configure(messages::configure)
        .configure(rest::configure_sockets);
}
