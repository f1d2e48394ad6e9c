//! Commands: one typed command per change to a room, each in its own file with its validation
//! (`parse`), its policy question (`change`) and its apply step. Entry points (REST, WebSocket,
//! dialects) only build commands and render outcomes; the room actor asks `check` before a command
//! is queued, the committer runs `apply` inside the room's transaction.

pub mod access;
mod add_member;
mod batch;
mod caller;
pub mod create_room;
mod delete;
pub mod direct;
mod edit;
mod join;
mod mark_read;
mod outcome;
mod rate;
mod react;
mod remove_member;
pub mod send;
mod set_role;
mod update_room;
// Seeds 001 and 003 (dialect issue 13):
mod notice;
pub mod support;
// Issue 14: a member's own notification settings (no room event; not a `Command` variant).
pub mod notify_defaults;
pub mod notify_settings;
pub mod webhooks;

// ---- moderation (issue 17) ----
pub mod audit;
pub mod ban;
pub mod blocks;
mod pin;
pub mod reports;
pub mod retention;
pub use pin::PinMessage;

// ---- link previews (issue 20) ----
mod link_preview;
pub use link_preview::AttachLinkPreview;

pub use add_member::AddMember;
pub use batch::{all_written, facts, may, standing, Batch, Known, Shared};
pub use caller::Caller;
pub use create_room::{CreateRoom, RoomDraft};
pub use delete::DeleteMessage;
pub use edit::EditMessage;
pub use join::JoinRoom;
pub use mark_read::MarkRead;
pub use outcome::{Applied, Event, MemberChange, MemberInfo, Members, Outcome};
pub use rate::RateLimits;
pub use react::React;
pub use remove_member::RemoveMember;
pub use send::{Draft, SendMessage};
pub use set_role::SetRole;
pub use update_room::UpdateRoom;
// Seed 003 (dialect issue 13):
pub use support::SupportConversation;

use crate::db::{self, models::Room};
use crate::error::AppResult;

/// A change to a room. Every one that changes something takes the room's next seq.
#[derive(Debug, Clone)]
pub enum Command {
    Send(SendMessage),
    Edit(EditMessage),
    Delete(DeleteMessage),
    React(React),
    MarkRead(MarkRead),
    Join(JoinRoom),
    AddMember(AddMember),
    RemoveMember(RemoveMember),
    SetRole(SetRole),
    UpdateRoom(UpdateRoom),
    // moderation (issue 17)
    Pin(PinMessage),
    // issue 20
    LinkPreview(AttachLinkPreview),
}

impl Command {
    /// What the room actor's cache can tell before anything is written (the policy, with the
    /// members as the actor knows them). `apply` asks again with what the transaction reads.
    pub fn check(&self, room: &Room, members: &Members, caller: &Caller) -> AppResult<()> {
        let change = match self {
            Command::Send(c) => c.change(),
            Command::Edit(c) => c.change(),
            Command::Delete(c) => c.change(),
            Command::React(c) => c.change(),
            Command::MarkRead(c) => c.change(),
            Command::Join(c) => c.change(members, caller)?,
            Command::AddMember(c) => c.change(members, caller),
            Command::RemoveMember(c) => c.change(members, caller)?,
            Command::SetRole(c) => c.change(members)?,
            Command::UpdateRoom(c) => c.change(),
            Command::Pin(c) => c.change(),
            Command::LinkPreview(c) => c.change(),
        };
        may(room, members, caller, change)
    }

    /// Applies the command inside the transaction: checks against what the database holds (an
    /// error leaves nothing written), then writes and takes a seq for its event.
    pub async fn apply(
        &self,
        c: &mut db::Conn,
        b: &mut Batch<'_>,
        shared: &mut Shared,
        caller: &Caller,
    ) -> diesel::QueryResult<AppResult<Applied>> {
        match self {
            Command::Send(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::Edit(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::Delete(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::React(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::MarkRead(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::Join(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::AddMember(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::RemoveMember(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::SetRole(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::UpdateRoom(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::Pin(cmd) => cmd.apply(c, b, shared, caller).await,
            Command::LinkPreview(cmd) => cmd.apply(c, b, shared, caller).await,
        }
    }

    /// The client_id of a send that carries one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Command::Send(s) => s.client_id.as_deref(),
            _ => None,
        }
    }
}
