//! Seeds 000 and 002 (a multi-tenant notifications service's chat): the REST endpoints under
//! `/api/notifications/chat/…` and the multiplexed socket `/ws/chat/{tenant_id}/`
//! (docs/DIALECTS.md). Translation only: writes are Confab's commands, reads ask its access check.

pub mod conversations;
pub mod messages;
pub mod paging;
pub mod presence;
pub mod socket;
pub mod views;

use actix_web::web;
use uuid::Uuid;

/// Where 000's REST endpoints live.
pub const BASE: &str = "/api/notifications/chat";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(conversations::configure)
        .configure(messages::configure)
        .configure(presence::configure);
}

/// The upload a `file_url` names: Confab's download URL of it (`/api/chat/uploads/{id}`), with
/// or without scheme and host, signed or not, as the upload answered it.
pub fn attachment_of(file_url: &str) -> Option<Uuid> {
    let url = file_url.split(['?', '#']).next()?;
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    let id = path.strip_prefix("/api/chat/uploads/")?;
    Uuid::parse_str(id.trim_end_matches('/')).ok()
}

#[cfg(test)]
mod tests {
    use super::attachment_of;

    #[test]
    fn file_urls_name_their_upload() {
        let id = uuid::Uuid::new_v4();
        for url in [
            format!("/api/chat/uploads/{id}"),
            format!("/api/chat/uploads/{id}/"),
            format!("https://chat.example/api/chat/uploads/{id}?uid=1&exp=2&sig=x"),
        ] {
            assert_eq!(attachment_of(&url), Some(id), "{url}");
        }
        for url in [
            "/media/chat-files/doc.pdf".to_owned(),
            format!("/api/chat/uploads/{id}/thumbnail"),
            "https://chat.example".to_owned(),
            String::new(),
        ] {
            assert_eq!(attachment_of(&url), None, "{url}");
        }
    }
}
