//! The words of moderation: audit actions, report resolutions and a report's reason.

use crate::error::{AppError, AppResult};

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A moderator (or an admin token) deleted someone else's message.
    MessageDelete,
    MessagePin,
    MessageUnpin,
    MemberRole,
    MemberRemove,
    UserBan,
    UserUnban,
    ReportResolve,
    TokenMint,
    /// A tenant's or a room's retention changed.
    RetentionSet,
    /// A webhook endpoint was created, changed, deleted, or given a new secret.
    WebhookCreate,
    WebhookUpdate,
    WebhookDelete,
    WebhookRotate,
    /// The tenant's notification defaults changed.
    NotifyDefaultsSet,
}

impl AuditAction {
    pub const ALL: [AuditAction; 15] = [
        AuditAction::MessageDelete,
        AuditAction::MessagePin,
        AuditAction::MessageUnpin,
        AuditAction::MemberRole,
        AuditAction::MemberRemove,
        AuditAction::UserBan,
        AuditAction::UserUnban,
        AuditAction::ReportResolve,
        AuditAction::TokenMint,
        AuditAction::RetentionSet,
        AuditAction::WebhookCreate,
        AuditAction::WebhookUpdate,
        AuditAction::WebhookDelete,
        AuditAction::WebhookRotate,
        AuditAction::NotifyDefaultsSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::MessageDelete => "message.delete",
            AuditAction::MessagePin => "message.pin",
            AuditAction::MessageUnpin => "message.unpin",
            AuditAction::MemberRole => "member.role",
            AuditAction::MemberRemove => "member.remove",
            AuditAction::UserBan => "user.ban",
            AuditAction::UserUnban => "user.unban",
            AuditAction::ReportResolve => "report.resolve",
            AuditAction::TokenMint => "token.mint",
            AuditAction::RetentionSet => "retention.set",
            AuditAction::WebhookCreate => "webhook.create",
            AuditAction::WebhookUpdate => "webhook.update",
            AuditAction::WebhookDelete => "webhook.delete",
            AuditAction::WebhookRotate => "webhook.rotate",
            AuditAction::NotifyDefaultsSet => "notify_defaults.set",
        }
    }

    /// An action from a query; the error names the field and lists the actions.
    pub fn parse(field: &str, raw: &str) -> AppResult<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| {
                let all: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                AppError::bad_request(field, format!("action must be one of {}", all.join(", ")))
            })
    }
}

/// How an admin resolves a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Nothing to do.
    Dismiss,
    /// Delete the reported message.
    DeleteMessage,
    /// Ban the message's sender (the message stays unless deleted too).
    BanUser,
}

impl Resolution {
    pub fn parse(field: &str, raw: &str) -> AppResult<Resolution> {
        match raw {
            "dismiss" => Ok(Resolution::Dismiss),
            "delete_message" => Ok(Resolution::DeleteMessage),
            "ban_user" => Ok(Resolution::BanUser),
            _ => Err(AppError::bad_request(
                field,
                "action must be dismiss, delete_message or ban_user",
            )),
        }
    }

    /// The report's status once resolved so.
    pub fn status(self) -> &'static str {
        match self {
            Resolution::Dismiss => "dismissed",
            Resolution::DeleteMessage => "message_deleted",
            Resolution::BanUser => "user_banned",
        }
    }
}

/// Longest reason a report may give.
pub const MAX_REPORT_REASON_CHARS: usize = 1000;

/// 1–1000 characters once trimmed.
pub fn report_reason(field: &str, raw: &str) -> AppResult<String> {
    let v = raw.trim();
    let len = v.chars().count();
    if len > MAX_REPORT_REASON_CHARS {
        return Err(AppError::TooLarge(format!(
            "{field} must be at most {MAX_REPORT_REASON_CHARS} characters"
        )));
    }
    if len == 0 {
        return Err(AppError::bad_request(
            field,
            format!("{field} must not be empty"),
        ));
    }
    Ok(v.to_owned())
}

/// Longest retention, in days (100 years).
pub const MAX_RETENTION_DAYS: i32 = 36_500;
/// Largest cap of a room by count.
pub const MAX_ROOM_MESSAGES: i32 = 100_000_000;

/// None (forever) or 1 to `MAX_RETENTION_DAYS`.
pub fn retention_days(field: &str, raw: Option<i64>) -> AppResult<Option<i32>> {
    bounded(field, raw, MAX_RETENTION_DAYS)
}

/// None (no cap) or 1 to `MAX_ROOM_MESSAGES`.
pub fn max_messages(field: &str, raw: Option<i64>) -> AppResult<Option<i32>> {
    bounded(field, raw, MAX_ROOM_MESSAGES)
}

fn bounded(field: &str, raw: Option<i64>, max: i32) -> AppResult<Option<i32>> {
    match raw {
        None => Ok(None),
        Some(v) if (1..=i64::from(max)).contains(&v) => Ok(Some(v as i32)),
        Some(_) => Err(AppError::bad_request(
            field,
            format!("{field} must be null or 1 to {max}"),
        )),
    }
}
