//! Rooms: lists, creation (also direct and by platform reference), changes, membership, reads.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::Json;
use super::openapi::{BadRequest, ErrorEnvelope, NotFound, Results, TooLarge, Unauthorized};
use super::users::double_option;
use crate::actors::presence::NotifyUsers;
use crate::actors::room::ListTyping;
use crate::actors::supervisor;
use crate::auth::{AuthUser, Role as TokenRole};
use crate::commands::{
    access, AddMember, Caller, Command, JoinRoom, MarkRead, Outcome, RemoveMember, SetRole,
    UpdateRoom,
};
use crate::db;
use crate::db::listing::{ListFilter, RoomRow};
use crate::db::models::{NewRoom, Room};
use crate::domain;
use crate::domain::role::Role;
use crate::error::{is_unique_violation, AppError, AppResult};
use crate::policy::Access;
use crate::protocol::frames::frame_text;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::{MemberView, MessageView, RoomView, UserView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/chat/rooms", web::get().to(list))
        .route("/api/chat/rooms", web::post().to(create))
        .route("/api/chat/rooms/direct", web::post().to(direct))
        .route(
            "/api/chat/rooms/unread_counts",
            web::get().to(unread_counts),
        )
        .route("/api/chat/rooms/public", web::get().to(public))
        .route(
            "/api/chat/rooms/by-ref/{kind}/{ref_id}",
            web::get().to(get_by_ref),
        )
        .route(
            "/api/chat/rooms/by-ref/{kind}/{ref_id}",
            web::put().to(put_by_ref),
        )
        .route("/api/chat/rooms/{room_id}", web::get().to(get))
        .route("/api/chat/rooms/{room_id}", web::patch().to(patch))
        .route("/api/chat/rooms/{room_id}", web::delete().to(deactivate))
        .route("/api/chat/rooms/{room_id}/join", web::post().to(join))
        .route("/api/chat/rooms/{room_id}/leave", web::post().to(leave))
        .route("/api/chat/rooms/{room_id}/archive", web::post().to(archive))
        .route(
            "/api/chat/rooms/{room_id}/unarchive",
            web::post().to(unarchive),
        )
        .route(
            "/api/chat/rooms/{room_id}/mark_read",
            web::post().to(mark_read),
        )
        .route("/api/chat/rooms/{room_id}/typing", web::get().to(typing))
        .route("/api/chat/rooms/{room_id}/members", web::get().to(members))
        .route(
            "/api/chat/rooms/{room_id}/members",
            web::post().to(add_member),
        )
        .route(
            "/api/chat/rooms/{room_id}/members/{user_id}",
            web::patch().to(set_role),
        )
        .route(
            "/api/chat/rooms/{room_id}/members/{user_id}",
            web::delete().to(remove_member),
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
fn announce(state: &AppState, room: &Room, members: Vec<Uuid>, creator: Uuid) {
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
async fn decorate(conn: &mut db::Conn, me: Uuid, rows: Vec<RoomRow>) -> AppResult<Vec<RoomView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.room.id).collect();
    let last = db::listing::last_messages(conn, &ids).await?;
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
            v.other_user = others.get(&r.room.id).cloned();
            v
        })
        .collect())
}

/// The room as the caller sees it (with my counts when a member).
async fn room_view(conn: &mut db::Conn, user: &AuthUser, room: &Room) -> AppResult<RoomView> {
    let filter = ListFilter {
        archived: None,
        room_type: None,
        cursor: None,
        room_id: Some(room.id),
        limit: 1,
    };
    let rows = db::listing::my_rooms(conn, user.id, &filter).await?;
    match decorate(conn, user.id, rows).await?.into_iter().next() {
        Some(v) => Ok(v),
        None => {
            let count = db::rooms::member_count(conn, room.id).await?;
            Ok(RoomView::build(room, count))
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only archived (true) or only unarchived (false) rooms.
    archived: Option<bool>,
    /// `direct`, `group`, `channel` or `public`.
    room_type: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size (default 50).
    limit: Option<i64>,
}

// ---- answer shapes, for the OpenAPI document ---------------------------------------------------

/// A page of the caller's rooms, most recently active first.
#[derive(ToSchema)]
pub struct RoomPage {
    pub results: Vec<RoomView>,
    /// Give as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Unread counts of one room.
#[derive(ToSchema)]
pub struct RoomUnread {
    pub unread: i64,
    pub mentions: i64,
    pub last_seq: i64,
}

/// Unread counts summed over the caller's rooms.
#[derive(ToSchema)]
pub struct UnreadTotal {
    pub unread: i64,
    pub mentions: i64,
}

/// The caller's unread counts, by room id and in total.
#[derive(ToSchema)]
pub struct UnreadCounts {
    pub rooms: HashMap<Uuid, RoomUnread>,
    pub total: UnreadTotal,
}

/// Whether the room is archived for the caller.
#[derive(ToSchema)]
pub struct ArchiveState {
    pub room_id: Uuid,
    pub archived: bool,
}

/// The caller's read state in a room after marking it read.
#[derive(ToSchema)]
pub struct ReadState {
    pub room_id: Uuid,
    pub last_read_seq: Option<i64>,
    pub unread_count: Option<i64>,
    pub mention_count: Option<i64>,
    pub last_seq: i64,
}

/// Who is typing in a room (the caller left out).
#[derive(ToSchema)]
pub struct Typing {
    pub room_id: Uuid,
    pub user_ids: Vec<Uuid>,
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}:{}",
        at.timestamp_micros(),
        id
    ))
}

