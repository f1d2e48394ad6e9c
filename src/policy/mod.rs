//! The one answer to "may this caller do this in this room": every entry point (REST, WebSocket,
//! dialects) and every command asks here, so a rule is written once.
//!
//! Outsiders of another tenant never get this far (their rooms are not found). Inside a tenant,
//! a room the caller may not know of answers `not_found`; a room they know of but may not act in
//! answers `forbidden` with the reason.

use crate::domain::role::{Role, RoomType};
use crate::error::{AppError, AppResult};

/// Where a caller stands in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// An admin or service token of the room's tenant: authority over every room of it.
    pub trusted: bool,
    /// The caller's role, when they are a member.
    pub role: Option<Role>,
}

/// What the policy needs to know of the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomFacts {
    pub kind: RoomType,
    pub is_active: bool,
}

/// Looking at a room or what is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Look the room up (its profile): members, trusted callers, anyone for a public room.
    See,
    /// Read what is inside (history, members, files, search) through the REST API.
    Read,
    /// Follow the room live (subscribe, resume, the typing list): members only.
    Listen,
    /// Show or stop a typing indicator.
    Type,
    /// What only a member does or sees (archive the room for me, the typing list): anyone else,
    /// trusted callers too, is told nothing.
    AsMember,
    /// See a message's earlier versions.
    EditHistory { own: bool },
    // moderation (issue 17)
    /// See the open reports of the room's messages.
    Reports,
}

/// A change to a room (each takes the room's next seq when it changes something).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Post a message; `system` for automated notices.
    Post {
        system: bool,
    },
    React,
    MarkRead,
    /// Edit a message; only its sender does.
    Edit {
        own: bool,
    },
    Delete {
        own: bool,
    },
    /// Join a public room (add myself).
    Join,
    /// Leave a room (remove myself).
    Leave,
    AddMember {
        role: Role,
    },
    RemoveMember {
        target: Role,
    },
    SetRole {
        target: Role,
        to: Role,
    },
    /// Rename, describe, change the member cap.
    UpdateRoom,
    /// Deactivate (or reactivate) the room.
    SetActive,
    // ---- moderation (issue 17): rules in policy/moderation.rs ----
    /// Pin or unpin a message.
    Pin,
    /// Delete a message older than `limits.delete_window_secs` (asked after `Delete`).
    DeleteLate,
    /// Report a message to the tenant's admins.
    Report,
}

/// Everything a caller may ask to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Access(Access),
    Change(Change),
}

impl From<Access> for Action {
    fn from(a: Access) -> Action {
        Action::Access(a)
    }
}

impl From<Change> for Action {
    fn from(c: Change) -> Action {
        Action::Change(c)
    }
}

/// How much a caller may do: outsiders least, trusted back ends most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Outsider,
    Member(Role),
    Trusted,
}

impl Rank {
    fn of(s: Standing) -> Rank {
        match (s.trusted, s.role) {
            (true, _) => Rank::Trusted,
            (false, Some(r)) => Rank::Member(r),
            (false, None) => Rank::Outsider,
        }
    }

    fn at_least(self, role: Role) -> bool {
        self >= Rank::Member(role)
    }

    /// Strictly above a member of `role`.
    fn above(self, role: Role) -> bool {
        self > Rank::Member(role)
    }
}

fn forbid(why: &str) -> AppResult<()> {
    Err(AppError::Forbidden(why.into()))
}

fn allow_if(ok: bool, why: &str) -> AppResult<()> {
    if ok {
        Ok(())
    } else {
        forbid(why)
    }
}

/// May a caller standing so do this in this room? `Ok(())`, or the error they get.
pub fn may(who: Standing, room: RoomFacts, action: impl Into<Action>) -> AppResult<()> {
    match action.into() {
        Action::Access(a) => may_access(who, room, a),
        Action::Change(c) => {
            let_in(who, room, c)?;
            change_rule(Rank::of(who), room.kind, c)
        }
    }
}

