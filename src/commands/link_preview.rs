//! `AttachLinkPreview` (issue 20): the server gives a message the preview of its first link, after
//! the message was committed. Asked as the sender (who may change their own message); a message
//! deleted meanwhile, or one that has its preview already, changes nothing. The event is a
//! `message_updated` carrying the whole message with `link_preview` (`edited_at` unchanged).

use super::batch::{message_view, Batch, Shared};
use super::outcome::{Applied, Outcome};
use super::Caller;
use crate::db;
use crate::domain::ids::MessageId;
use crate::error::AppResult;
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::LinkPreviewView;

#[derive(Debug, Clone)]
pub struct AttachLinkPreview {
    pub message_id: MessageId,
    pub preview: LinkPreviewView,
}

impl AttachLinkPreview {
    pub fn change(&self) -> Change {
        Change::Edit { own: true }
    }

    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        let m = match shared.locked(c, b.room.id, self.message_id).await? {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        let own = m.sender_id == caller.user_id.uuid();
        if let Err(e) = b.may(caller, Change::Edit { own }) {
            return Ok(Err(e));
        }
        let json = serde_json::to_value(&self.preview).unwrap_or_default();
        if m.is_deleted || !db::link_previews::attach(c, m.id, &json).await? {
            return Ok(Ok(Applied::default()));
        }
        let mut view = message_view(c, &m, &caller.display_name).await?;
        view.link_preview = Some(self.preview.clone());
        let outcome = Outcome {
            message: Some(view.clone()),
            ..Default::default()
        };
        let room_id = b.room.id;
        let event = b.event(|seq| ServerFrame::MessageUpdated {
            room_id,
            seq,
            message: view,
        });
        Ok(Ok(Applied::with(outcome, event)))
    }
}
