//! Seed 003's `/chat/conversations/…` and `/bids|jobs|disputes/{id}/conversation/`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::rest::{
    announce, both, confab_role, conversation, get_or_post_only, page_link, paging, write,
    WasgoResult,
};
use super::views::{WasgoPage, WasgoStatus, WasgoUnread, WasgoUnreadOne};
use crate::auth::AuthUser;
use crate::commands::create_room::{external_ref, may_claim_reference};
use crate::commands::{
    access, direct, AddMember, Caller, Command, CreateRoom, MarkRead, RemoveMember, RoomDraft,
    SupportConversation,
};
use crate::db;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::json::parse_json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    both(cfg, "/chat/conversations/", || web::get().to(list));
    both(cfg, "/chat/conversations/", || web::post().to(create));
    both(cfg, "/chat/conversations/", || {
        web::route().to(get_or_post_only)
    });
    both(cfg, "/chat/conversations/unread_counts/", || {
        web::get().to(unread_counts)
    });
    both(
        cfg,
        "/chat/conversations/create_support_conversation/",
        || web::post().to(create_support),
    );
    both(cfg, "/chat/conversations/{id}/", || web::get().to(detail));
    both(cfg, "/chat/conversations/{id}/{action}/", || {
        web::post().to(action)
    });
    both(cfg, "/bids/{id}/conversation/", || web::get().to(bid));
    both(cfg, "/jobs/{id}/conversation/", || web::get().to(job));
    both(cfg, "/disputes/{id}/conversation/", || {
        web::get().to(dispute)
    });
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
    page_size: Option<i64>,
}

/// `GET /chat/conversations/?page=&page_size=`: the caller's conversations, newest activity
/// first, DRF's page.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> WasgoResult {
    let (state, req, user) = (&state, &req, &user?);
    let q: PageQuery = super::rest::query(req)?;
    let (page, size) = paging(state, q.page, q.page_size)?;
    let mut conn = state.pool.get().await?;
    let count = db::listing::count_my_rooms(&mut conn, user.id).await?;
    let filter = db::listing::ListFilter {
        archived: None,
        room_type: None,
        cursor: None,
        room_id: None,
        limit: size,
        offset: (page - 1) * size,
    };
    let rows = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
    if rows.is_empty() && page > 1 {
        return Err(AppError::NotFound.into());
    }
    let mut results = Vec::new();
    for row in &rows {
        results.push(conversation(&mut conn, user, &row.room).await?);
    }
    Ok(HttpResponse::Ok().json(WasgoPage {
        count,
        next: (page * size < count).then(|| page_link(req, page + 1, size, "")),
        previous: (page > 1).then(|| page_link(req, page - 1, size, "")),
        results,
    }))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    conversation_type: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// User ids (UUIDs or the platform's integers).
    #[serde(default, alias = "participant_ids")]
    participants: Vec<Value>,
    /// The platform object a `bid`, `job`, `request` or `dispute` conversation is about.
    #[serde(default)]
    object_id: Option<Value>,
    #[serde(default)]
    support_type: Option<String>,
}

fn user_ids(raw: &[Value]) -> AppResult<Vec<Uuid>> {
    raw.iter()
        .map(|v| {
            crate::auth::claims::platform_user_id(v).ok_or_else(|| {
                AppError::bad_request("participants", "participants must be user ids")
            })
        })
        .collect()
}

/// `POST /chat/conversations/`: `direct` (one other participant), `group`, `support`, or a
/// platform object's (`bid`, `job`, `request`, `dispute` with `object_id`, trusted callers only).
async fn create(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let (state, user) = (&state, &user?);
    let body: CreateBody = parse_json(&body)?;
    let others = user_ids(&body.participants)?;
    let caller = Caller::from_auth(user);
    let kind = body.conversation_type.as_deref().unwrap_or("group");
    let mut conn = state.pool.get().await?;
    let room = match kind {
        "direct" => {
            let [other] = others[..] else {
                return Err(AppError::bad_request(
                    "participants",
                    "a direct conversation has one other participant",
                )
                .into());
            };
            direct::open(&mut conn, &caller, other).await?.room
        }
        "support" => {
            let command =
                SupportConversation::parse(body.support_type.as_deref(), body.title.as_deref())?;
            command.apply(&mut conn, &state.settings, &caller).await?
        }
        _ => {
            let reference = object_ref(kind, body.object_id.as_ref(), &caller)?;
            let draft = RoomDraft {
                name: Some(body.title.as_deref().unwrap_or(kind)),
                room_type: "group",
                description: body.description.as_deref(),
                participant_ids: &others,
                max_participants: None,
            };
            let command = CreateRoom::parse(&state.settings, &caller, &draft, reference)?;
            command.apply(&mut conn, &caller).await?
        }
    };
    if kind != "direct" {
        announce(state, &mut conn, &room, user.id).await?;
    }
    let view = conversation(&mut conn, user, &room).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(view))
}

/// The platform reference of a `bid`/`job`/`request`/`dispute` conversation (None for a group).
fn object_ref(
    kind: &str,
    object_id: Option<&Value>,
    caller: &Caller,
) -> AppResult<Option<(String, String)>> {
    if kind == "group" {
        return Ok(None);
    }
    if !["bid", "job", "request", "dispute"].contains(&kind) {
        return Err(AppError::bad_request(
            "conversation_type",
            "conversation_type must be direct, group, bid, job, request, support or dispute",
        ));
    }
    let id = match object_id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(AppError::bad_request(
                "object_id",
                "object_id is required for this conversation_type",
            ))
        }
    };
    may_claim_reference(caller)?;
    external_ref(kind, &id).map(Some)
}

