//! Rooms: lists, creation (also direct and by platform reference), changes, membership, reads.
//! One file per resource; the helpers every one of them uses (who may see a room, my view of
//! it, writes through the room's actor) are here.

pub mod create;
pub mod list;
pub mod manage;
pub mod members;
pub mod read_state;

use std::collections::HashMap;

use actix_web::web;
use uuid::Uuid;

use super::endpoint::Endpoint;
use crate::actors::presence::NotifyUsers;
use crate::actors::supervisor;
use crate::auth::AuthUser;
use crate::commands::{access, Caller, Command, Outcome};
use crate::config::Settings;
use crate::db;
use crate::db::listing::{ListFilter, RoomRow};
use crate::db::models::Room;
use crate::db::notifications::NotifySettings;
use crate::error::AppResult;
use crate::policy::Access;
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::protocol::views::{MessageView, RoomView, UserView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/chat/rooms")
            .get(list::list)
            .post(create::create)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/direct")
            .post(create::direct)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/unread_counts")
            .get(list::unread_counts)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/public")
            .get(list::public)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/by-ref/{kind}/{ref_id}")
            .get(create::get_by_ref)
            .put(create::put_by_ref)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}")
            .get(manage::get)
            .patch(manage::patch)
            .put(manage::put)
            .delete(manage::deactivate)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/join")
            .post(members::join)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/leave")
            .post(members::leave)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/archive")
            .post(read_state::archive)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/unarchive")
            .post(read_state::unarchive)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/mark_read")
            .post(read_state::mark_read)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/typing")
            .get(read_state::typing)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/members")
            .get(members::members)
            .post(members::add_member)
            .build(),
    )
    .service(
        Endpoint::new("/api/chat/rooms/{room_id}/members/{user_id}")
            .patch(members::set_role)
            .delete(members::remove_member)
            .build(),
    );
}

/// The room if the caller may see it: a member, a trusted (admin/service) caller of its tenant,
/// or anyone of the tenant for a public room. Everything else is 404.
pub async fn visible_room(
    conn: &mut db::Conn,
    user: &AuthUser,
    room_id: Uuid,
) -> AppResult<(Room, Option<String>)> {
    room_with(conn, user, room_id, Access::See).await
}

/// The room if the caller is a current member (or trusted); 404 otherwise.
pub async fn member_room(
    conn: &mut db::Conn,
    user: &AuthUser,
    room_id: Uuid,
) -> AppResult<(Room, Option<String>)> {
    room_with(conn, user, room_id, Access::Read).await
}

/// The room and the caller's role in it, when the policy grants `access`.
/// The room if the caller is a member of it (not only trusted); 404 otherwise.
pub async fn own_room(
    conn: &mut db::Conn,
    user: &AuthUser,
    room_id: Uuid,
) -> AppResult<(Room, Option<String>)> {
    room_with(conn, user, room_id, Access::AsMember).await
}

async fn room_with(
    conn: &mut db::Conn,
    user: &AuthUser,
    room_id: Uuid,
    access: Access,
) -> AppResult<(Room, Option<String>)> {
    let (room, role) = access::room(conn, &Caller::from_auth(user), room_id, access).await?;
    Ok((room, role.map(|r| r.as_str().to_owned())))
}

/// Tells the other first members of a new room (on every node) that they are in it.
pub fn announce(state: &AppState, room: &Room, members: Vec<Uuid>, creator: Uuid) {
    let others: Vec<Uuid> = members.into_iter().filter(|m| *m != creator).collect();
    if others.is_empty() {
        return;
    }
    let frame = ServerFrame::RoomAdded {
        room: Box::new(RoomView::build(room, 0)),
    };
    state.presence.do_send(NotifyUsers {
        user_ids: others,
        frame: frame_text(&frame),
        ephemeral: false,
        relay: true,
    });
}

/// My view of rooms: the counts, last message and, for direct rooms, the other user.
async fn decorate(
    conn: &mut db::Conn,
    settings: &Settings,
    me: Uuid,
    rows: Vec<RoomRow>,
) -> AppResult<Vec<RoomView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.room.id).collect();
    let last = db::listing::last_messages(conn, &ids).await?;
    let defaults = settings.notifications.defaults();
    let mut notify: HashMap<Uuid, NotifySettings> =
        db::notifications::levels(conn, me, &ids, defaults)
            .await?
            .into_iter()
            .map(|r| (r.room_id, r.settings))
            .collect();
    let direct: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.room.room_type == "direct")
        .map(|r| r.room.id)
        .collect();
    let others: HashMap<Uuid, UserView> = db::listing::other_members(conn, &direct, me)
        .await?
        .iter()
        .map(|(room, u)| (*room, UserView::from(u)))
        .collect();
    let mut last_by_room: HashMap<Uuid, MessageView> = super::messages::views(conn, &last)
        .await?
        .into_iter()
        .map(|v| (v.room_id, v))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut v = RoomView::build(&r.room, r.member_count);
            v.last_message = last_by_room.remove(&r.room.id);
            v.unread_count = Some(r.unread_count);
            v.mention_count = Some(r.mention_count);
            v.my_role = Some(r.my_role);
            v.archived = Some(r.archived);
            v.muted = Some(r.muted);
            if let Some(n) = notify.remove(&r.room.id) {
                v.notify = Some(n.level);
                v.muted_until = n.muted_until;
            }
            v.other_user = others.get(&r.room.id).cloned();
            v
        })
        .collect())
}

/// The room as the caller sees it (with my counts when a member).
async fn room_view(
    conn: &mut db::Conn,
    settings: &Settings,
    user: &AuthUser,
    room: &Room,
) -> AppResult<RoomView> {
    let filter = ListFilter {
        archived: None,
        room_type: None,
        cursor: None,
        room_id: Some(room.id),
        limit: 1,
        offset: 0,
    };
    let rows = db::listing::my_rooms(conn, user.id, &filter).await?;
    match decorate(conn, settings, user.id, rows)
        .await?
        .into_iter()
        .next()
    {
        Some(v) => Ok(v),
        None => {
            let count = db::rooms::member_count(conn, room.id).await?;
            Ok(RoomView::build(room, count))
        }
    }
}

/// Sends a write through the room's actor (so connected clients see it with its seq).
pub async fn write(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    command: Command,
) -> AppResult<Outcome> {
    let caller = Caller::from_auth(user);
    supervisor::apply(&state.supervisor, room_id.into(), caller, command).await
}
