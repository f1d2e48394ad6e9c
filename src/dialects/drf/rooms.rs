//! Seed 004's rooms at their slashed paths: the page-numbered list, create, retrieve and update
//! in 004's room object, and room-level `mark_read` and `leave` with 004's answers.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::rest::{page_answer, DrfResult, Paging};
use super::slashed::register;
use super::views::{DrfMessage, DrfRoom, DrfStatus, DrfUser};
use crate::auth::AuthUser;
use crate::commands::UpdateRoom;
use crate::commands::{access, Caller, Command, CreateRoom, MarkRead, RemoveMember, RoomDraft};
use crate::db::listing::{ListFilter, RoomRow};
use crate::db::{self, models::Room};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::routes::messages::{signed, views};
use crate::routes::rooms::write;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let room = "/api/chat/rooms/{room_id}";
    register(cfg, "/api/chat/rooms", guard::Get(), web::get().to(list));
    register(
        cfg,
        "/api/chat/rooms",
        guard::Post(),
        web::post().to(create),
    );
    register(cfg, room, guard::Get(), web::get().to(retrieve));
    register(cfg, room, guard::Patch(), web::patch().to(update));
    register(cfg, room, guard::Put(), web::put().to(update));
    let mark_read_path = format!("{room}/mark_read");
    register(
        cfg,
        &mark_read_path,
        guard::Post(),
        web::post().to(mark_read),
    );
    let leave_path = format!("{room}/leave");
    register(cfg, &leave_path, guard::Post(), web::post().to(leave));
}

/// 004's room objects for `rooms` (with the caller's unread count of each), in their order.
pub async fn drf_rooms(
    state: &AppState,
    user: &AuthUser,
    rooms: Vec<(Room, i64)>,
) -> AppResult<Vec<DrfRoom>> {
    let ids: Vec<Uuid> = rooms.iter().map(|(r, _)| r.id).collect();
    let mut conn = state.pool.get().await?;
    let mut members: HashMap<Uuid, Vec<DrfUser>> = HashMap::new();
    for (m, u) in db::rooms::active_members_of(&mut conn, &ids).await? {
        members
            .entry(m.room_id)
            .or_default()
            .push(DrfUser::from(&u));
    }
    let last = db::listing::last_messages(&mut conn, &ids).await?;
    let mut last: HashMap<Uuid, DrfMessage> = signed(state, user, views(&mut conn, &last).await?)
        .iter()
        .map(|m| (m.room_id, DrfMessage::from_view(m, Vec::new())))
        .collect();
    Ok(rooms
        .into_iter()
        .map(|(room, unread_count)| {
            let participants = members.remove(&room.id).unwrap_or_default();
            let find = |id: Option<Uuid>| participants.iter().find(|u| Some(u.id) == id).cloned();
            let other = participants
                .iter()
                .find(|u| u.id != user.id && room.room_type == "direct")
                .cloned();
            DrfRoom {
                id: room.id,
                name: room.name.clone(),
                room_type: room.room_type.clone(),
                created_by: find(room.created_by),
                participants,
                created_at: time::format(&room.created_at),
                updated_at: time::format(&room.updated_at),
                is_active: room.is_active,
                last_message: last.remove(&room.id),
                unread_count,
                other_user: other,
            }
        })
        .collect())
}

/// 004's room object of one room the caller may see.
pub async fn drf_room(state: &AppState, user: &AuthUser, room: Room) -> AppResult<DrfRoom> {
    let mut conn = state.pool.get().await?;
    let filter = ListFilter {
        archived: None,
        room_type: None,
        cursor: None,
        room_id: Some(room.id),
        limit: 1,
        offset: 0,
    };
    let rows = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
    drop(conn);
    let unread = rows.first().map_or(0, |r| r.unread_count);
    let mut one = drf_rooms(state, user, vec![(room, unread)]).await?;
    one.pop()
        .ok_or_else(|| AppError::internal("no room object was built"))
}