fn decode_cursor(raw: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let bad = || AppError::bad_request("cursor", "cursor is not one this server gave out");
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// The caller's rooms, a page at a time.
#[utoipa::path(
    get,
    path = "/api/chat/rooms",
    operation_id = "rooms_list",
    params(ListQuery),
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of rooms", body = RoomPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, state.settings.limits.max_page_size);
    if let Some(t) = &q.room_type {
        if !["direct", "group", "channel", "public"].contains(&t.as_str()) {
            return Err(AppError::bad_request(
                "room_type",
                "room_type must be direct, group, channel or public",
            ));
        }
    }
    let filter = ListFilter {
        archived: q.archived,
        room_type: q.room_type.clone(),
        cursor: q.cursor.as_deref().map(decode_cursor).transpose()?,
        room_id: None,
        limit: limit + 1,
    };
    let mut conn = state.pool.get().await?;
    let mut rows = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(r.activity_at, r.room.id))
    } else {
        None
    };
    let results = decorate(&mut conn, user.id, rows).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results, "next_cursor": next })))
}

#[derive(Deserialize, ToSchema)]
struct RefBody {
    kind: String,
    id: String,
}

#[derive(Deserialize, ToSchema)]
struct CreateBody {
    name: Option<String>,
    room_type: String,
    description: Option<String>,
    #[serde(default)]
    participant_ids: Vec<Uuid>,
    external_ref: Option<RefBody>,
    max_participants: Option<i32>,
}

fn external_ref(kind: &str, id: &str) -> AppResult<(String, String)> {
    let ok_kind = (1..=32).contains(&kind.len())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_kind {
        return Err(AppError::bad_request(
            "external_ref.kind",
            "kind must be 1 to 32 of a-z, 0-9, _",
        ));
    }
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "external_ref.id",
            "id must be 1 to 128 characters",
        ));
    }
    Ok((kind.to_owned(), id.to_owned()))
}

/// A room as the body asks for it, validated; answers the new room and its first members.
async fn create_room(
    state: &AppState,
    user: &AuthUser,
    body: &CreateBody,
    reference: Option<(String, String)>,
) -> AppResult<Room> {
    let room_type = body.room_type.as_str();
    if !["group", "channel", "public"].contains(&room_type) {
        let hint = if room_type == "direct" {
            ": use POST /api/chat/rooms/direct"
        } else {
            ""
        };
        return Err(AppError::bad_request(
            "room_type",
            format!("room_type must be group, channel or public{hint}"),
        ));
    }
    let name = domain::text("name", body.name.as_deref().unwrap_or(""), 1, 100, false)?;
    let description = domain::text(
        "description",
        body.description.as_deref().unwrap_or(""),
        0,
        1000,
        true,
    )?;
    let max = state.settings.limits.max_room_members;
    if let Some(m) = body.max_participants {
        if !(1..=max).contains(&m) {
            return Err(AppError::bad_request(
                "max_participants",
                format!("max_participants must be 1 to {max}"),
            ));
        }
    }
    let mut participants: Vec<Uuid> = body
        .participant_ids
        .iter()
        .copied()
        .filter(|p| *p != user.id)
        .collect();
    participants.sort();
    participants.dedup();
    let creator_joins = user.role != TokenRole::Service;
    let total = participants.len() + usize::from(creator_joins);
    if total as i64 > i64::from(body.max_participants.unwrap_or(max)) {
        return Err(AppError::Conflict(
            "more participants than the room allows".into(),
        ));
    }
    let mut conn = state.pool.get().await?;
    let found = db::users::existing_in_tenant(&mut conn, user.tenant_id, &participants).await?;
    if found.len() != participants.len() {
        return Err(AppError::bad_request(
            "participant_ids",
            "every participant must be a user of your tenant",
        ));
    }
    let mut members: Vec<(Uuid, &str)> = participants.iter().map(|p| (*p, "member")).collect();
    if creator_joins {
        members.insert(0, (user.id, "owner"));
    }
    let new = NewRoom {
        tenant_id: user.tenant_id,
        name: &name,
        description: &description,
        room_type,
        external_ref_kind: reference.as_ref().map(|r| r.0.as_str()),
        external_ref_id: reference.as_ref().map(|r| r.1.as_str()),
        direct_key: None,
        created_by: Some(user.id),
        max_participants: body.max_participants,
    };
    let room = db::rooms::create(&mut conn, &new, &members)
        .await
        .map_err(|e| {
            AppError::unique_or_internal(e, "a room with this external_ref already exists")
        })?;
    announce(state, &room, participants, user.id);
    Ok(room)
}

