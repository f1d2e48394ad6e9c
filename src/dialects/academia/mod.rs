//! Seed 001 (Academia): `/chat/rooms/…`, the message endpoints 003 does not share, the presence
//! endpoints `/chat/presence/…` and the presence socket `/ws/presence/`. Its `CHAT_*` limits are
//! Confab settings (`config/academia.toml` holds the seed's defaults).

pub mod messages;
pub mod presence;
pub mod rooms;
pub mod views;

use actix_web::web;

/// Registered before 003's: `PUT`/`DELETE /chat/messages/{id}/` and `…/{id}/reply/` must not be
/// taken by 003's `{id}/{action}/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(rooms::configure)
        .configure(messages::configure)
        .configure(presence::configure);
}
