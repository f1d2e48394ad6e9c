//! Seed 001's `/chat/rooms/…`: list, create, detail, update (PUT), delete (deactivate), join,
//! leave, participants and messages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{AcademiaParticipant, AcademiaRoom, COURSE_KIND};
use crate::auth::AuthUser;
use crate::commands::create_room::{external_ref, may_claim_reference};
use crate::commands::{
    access, Caller, Command, CreateRoom, JoinRoom, RemoveMember, RoomDraft, SupportConversation,
    UpdateRoom,
};
use crate::db::{self, models::Room};
use crate::dialects::wasgo::messages::room_page;
use crate::dialects::wasgo::rest::{both, get_or_post_only, query, write, WasgoResult};
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/chat/rooms/", || web::get().to(list));
    both(cfg, "/chat/rooms/", || web::post().to(create));
    both(cfg, "/chat/rooms/", || web::route().to(get_or_post_only));
    both(cfg, "/chat/rooms/{id}/", || web::get().to(detail));
    both(cfg, "/chat/rooms/{id}/", || web::put().to(update));
    both(cfg, "/chat/rooms/{id}/", || web::delete().to(remove));
    both(cfg, "/chat/rooms/{id}/join/", || web::post().to(join));
    both(cfg, "/chat/rooms/{id}/leave/", || web::post().to(leave));
    both(cfg, "/chat/rooms/{id}/participants/", || {
        web::get().to(participants)
    });
    both(cfg, "/chat/rooms/{id}/messages/", || {
        web::get().to(messages)
    });
}

/// 001's room object of `room`.
async fn room_of(state: &AppState, conn: &mut db::Conn, room: &Room) -> AppResult<AcademiaRoom> {
    let count = db::rooms::member_count(conn, room.id).await?;
    Ok(AcademiaRoom::new(
        room,
        count,
        state.settings.limits.max_room_members,
    ))
}

/// The room if the caller may `access` it (404 otherwise, other tenants included).
async fn room_with(state: &AppState, user: &AuthUser, id: Uuid, access: Access) -> AppResult<Room> {
    let mut conn = state.pool.get().await?;
    Ok(
        access::room(&mut conn, &Caller::from_auth(user), id, access)
            .await?
            .0,
    )
}

/// `GET /chat/rooms/`: the caller's rooms, then the tenant's public rooms it may join (a plain
/// list, as DRF without pagination).
async fn list(state: web::Data<AppState>, user: Result<AuthUser, AppError>) -> WasgoResult {
    let user = user?;
    let mut conn = state.pool.get().await?;
    let mine = db::listing::unread_counts(&mut conn, user.id).await?;
    let mut rooms = Vec::new();
    for row in &mine {
        rooms.push(AcademiaRoom::new(
            &row.room,
            row.member_count,
            state.settings.limits.max_room_members,
        ));
    }
    let max = state.settings.limits.max_page_size;
    for found in db::listing::public_rooms(&mut conn, user.tenant_id, user.id, max).await? {
        if !rooms.iter().any(|r| r.id == found.room.id) {
            rooms.push(AcademiaRoom::new(
                &found.room,
                found.member_count,
                state.settings.limits.max_room_members,
            ));
        }
    }
    Ok(HttpResponse::Ok().json(rooms))
}

#[derive(Deserialize)]
struct CreateBody {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    chat_type: Option<String>,
    /// The course id of a `course` room.
    #[serde(default)]
    course: Option<serde_json::Value>,
    #[serde(default)]
    max_participants: Option<i32>,
    /// User ids to add (UUIDs or the platform's integers).
    #[serde(default)]
    participants: Vec<serde_json::Value>,
}

