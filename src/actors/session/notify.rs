//! A session's `set_notify` frame: the member's own notification settings in a room, through the
//! same command as `PATCH /api/chat/rooms/{id}/members/me`; the ack carries them.

use serde_json::Value;
use uuid::Uuid;

use super::{Reply, SessionActor};
use crate::commands::notify_settings::SetNotify;
use crate::commands::Caller;
use crate::protocol::frames::AckBody;

impl SessionActor {
    pub(super) fn set_notify(
        &mut self,
        r: Option<String>,
        room_id: Uuid,
        notify: Option<String>,
        muted: Option<bool>,
        muted_until: Option<Value>,
    ) -> Reply {
        let app = self.app.clone();
        let caller = Caller::from_auth(&self.user);
        let work = async move {
            let command = SetNotify::parse(notify.as_deref(), muted, muted_until.as_ref())?;
            let mut conn = app.pool.get().await?;
            let view = command
                .apply(&mut conn, &app.settings, &caller, room_id)
                .await?;
            Ok(AckBody {
                room_id: Some(room_id),
                notify: Some(view),
                ..Default::default()
            })
        };
        self.answer(work, r)
    }
}