/// Create a group, channel or public room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms",
    operation_id = "rooms_create",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, description = "More participants than the room allows, or the external_ref is taken", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<CreateBody>,
) -> AppResult<HttpResponse> {
    let reference = body
        .external_ref
        .as_ref()
        .map(|r| external_ref(&r.kind, &r.id))
        .transpose()?;
    let room = create_room(&state, &user, &body, reference).await?;
    let mut conn = state.pool.get().await?;
    let view = room_view(&mut conn, &user, &room).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, ToSchema)]
struct DirectBody {
    user_id: Uuid,
}

/// The direct room of a pair: the existing one, or a new one; concurrent first calls make one.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/direct",
    operation_id = "rooms_direct",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The existing direct room", body = RoomView),
        (status = 201, description = "A new direct room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Service tokens do not chat", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn direct(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<DirectBody>,
) -> AppResult<HttpResponse> {
    if body.user_id == user.id {
        return Err(AppError::bad_request(
            "user_id",
            "a direct room needs another user",
        ));
    }
    if user.role == TokenRole::Service {
        return Err(AppError::Forbidden("service tokens do not chat".into()));
    }
    let mut conn = state.pool.get().await?;
    let other = db::users::find_in_tenant(&mut conn, user.tenant_id, body.user_id)
        .await?
        .filter(|u| u.role != "service")
        .ok_or(AppError::NotFound)?;
    let (a, b) = if user.id < other.id {
        (user.id, other.id)
    } else {
        (other.id, user.id)
    };
    let key = format!("{a}:{b}");
    if let Some(room) = db::rooms::find_direct(&mut conn, user.tenant_id, &key).await? {
        return Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?));
    }
    let name = format!("{} & {}", user.display_name, other.display_name);
    let name: String = name.chars().take(100).collect();
    let new = NewRoom {
        tenant_id: user.tenant_id,
        name: &name,
        description: "",
        room_type: "direct",
        external_ref_kind: None,
        external_ref_id: None,
        direct_key: Some(&key),
        created_by: Some(user.id),
        max_participants: Some(2),
    };
    match db::rooms::create(&mut conn, &new, &[(user.id, "owner"), (other.id, "owner")]).await {
        Ok(room) => {
            announce(&state, &room, vec![other.id], user.id);
            Ok(HttpResponse::Created().json(room_view(&mut conn, &user, &room).await?))
        }
        // The other user asked at the same moment: theirs is the room.
        Err(e) if is_unique_violation(&e) => {
            let room = db::rooms::find_direct(&mut conn, user.tenant_id, &key)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// The room of a platform reference.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/by-ref/{kind}/{ref_id}",
    operation_id = "rooms_get_by_ref",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn get_by_ref(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (kind, id) = external_ref(&path.0, &path.1)?;
    let mut conn = state.pool.get().await?;
    let room = db::rooms::find_by_ref(&mut conn, user.tenant_id, &kind, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (room, _) = visible_room(&mut conn, &user, room.id).await?;
    Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?))
}

/// Get-or-create for platform modules (service or admin tokens); idempotent, also when racing.
#[utoipa::path(
    put,
    path = "/api/chat/rooms/by-ref/{kind}/{ref_id}",
    operation_id = "rooms_put_by_ref",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The existing room", body = RoomView),
        (status = 201, description = "A new room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Needs a service or admin token", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn put_by_ref(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    Json(body): Json<CreateBody>,
) -> AppResult<HttpResponse> {
    if !user.is_admin_or_service() {
        return Err(AppError::Forbidden("needs a service or admin token".into()));
    }
    let reference = external_ref(&path.0, &path.1)?;
    {
        let mut conn = state.pool.get().await?;
        if let Some(room) =
            db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1).await?
        {
            return Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?));
        }
    }
    match create_room(&state, &user, &body, Some(reference.clone())).await {
        Ok(room) => {
            let mut conn = state.pool.get().await?;
            Ok(HttpResponse::Created().json(room_view(&mut conn, &user, &room).await?))
        }
        Err(AppError::Conflict(_)) => {
            let mut conn = state.pool.get().await?;
            let room =
                db::rooms::find_by_ref(&mut conn, user.tenant_id, &reference.0, &reference.1)
                    .await?
                    .ok_or(AppError::NotFound)?;
            Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?))
        }
        Err(e) => Err(e),
    }
}