/// The conversation if the caller may read it (404 otherwise, other tenants included).
async fn readable(state: &AppState, user: &AuthUser, id: Uuid) -> AppResult<db::models::Room> {
    let mut conn = state.pool.get().await?;
    Ok(
        access::room(&mut conn, &Caller::from_auth(user), id, Access::Read)
            .await?
            .0,
    )
}

async fn detail(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    let user = user?;
    let id = crate::dialects::ids::room(&state, &user, &path).await?;
    let room = readable(&state, &user, id).await?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(conversation(&mut conn, &user, &room).await?))
}

#[derive(Deserialize)]
struct ParticipantBody {
    user_id: Value,
    #[serde(default)]
    role: Option<String>,
}

/// `POST /chat/conversations/{id}/{add_participant|remove_participant|archive|unarchive|mark_read}/`.
async fn action(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let (raw, action) = path.into_inner();
    let id = crate::dialects::ids::room(&state, &user, &raw).await?;
    readable(&state, &user, id).await?;
    let answer = match action.as_str() {
        "add_participant" | "remove_participant" => {
            participant(&state, &user, id, &action, &body).await?
        }
        "archive" | "unarchive" => {
            let archived = action == "archive";
            let mut conn = state.pool.get().await?;
            access::room(&mut conn, &Caller::from_auth(&user), id, Access::AsMember).await?;
            db::rooms::set_archived(&mut conn, id, user.id, archived).await?;
            WasgoStatus::new(if archived { "archived" } else { "unarchived" })
        }
        "mark_read" => {
            let out = write(&state, &user, id, Command::MarkRead(MarkRead::parse(None)?)).await?;
            WasgoStatus {
                unread_count: out.unread_count,
                was_already_read: Some(out.already_read),
                ..WasgoStatus::new("marked as read")
            }
        }
        _ => return Err(AppError::NotFound.into()),
    };
    Ok(HttpResponse::Ok().json(answer))
}

async fn participant(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    action: &str,
    body: &[u8],
) -> AppResult<WasgoStatus> {
    let body: ParticipantBody = parse_json(body)?;
    let target = crate::auth::claims::platform_user_id(&body.user_id)
        .ok_or_else(|| AppError::bad_request("user_id", "user_id must be a user id"))?;
    if action == "remove_participant" {
        write(
            state,
            user,
            id,
            Command::RemoveMember(RemoveMember {
                user_id: target.into(),
            }),
        )
        .await?;
        return Ok(WasgoStatus::new("participant removed"));
    }
    let role = Role::parse(
        "role",
        confab_role(body.role.as_deref().unwrap_or("participant")),
    )?;
    write(
        state,
        user,
        id,
        Command::AddMember(AddMember {
            user_id: target.into(),
            role,
        }),
    )
    .await?;
    Ok(WasgoStatus::new("participant added"))
}

/// `GET /chat/conversations/unread_counts/`: every conversation's unread count and their total.
async fn unread_counts(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
) -> WasgoResult {
    let user = user?;
    let mut conn = state.pool.get().await?;
    let rows = db::listing::unread_counts(&mut conn, user.id).await?;
    let conversations: Vec<WasgoUnreadOne> = rows
        .iter()
        .map(|r| WasgoUnreadOne {
            conversation_id: r.room.id,
            unread_count: r.unread_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(WasgoUnread {
        total_unread: conversations.iter().map(|c| c.unread_count).sum(),
        conversations,
    }))
}

#[derive(Deserialize)]
struct SupportBody {
    #[serde(default)]
    support_type: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

/// `POST /chat/conversations/create_support_conversation/ {support_type, title}`: 201.
async fn create_support(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: web::Bytes,
) -> WasgoResult {
    let user = user?;
    let body: SupportBody = parse_json(&body)?;
    let command = SupportConversation::parse(body.support_type.as_deref(), body.title.as_deref())?;
    let mut conn = state.pool.get().await?;
    let room = command
        .apply(&mut conn, &state.settings, &Caller::from_auth(&user))
        .await?;
    announce(&state, &mut conn, &room, user.id).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(conversation(&mut conn, &user, &room).await?))
}

/// The conversation of a platform object, when the caller may read it (404 otherwise).
async fn of_object(state: &AppState, user: &AuthUser, kind: &str, id: &str) -> WasgoResult {
    let mut conn = state.pool.get().await?;
    let room = db::rooms::find_by_ref(&mut conn, user.tenant_id, kind, id)
        .await?
        .ok_or(AppError::NotFound)?;
    access::room(&mut conn, &Caller::from_auth(user), room.id, Access::Read).await?;
    Ok(HttpResponse::Ok().json(conversation(&mut conn, user, &room).await?))
}

async fn bid(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    of_object(&state, &user?, "bid", &path).await
}

async fn job(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    of_object(&state, &user?, "job", &path).await
}

async fn dispute(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> WasgoResult {
    of_object(&state, &user?, "dispute", &path).await
}
