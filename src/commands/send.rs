//! `SendMessage`: a new message. The same limits for every way in; the resend of a known
//! `client_id` answers the first message.

use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use super::batch::{message_view, Batch, Known, Shared};
use super::outcome::{Applied, Outcome};
use super::rate::RateLimits;
use super::Caller;
use crate::config::Settings;
use crate::db::{self, models::Message};
use crate::domain;
use crate::error::{AppError, AppResult};
use crate::policy::Change;
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::protocol::views::MessageView;

/// A new message as a client sends it, before any check.
#[derive(Debug, Clone, Default)]
pub struct Draft<'a> {
    pub content: &'a str,
    pub message_type: Option<&'a str>,
    pub reply_to: Option<Uuid>,
    pub attachment_id: Option<Uuid>,
    pub metadata: Option<&'a serde_json::Value>,
    pub client_id: Option<&'a str>,
}

/// A validated new message.
#[derive(Debug, Clone)]
pub struct SendMessage {
    pub content: String,
    pub message_type: &'static str,
    pub reply_to: Option<Uuid>,
    pub attachment_id: Option<Uuid>,
    pub metadata: Option<serde_json::Value>,
    pub client_id: Option<String>,
}

impl SendMessage {
    /// A draft from `user_id`: the message rate first (a refused message costs no parsing), then
    /// the limits. Every way of sending a message comes through here.
    pub fn accept(
        settings: &Settings,
        rates: &RateLimits,
        user_id: Uuid,
        d: &Draft<'_>,
    ) -> AppResult<SendMessage> {
        rates.check_message(user_id)?;
        Self::parse(settings, d)
    }

    /// Checks a draft against the limits; errors name the field.
    pub fn parse(settings: &Settings, d: &Draft<'_>) -> AppResult<SendMessage> {
        let message_type = domain::message_type("message_type", d.message_type.unwrap_or("text"))?;
        let content = domain::message_content(
            "content",
            d.content,
            settings.limits.max_message_chars,
            d.attachment_id.is_some() || message_type == "location",
        )?;
        let metadata = domain::metadata("metadata", d.metadata, message_type)?;
        let client_id = d
            .client_id
            .map(|c| domain::client_id("client_id", c))
            .transpose()?;
        Ok(SendMessage {
            content,
            message_type,
            reply_to: d.reply_to,
            attachment_id: d.attachment_id,
            metadata,
            client_id,
        })
    }

    pub fn change(&self) -> Change {
        Change::Post {
            system: self.message_type == "system",
        }
    }

    /// Commits the message (or answers the first one of a known client_id).
    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        if let Err(e) = b.may(caller, self.change()) {
            return Ok(Err(e));
        }
        if let Err(e) = reachable(c, b, caller).await? {
            return Ok(Err(e));
        }
        let key = self
            .client_id
            .as_ref()
            .map(|cid| (b.room.id, caller.user_id.uuid(), cid.clone()));
        if let Some(first) = key.as_ref().and_then(|k| shared.find(k)) {
            return self.resent(c, first, caller).await;
        }
        if self.reply_to.is_some() || self.attachment_id.is_some() {
            shared.flush(c).await?;
        }
        let attachment = match self.references(c, b, caller).await? {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let message_type = match &attachment {
            Some(a) if self.message_type != "system" => kind_of(&a.content_type),
            _ => self.message_type,
        };
        if attachment.is_none() && matches!(message_type, "image" | "file" | "audio" | "video") {
            return Ok(Err(AppError::bad_request(
                "attachment_id",
                format!("a {message_type} message needs an attachment_id"),
            )));
        }
        let m = self.message(b, caller, message_type, attachment.as_ref());
        if let Some(parent) = self.reply_to {
            db::messages::increment_replies(c, parent).await?;
        }
        b.last_message_at = Some(m.created_at);
        let view = MessageView::build(
            &m,
            caller.display_name.clone(),
            Vec::new(),
            attachment.as_ref(),
        );
        if let Some(key) = key {
            shared.known.insert(key, Known::Sent(shared.sent.len()));
        }
        let mut mentions: Vec<Uuid> = m.mentions.iter().flatten().copied().collect();
        if !mentions.is_empty() {
            // Those who block the sender are not told (the message still names them).
            let blockers = db::blocks::blocking(c, &mentions, caller.user_id.uuid()).await?;
            mentions.retain(|u| !blockers.contains(u));
        }
        shared.sent.push(m);
        Ok(Ok(announce(b, view, mentions)))
    }