/// One room, with the caller's counts when a member.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_get",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let (room, _) = visible_room(&mut conn, &user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    max_participants: Option<Option<i32>>,
}

/// Sends a write through the room's actor (so connected clients see it with its seq).
async fn write(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    command: Command,
) -> AppResult<Outcome> {
    supervisor::apply(&state.supervisor, room_id, Caller::from_auth(user), command).await
}

/// Change a room's name, description or size limit.
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_patch",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<PatchBody>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let update = UpdateRoom::parse(
        &state.settings,
        body.name.as_deref(),
        body.description.as_deref(),
        body.max_participants,
    )?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(&state, &user, room_id, Command::UpdateRoom(update)).await?;
    Ok(HttpResponse::Ok().json(out.room))
}

/// Deactivate a room.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}",
    operation_id = "rooms_deactivate",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound)
    )
)]
async fn deactivate(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    write(
        &state,
        &user,
        room_id,
        Command::UpdateRoom(UpdateRoom::deactivate()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Join a public room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/join",
    operation_id = "rooms_join",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The joined room", body = RoomView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not a public room", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "Already a member, or the room is full", body = ErrorEnvelope)
    )
)]
async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let room = {
        let mut conn = state.pool.get().await?;
        visible_room(&mut conn, &user, room_id).await?.0
    };
    write(&state, &user, room_id, Command::Join(JoinRoom)).await?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(room_view(&mut conn, &user, &room).await?))
}

/// Leave a room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/leave",
    operation_id = "rooms_leave",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Left"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Nobody leaves a direct room", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope)
    )
)]
async fn leave(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let leave = RemoveMember { user_id: user.id };
    write(&state, &user, room_id, Command::RemoveMember(leave)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_archived(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    archived: bool,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let (_, role) = member_room(&mut conn, user, room_id).await?;
    if role.is_none() {
        return Err(AppError::NotFound);
    }
    db::rooms::set_archived(&mut conn, room_id, user.id, archived).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "room_id": room_id, "archived": archived })))
}

/// Archive a room for the caller.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/archive",
    operation_id = "rooms_archive",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Archived", body = ArchiveState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn archive(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_archived(&state, &user, path.into_inner(), true).await
}

/// Unarchive a room for the caller.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/unarchive",
    operation_id = "rooms_unarchive",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unarchived", body = ArchiveState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn unarchive(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_archived(&state, &user, path.into_inner(), false).await
}

#[derive(Deserialize, Default, ToSchema)]
struct MarkReadBody {
    /// Read up to this seq; the room's last seq when absent.
    seq: Option<i64>,
}

/// Mark a room read up to a seq (the last one by default); the body is optional.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/mark_read",
    operation_id = "rooms_mark_read",
    tag = "rooms",
    request_body(content = Option<MarkReadBody>, description = "Optional"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The read state", body = ReadState),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn mark_read(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: Option<Json<MarkReadBody>>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let mark = MarkRead::parse(body.map(|b| b.0.seq).unwrap_or_default())?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(&state, &user, room_id, Command::MarkRead(mark)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "room_id": room_id,
        "last_read_seq": out.last_read_seq,
        "unread_count": out.unread_count,
        "mention_count": out.mention_count,
        "last_seq": out.last_seq,
    })))
}