/// `GET /api/chat/rooms/?page=&page_size=`: the caller's rooms, newest activity first.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> DrfResult {
    let user = user?;
    let (page, size) = Paging::of(&req)?.resolve(state.settings.limits.max_page_size)?;
    let mut conn = state.pool.get().await?;
    let count = db::listing::count_my_rooms(&mut conn, user.id).await?;
    let filter = ListFilter {
        archived: None,
        room_type: None,
        cursor: None,
        room_id: None,
        limit: size,
        offset: (page - 1) * size,
    };
    let rows: Vec<RoomRow> = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
    drop(conn);
    let rooms = rows.into_iter().map(|r| (r.room, r.unread_count)).collect();
    let results = drf_rooms(&state, &user, rooms).await?;
    Ok(page_answer(&req, (page, size), count, results)?)
}

/// 004's create body; `project` rooms are Confab groups (docs/DIALECTS.md).
#[derive(Deserialize)]
struct CreateBody {
    name: Option<String>,
    room_type: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    participant_ids: Vec<serde_json::Value>,
}

/// `POST /api/chat/rooms/ {name, room_type, participant_ids}`: 201 and 004's room object.
async fn create(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let body: CreateBody = parse_json(&body)?;
    let participant_ids = body
        .participant_ids
        .iter()
        .map(|v| {
            crate::auth::claims::platform_user_id(v).ok_or_else(|| {
                AppError::bad_request("participant_ids", "participant_ids must be user ids")
            })
        })
        .collect::<AppResult<Vec<Uuid>>>()?;
    let room_type = match body.room_type.as_str() {
        "project" => "group",
        other => other,
    };
    let draft = RoomDraft {
        name: body.name.as_deref(),
        room_type,
        description: body.description.as_deref(),
        participant_ids: &participant_ids,
        max_participants: None,
    };
    let caller = Caller::from_auth(&user);
    let command = CreateRoom::parse(&state.settings, &caller, &draft, None)?;
    let mut conn = state.pool.get().await?;
    let room = command.apply(&mut conn, &caller).await?;
    drop(conn);
    crate::routes::rooms::announce(&state, &room, command.participants, user.id);
    let body = drf_room(&state, &user, room).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(body))
}

/// `GET /api/chat/rooms/{id}/`: 004's room object.
async fn retrieve(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
) -> DrfResult {
    let user = user?;
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let (room, _) = access::room(&mut conn, &caller, path.into_inner(), Access::See).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(drf_room(&state, &user, room).await?))
}

#[derive(Deserialize)]
struct UpdateBody {
    name: Option<String>,
    description: Option<String>,
}

/// `PATCH` or `PUT /api/chat/rooms/{id}/ {name?, description?}`: the changed room.
async fn update(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
    body: web::Bytes,
) -> DrfResult {
    let user = user?;
    let room_id = path.into_inner();
    let body: UpdateBody = parse_json(&body)?;
    let update = UpdateRoom::parse(
        &state.settings,
        body.name.as_deref(),
        body.description.as_deref(),
        None,
    )?;
    write(&state, &user, room_id, Command::UpdateRoom(update)).await?;
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    let (room, _) = access::room(&mut conn, &caller, room_id, Access::See).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(drf_room(&state, &user, room).await?))
}

/// `POST /api/chat/rooms/{id}/mark_read/`: everything read; `count` is how many messages that
/// marked (the unread count before).
async fn mark_read(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
) -> DrfResult {
    let user = user?;
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    let caller = Caller::from_auth(&user);
    access::room(&mut conn, &caller, room_id, Access::Read).await?;
    let before = db::rooms::membership(&mut conn, room_id, user.id)
        .await?
        .map_or(0, |m| m.last_read_seq);
    let (unread, _) = db::messages::unread(&mut conn, room_id, user.id, before).await?;
    drop(conn);
    let out = write(
        &state,
        &user,
        room_id,
        Command::MarkRead(MarkRead::parse(None)?),
    )
    .await?;
    let count = unread - out.unread_count.unwrap_or(0);
    Ok(HttpResponse::Ok().json(DrfStatus::marked_read(count.max(0))))
}

/// `POST /api/chat/rooms/{id}/leave/`: `{status: "left room"}` (not for direct rooms).
async fn leave(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<Uuid>,
) -> DrfResult {
    let user = user?;
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    access::room(&mut conn, &Caller::from_auth(&user), room_id, Access::Read).await?;
    drop(conn);
    let leave = RemoveMember {
        user_id: user.id.into(),
    };
    write(&state, &user, room_id, Command::RemoveMember(leave)).await?;
    Ok(HttpResponse::Ok().json(DrfStatus::left_room()))
}
