//! The moderation rules (issue 17): pins, the delete window, reports, and blocks between users.

use super::{allow_if, forbid, Change, Rank};
use crate::domain::role::{Role, RoomType};
use crate::error::AppResult;

/// What a blocked user is told when they open or write in a direct room with the one who blocks
/// them. The only answer that differs from an unblocked user's, and it does not say why.
pub const NOT_REACHABLE: &str = "you cannot message this user";

/// The rule of a moderation change, for a caller let in.
pub(super) fn rule(rank: Rank, kind: RoomType, change: Change) -> AppResult<()> {
    match change {
        Change::Pin if kind == RoomType::Direct => {
            allow_if(rank.at_least(Role::Member), "observers cannot pin")
        }
        Change::Pin => allow_if(
            rank.at_least(Role::Moderator),
            "only moderators, admins and owners pin messages",
        ),
        Change::DeleteLate => allow_if(
            rank.at_least(Role::Moderator),
            "the delete window has passed",
        ),
        Change::Report => Ok(()),
        _ => forbid("not a moderation change"),
    }
}

/// Who sees a room's reports (once they may read the room): its moderators and up.
pub(super) fn reports(rank: Rank) -> AppResult<()> {
    allow_if(
        rank.at_least(Role::Moderator),
        "only moderators, admins and owners see reports",
    )
}

/// May a caller write to a user directly (open a direct room with them, send in it)?
/// `blocked`: that user blocks the caller.
pub fn may_reach(blocked: bool) -> AppResult<()> {
    allow_if(!blocked, NOT_REACHABLE)
}