    /// A resend of a known client_id: the first message, or a conflict when it differs.
    async fn resent(
        &self,
        c: &mut db::Conn,
        first: &Message,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        let same = first.content == self.content
            && first.reply_to == self.reply_to
            && first.attachment_id == self.attachment_id;
        if !same {
            return Ok(Err(AppError::Conflict(
                "client_id was already used for a different message".into(),
            )));
        }
        let view = message_view(c, first, &caller.display_name).await?;
        Ok(Ok(Applied {
            outcome: Outcome {
                seq: Some(first.seq),
                message: Some(view),
                duplicate: true,
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    /// The message replied to must be of this room, the file the sender's own.
    async fn references(
        &self,
        c: &mut db::Conn,
        b: &Batch<'_>,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Option<db::models::Attachment>>> {
        if let Some(parent) = self.reply_to {
            if db::messages::find_in_room(c, b.room.id, parent)
                .await?
                .is_none()
            {
                return Ok(Err(AppError::unknown(
                    "reply_to",
                    "reply_to is not a message of this room",
                )));
            }
        }
        let Some(id) = self.attachment_id else {
            return Ok(Ok(None));
        };
        Ok(
            match db::messages::own_attachment(c, b.room.tenant_id, caller.user_id.uuid(), id)
                .await?
            {
                Some(a) => Ok(Some(a)),
                None => Err(AppError::NotFound),
            },
        )
    }

    /// The row of the new message, with the room's next seq and its mentions resolved.
    fn message(
        &self,
        b: &Batch<'_>,
        caller: &Caller,
        message_type: &str,
        attachment: Option<&db::models::Attachment>,
    ) -> Message {
        let mentions: Vec<Uuid> = domain::mentioned_usernames(&self.content)
            .iter()
            .filter_map(|name| {
                b.members
                    .iter()
                    .find(|(_, m)| m.username.as_deref() == Some(name.as_str()))
                    .map(|(id, _)| id.uuid())
            })
            .filter(|id| *id != caller.user_id.uuid())
            .collect();
        Message {
            id: Uuid::new_v4(),
            room_id: b.room.id,
            tenant_id: b.room.tenant_id,
            seq: b.seq + 1,
            sender_id: caller.user_id.uuid(),
            message_type: message_type.to_owned(),
            content: self.content.clone(),
            attachment_id: attachment.map(|a| a.id),
            reply_to: self.reply_to,
            reply_count: 0,
            mentions: mentions.into_iter().map(Some).collect(),
            metadata: self.metadata.clone(),
            client_id: self.client_id.clone(),
            // Microseconds: what the database keeps, so the ack and a later read agree.
            created_at: Utc::now().trunc_subsecs(6),
            edited_at: None,
            is_deleted: false,
            deleted_at: None,
        }
    }
}

/// In a direct room, the other member must not block the sender (moderation, issue 17).
async fn reachable(
    c: &mut db::Conn,
    b: &Batch<'_>,
    caller: &Caller,
) -> diesel::QueryResult<AppResult<()>> {
    if b.room.room_type != "direct" || caller.is_trusted() {
        return Ok(Ok(()));
    }
    let me = caller.user_id.uuid();
    let others: Vec<Uuid> = b
        .members
        .keys()
        .map(|u| u.uuid())
        .filter(|u| *u != me)
        .collect();
    let blocked = !db::blocks::blocking(c, &others, me).await?.is_empty();
    Ok(crate::policy::may_reach(blocked))
}

/// The `new_message` event (and the `mention` frame for those mentioned).
fn announce(b: &mut Batch<'_>, view: MessageView, mentions: Vec<Uuid>) -> Applied {
    let room_id = b.room.id;
    let v = view.clone();
    let event = b.event(|seq| ServerFrame::NewMessage {
        room_id,
        seq,
        message: v,
    });
    let mention_frame = (!mentions.is_empty()).then(|| {
        frame_text(&ServerFrame::Mention {
            room_id,
            message: view.clone(),
        })
    });
    Applied {
        outcome: Outcome {
            message: Some(view),
            ..Default::default()
        },
        event: Some(event),
        mentions,
        mention_frame,
        member_change: None,
        notice: None,
    }
}

/// The message type a file's content type makes.
fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    }
}