fn may_access(who: Standing, room: RoomFacts, access: Access) -> AppResult<()> {
    let member = who.role.is_some();
    match access {
        Access::See if who.trusted || member || room.kind == RoomType::Public => Ok(()),
        Access::Read if who.trusted || member => Ok(()),
        Access::AsMember if member => Ok(()),
        Access::See | Access::Read | Access::AsMember => Err(AppError::NotFound),
        Access::Listen => member_gate(who, room),
        Access::Type => {
            member_gate(who, room)?;
            allow_if(who.role != Some(Role::Observer), "observers cannot post")
        }
        Access::Reports => {
            may_access(who, room, Access::Read)?;
            moderation::reports(Rank::of(who))
        }
        Access::EditHistory { own } => {
            may_access(who, room, Access::Read)?;
            allow_if(
                own || Rank::of(who).at_least(Role::Moderator),
                "only the sender and moderators see the edit history",
            )
        }
    }
}

/// Members pass; an outsider learns of a public room that they must join first, and of any other
/// room nothing.
fn member_gate(who: Standing, room: RoomFacts) -> AppResult<()> {
    match who.role {
        Some(_) => Ok(()),
        None if room.kind == RoomType::Public => forbid("join the room first"),
        None => Err(AppError::NotFound),
    }
}

/// Who is let near a change at all: members (and trusted callers), outsiders joining a public
/// room; nobody changes a deactivated room but a trusted caller reactivating or editing it.
fn let_in(who: Standing, room: RoomFacts, change: Change) -> AppResult<()> {
    match change {
        Change::Join if who.role.is_none() && room.kind != RoomType::Public => {
            return if who.trusted {
                forbid("only public rooms can be joined")
            } else {
                Err(AppError::NotFound)
            };
        }
        Change::Join if who.role.is_none() => {}
        _ if !who.trusted => member_gate(who, room)?,
        _ => {}
    }
    if matches!(change, Change::MarkRead | Change::Leave) && who.role.is_none() {
        return Err(AppError::NotFound);
    }
    let exempt = change == Change::MarkRead
        || (who.trusted && matches!(change, Change::UpdateRoom | Change::SetActive));
    if !room.is_active && !exempt {
        return forbid("the room is deactivated");
    }
    Ok(())
}

/// The rule of each change, for a caller let in.
fn change_rule(rank: Rank, kind: RoomType, change: Change) -> AppResult<()> {
    let direct = kind == RoomType::Direct;
    match change {
        Change::Post { system: true } => allow_if(
            rank == Rank::Trusted,
            "only service or admin tokens post system messages",
        ),
        Change::Post { system: false } => {
            allow_if(rank.at_least(Role::Member), "observers cannot post")?;
            allow_if(
                kind != RoomType::Channel || rank.at_least(Role::Moderator),
                "only moderators and admins post in a channel",
            )
        }
        Change::React => allow_if(rank.at_least(Role::Member), "observers cannot react"),
        Change::Edit { own } => allow_if(own, "only the sender edits a message"),
        Change::Delete { own } => allow_if(
            own || rank.at_least(Role::Moderator),
            "only the sender or a moderator deletes a message",
        ),
        Change::Join | Change::MarkRead => Ok(()),
        Change::Leave => allow_if(!direct, "nobody leaves a direct room"),
        Change::AddMember { role } => {
            allow_if(!direct, "the members of a direct room are fixed")?;
            allow_if(
                rank.at_least(Role::Moderator),
                "only moderators, admins and owners add members",
            )?;
            allow_if(rank.at_least(role), "nobody grants a role above their own")
        }
        Change::RemoveMember { target } => {
            allow_if(!direct, "nobody leaves a direct room")?;
            allow_if(
                rank.at_least(Role::Admin),
                "only admins and owners remove members",
            )?;
            allow_if(
                rank.above(target) || rank.at_least(Role::Owner),
                "nobody removes a member of their own role or above",
            )
        }
        Change::SetRole { target, to } => {
            allow_if(
                rank.at_least(Role::Admin),
                "only admins and owners change roles",
            )?;
            allow_if(
                rank.at_least(Role::Owner) || (rank.above(target) && rank.at_least(to)),
                "nobody changes a role above their own",
            )
        }
        Change::UpdateRoom => allow_if(
            rank.at_least(Role::Admin),
            "only admins and owners change a room",
        ),
        Change::SetActive => allow_if(
            rank.at_least(Role::Owner),
            "only the owner deactivates a room",
        ),
        Change::Pin | Change::DeleteLate | Change::Report => moderation::rule(rank, kind, change),
    }
}

// moderation (issue 17)
mod moderation;
pub use moderation::{may_reach, NOT_REACHABLE};

#[cfg(test)]
mod tests;