/// `POST /chat/rooms/ {name, description, chat_type, course, max_participants}`: `public` is a
/// public room, `private` a group, `course` a public room of the course (trusted callers only),
/// `support` a support conversation; 201.
async fn create(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let body: CreateBody = parse_json(&body)?;
    let caller = Caller::from_auth(&user);
    let mut conn = state.pool.get().await?;
    let chat_type = body.chat_type.as_deref().unwrap_or("public");
    if chat_type == "support" {
        let command = SupportConversation::parse(Some("general"), body.name.as_deref())?;
        let room = command.apply(&mut conn, &state.settings, &caller).await?;
        crate::dialects::wasgo::rest::announce(&state, &mut conn, &room, user.id).await?;
        return Ok(
            HttpResponse::build(StatusCode::CREATED).json(room_of(&state, &mut conn, &room).await?)
        );
    }
    let (room_type, reference) = match (chat_type, &body.course) {
        ("public", _) => ("public", None),
        ("private", _) => ("group", None),
        ("course", Some(course)) => {
            may_claim_reference(&caller)?;
            let id = match course {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ("public", Some(external_ref(COURSE_KIND, &id)?))
        }
        ("course", None) => {
            return Err(AppError::bad_request("course", "a course room needs its course").into())
        }
        _ => {
            return Err(AppError::bad_request(
                "chat_type",
                "chat_type must be public, private, course or support",
            )
            .into())
        }
    };
    let participant_ids = body
        .participants
        .iter()
        .map(|v| {
            crate::auth::claims::platform_user_id(v).ok_or_else(|| {
                AppError::bad_request("participants", "participants must be user ids")
            })
        })
        .collect::<AppResult<Vec<Uuid>>>()?;
    let draft = RoomDraft {
        name: body.name.as_deref(),
        room_type,
        description: body.description.as_deref(),
        participant_ids: &participant_ids,
        max_participants: body.max_participants,
    };
    let command = CreateRoom::parse(&state.settings, &caller, &draft, reference)?;
    let room = command.apply(&mut conn, &caller).await?;
    crate::dialects::wasgo::rest::announce(&state, &mut conn, &room, user.id).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(room_of(&state, &mut conn, &room).await?))
}

async fn detail(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    let room = room_with(&state, &user, id, Access::See).await?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(room_of(&state, &mut conn, &room).await?))
}

#[derive(Deserialize)]
struct UpdateBody {
    name: Option<String>,
    description: Option<String>,
    max_participants: Option<i32>,
}

/// `PUT /chat/rooms/{id}/ {name, description, max_participants}`: `UpdateRoom` (absent fields
/// stay); the room.
async fn update(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    let body: UpdateBody = parse_json(&body)?;
    let update = UpdateRoom::parse(
        &state.settings,
        body.name.as_deref(),
        body.description.as_deref(),
        body.max_participants.map(Some),
    )?;
    room_with(&state, &user, id, Access::Read).await?;
    write(&state, &user, id, Command::UpdateRoom(update)).await?;
    let room = room_with(&state, &user, id, Access::Read).await?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(room_of(&state, &mut conn, &room).await?))
}

/// `DELETE /chat/rooms/{id}/`: the room is deactivated (its history stays); 204.
async fn remove(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    room_with(&state, &user, id, Access::Read).await?;
    write(
        &state,
        &user,
        id,
        Command::UpdateRoom(UpdateRoom::deactivate()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /chat/rooms/{id}/join/`: `JoinRoom` (public and course rooms; the participant cap
/// holds); `{status: "joined"}`.
async fn join(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    room_with(&state, &user, id, Access::See).await?;
    write(&state, &user, id, Command::Join(JoinRoom)).await?;
    Ok(HttpResponse::Ok().json(super::views::AcademiaStatus {
        status: "joined".into(),
    }))
}

/// `POST /chat/rooms/{id}/leave/`: `RemoveMember` of oneself; `{status: "left"}`.
async fn leave(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    room_with(&state, &user, id, Access::Read).await?;
    write(
        &state,
        &user,
        id,
        Command::RemoveMember(RemoveMember {
            user_id: user.id.into(),
        }),
    )
    .await?;
    Ok(HttpResponse::Ok().json(super::views::AcademiaStatus {
        status: "left".into(),
    }))
}

async fn participants(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    let room = room_with(&state, &user, id, Access::Read).await?;
    let mut conn = state.pool.get().await?;
    let members = db::rooms::active_members(&mut conn, room.id).await?;
    let body: Vec<AcademiaParticipant> = members
        .iter()
        .map(|(m, u)| AcademiaParticipant::new(m, u))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
    page_size: Option<i64>,
}

/// `GET /chat/rooms/{id}/messages/?page=&page_size=`: oldest first, DRF's page.
async fn messages(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let q: PageQuery = query(&req)?;
    room_page(
        &state,
        &req,
        &user,
        crate::dialects::ids::room(&state, &user, &path).await?,
        (q.page, q.page_size),
        "",
    )
    .await
}