/// The caller's unread and mention counts.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/unread_counts",
    operation_id = "rooms_unread_counts",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts by room and in total", body = UnreadCounts),
        (status = 401, response = Unauthorized)
    )
)]
async fn unread_counts(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let rows = db::listing::unread_counts(&mut conn, user.id).await?;
    let (mut unread, mut mentions) = (0, 0);
    let mut rooms = serde_json::Map::new();
    for r in rows {
        unread += r.unread_count;
        mentions += r.mention_count;
        rooms.insert(
            r.room.id.to_string(),
            serde_json::json!({ "unread": r.unread_count, "mentions": r.mention_count, "last_seq": r.room.last_seq }),
        );
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "rooms": rooms,
        "total": { "unread": unread, "mentions": mentions },
    })))
}

/// Public rooms of the tenant.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/public",
    operation_id = "rooms_public",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Public rooms", body = Results<RoomView>),
        (status = 401, response = Unauthorized)
    )
)]
async fn public(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let rows = db::listing::public_rooms(
        &mut conn,
        user.tenant_id,
        user.id,
        state.settings.limits.max_page_size,
    )
    .await?;
    let results: Vec<RoomView> = rows
        .iter()
        .map(|r| {
            let mut v = RoomView::build(&r.room, r.member_count);
            v.my_role = r.my_role.clone();
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

/// Who is typing in a room now.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/typing",
    operation_id = "rooms_typing",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Users typing", body = Typing),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn typing(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        let (_, role) = member_room(&mut conn, &user, room_id).await?;
        if role.is_none() {
            return Err(AppError::NotFound);
        }
    }
    let addr = supervisor::room(&state.supervisor, room_id).await?;
    let users = addr
        .send(ListTyping {
            tenant_id: user.tenant_id,
            user_id: user.id,
        })
        .await
        .map_err(AppError::internal)??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "room_id": room_id, "user_ids": users })))
}

/// The current members of a room.
#[utoipa::path(
    get,
    path = "/api/chat/rooms/{room_id}/members",
    operation_id = "rooms_members",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Members", body = Results<MemberView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn members(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    member_room(&mut conn, &user, room_id).await?;
    let rows = db::rooms::active_members(&mut conn, room_id).await?;
    let results: Vec<MemberView> = rows.iter().map(|(m, u)| MemberView::build(m, u)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

#[derive(Deserialize, ToSchema)]
struct AddMemberBody {
    user_id: Uuid,
    role: Option<String>,
}

/// Add a user of the tenant to a room.
#[utoipa::path(
    post,
    path = "/api/chat/rooms/{room_id}/members",
    operation_id = "rooms_add_member",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new member", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "Already a member, or the room is full", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn add_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Json(body): Json<AddMemberBody>,
) -> AppResult<HttpResponse> {
    let room_id = path.into_inner();
    let role = Role::parse("role", body.role.as_deref().unwrap_or("member"))?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(
        &state,
        &user,
        room_id,
        Command::AddMember(AddMember {
            user_id: body.user_id,
            role,
        }),
    )
    .await?;
    Ok(HttpResponse::Created().json(out.member))
}

#[derive(Deserialize, ToSchema)]
struct RoleBody {
    role: String,
}

/// Change a member's role.
#[utoipa::path(
    patch,
    path = "/api/chat/rooms/{room_id}/members/{user_id}",
    operation_id = "rooms_set_role",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn set_role(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<RoleBody>,
) -> AppResult<HttpResponse> {
    let (room_id, target) = path.into_inner();
    let role = Role::parse("role", &body.role)?;
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    let out = write(
        &state,
        &user,
        room_id,
        Command::SetRole(SetRole {
            user_id: target,
            role,
        }),
    )
    .await?;
    match out.member {
        Some(m) => Ok(HttpResponse::Ok().json(m)),
        None => {
            // The role was already that: answer the member as they are.
            let mut conn = state.pool.get().await?;
            let m = db::rooms::membership(&mut conn, room_id, target)
                .await?
                .ok_or(AppError::NotFound)?;
            let u = db::users::find(&mut conn, target)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(HttpResponse::Ok().json(MemberView::build(&m, &u)))
        }
    }
}

/// Remove a member from a room.
#[utoipa::path(
    delete,
    path = "/api/chat/rooms/{room_id}/members/{user_id}",
    operation_id = "rooms_remove_member",
    tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller's role does not allow it, or the room is deactivated", body = ErrorEnvelope),
        (status = 404, response = NotFound),
        (status = 409, description = "The last owner must hand ownership over first", body = ErrorEnvelope)
    )
)]
async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (room_id, target) = path.into_inner();
    {
        let mut conn = state.pool.get().await?;
        member_room(&mut conn, &user, room_id).await?;
    }
    write(
        &state,
        &user,
        room_id,
        Command::RemoveMember(RemoveMember { user_id: target }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
