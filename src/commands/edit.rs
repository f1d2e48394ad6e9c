//! `EditMessage`: the sender changes a message's text (within the edit window); the earlier text
//! is kept as a history row.

use chrono::Utc;

use super::batch::{message_view, Batch, Shared};
use super::outcome::{Applied, Outcome};
use super::Caller;
use crate::config::Settings;
use crate::db;
use crate::domain;
use crate::domain::ids::MessageId;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::ServerFrame;

#[derive(Debug, Clone)]
pub struct EditMessage {
    pub message_id: MessageId,
    pub content: String,
}

impl EditMessage {
    /// The new text is held to the same limits as a new message's (a file may keep it empty).
    pub fn parse(
        settings: &Settings,
        message_id: MessageId,
        content: &str,
    ) -> AppResult<EditMessage> {
        let content =
            domain::message_content("content", content, settings.limits.max_message_chars, true)?;
        Ok(EditMessage {
            message_id,
            content,
        })
    }

    /// Before the message is read, the caller is assumed its sender; `apply` asks again.
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
        if m.is_deleted {
            return Ok(Err(AppError::Conflict("the message was deleted".into())));
        }
        if let Err(e) = self.allowed(b, caller, &m) {
            return Ok(Err(e));
        }
        let unchanged = self.content == m.content;
        let m = if unchanged {
            m
        } else {
            let now = Utc::now();
            db::messages::insert_edit(c, m.id, &m.content, caller.user_id.uuid(), now).await?;
            shared.rewrite.push(m.id);
            db::messages::set_content(c, m.id, &self.content, now).await?
        };
        let view = message_view(c, &m, &caller.display_name).await?;
        let outcome = Outcome {
            message: Some(view.clone()),
            ..Default::default()
        };
        if unchanged {
            return Ok(Ok(Applied {
                outcome,
                ..Default::default()
            }));
        }
        let room_id = b.room.id;
        let event = b.event(|seq| ServerFrame::MessageUpdated {
            room_id,
            seq,
            message: view,
        });
        Ok(Ok(Applied::with(outcome, event)))
    }

    /// The sender only, within the edit window; a message without a file keeps some text.
    fn allowed(&self, b: &Batch<'_>, caller: &Caller, m: &db::models::Message) -> AppResult<()> {
        b.may(
            caller,
            Change::Edit {
                own: m.sender_id == caller.user_id.uuid(),
            },
        )?;
        let window = b.settings.limits.edit_window_secs;
        if window > 0 && (Utc::now() - m.created_at).num_seconds() > window {
            return Err(AppError::Forbidden("the edit window has passed".into()));
        }
        if self.content.is_empty() && m.attachment_id.is_none() {
            return Err(AppError::bad_request(
                "content",
                "content must not be empty",
            ));
        }
        Ok(())
    }
}
