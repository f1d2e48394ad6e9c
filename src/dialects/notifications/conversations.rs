//! Seeds 000/002's conversations and participants (`/api/notifications/chat/conversations/…`):
//! Confab's rooms and members, created and changed by the same commands as the native routes.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::paging::{cut, page_answer, page_of, path_id, seed, Answer};
use super::views::{Conversation, Participant};
use super::BASE;
use crate::auth::AuthUser;
use crate::commands::UpdateRoom;
use crate::commands::{access, direct, AddMember, Caller, Command, CreateRoom, RoomDraft};
use crate::db::{self, listing::ListFilter, models::Room};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::views::RoomView;
use crate::routes::endpoint::Endpoint;
use crate::routes::extract::Json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let one = format!("{BASE}/conversations/{{id}}");
    cfg.service(
        Endpoint::new(&format!("{BASE}/conversations"))
            .get(list)
            .post(create)
            .build(),
    )
    .service(
        Endpoint::new(&one)
            .get(get)
            .put(update)
            .patch(update)
            .delete(deactivate)
            .build(),
    )
    .service(
        Endpoint::new(&format!("{one}/participants"))
            .get(participants)
            .post(add_participant)
            .build(),
    );
}

/// A room as 000's conversation: its member count and last message.
pub async fn conversation(conn: &mut db::Conn, room: &Room) -> AppResult<Conversation> {
    let count = db::rooms::member_count(conn, room.id).await?;
    let last = db::listing::last_messages(conn, &[room.id]).await?;
    let mut view = RoomView::build(room, count);
    view.last_message = crate::routes::messages::views(conn, &last).await?.pop();
    Ok(Conversation::from(view))
}

pub use crate::routes::rooms::write;

/// `GET conversations/`: the caller's conversations, newest activity first, DRF pages.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let paging = page_of(&req, state.settings.limits.max_page_size)?;
        let mut conn = state.pool.get().await?;
        let filter = ListFilter {
            archived: None,
            room_type: None,
            cursor: None,
            room_id: None,
            limit: paging.1,
            offset: (paging.0 - 1) * paging.1,
        };
        let rows = db::listing::my_rooms(&mut conn, user.id, &filter).await?;
        let count = db::listing::count_my_rooms(&mut conn, user.id).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.room.id).collect();
        let last = db::listing::last_messages(&mut conn, &ids).await?;
        let mut last = crate::routes::messages::views(&mut conn, &last).await?;
        let results: Vec<Conversation> = rows
            .iter()
            .map(|r| {
                let mut view = RoomView::build(&r.room, r.member_count);
                view.last_message = last
                    .iter()
                    .position(|m| m.room_id == r.room.id)
                    .map(|i| last.swap_remove(i));
                Conversation::from(view)
            })
            .collect();
        page_answer(&req, paging, count, results)
    })
    .await
}

#[derive(Deserialize)]
struct CreateBody {
    title: Option<String>,
    #[serde(default = "group")]
    conversation_type: String,
    description: Option<String>,
    /// Confab addition: the first other participants (a `direct` conversation names one).
    #[serde(default)]
    participant_ids: Vec<serde_json::Value>,
}

fn group() -> String {
    "group".into()
}

/// `POST conversations/ {title, conversation_type}`: a new conversation, the caller its owner
/// (201); `direct` opens the pair's direct room (200 when it exists).
async fn create(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    body: Result<Json<CreateBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let Json(b) = body?;
        let ids = b
            .participant_ids
            .iter()
            .map(|v| {
                crate::auth::claims::platform_user_id(v).ok_or_else(|| {
                    AppError::bad_request("participant_ids", "participant_ids must be user ids")
                })
            })
            .collect::<AppResult<Vec<Uuid>>>()?;
        let caller = Caller::from_auth(&user);
        let mut conn = state.pool.get().await?;
        if b.conversation_type == "direct" {
            let [other] = ids[..] else {
                return Err(AppError::bad_request(
                    "participant_ids",
                    "a direct conversation names the other user in participant_ids",
                ));
            };
            let opened = direct::open(&mut conn, &caller, other).await?;
            if opened.created {
                crate::routes::rooms::announce(&state, &opened.room, vec![other], user.id);
            }
            let status = if opened.created { 201 } else { 200 };
            return answer(status, &conversation(&mut conn, &opened.room).await?);
        }
        let draft = RoomDraft {
            name: b.title.as_deref(),
            room_type: &b.conversation_type,
            description: b.description.as_deref(),
            participant_ids: &ids,
            max_participants: None,
        };
        let command = CreateRoom::parse(&state.settings, &caller, &draft, None)?;
        let room = command.apply(&mut conn, &caller).await?;
        crate::routes::rooms::announce(&state, &room, command.participants, user.id);
        answer(201, &conversation(&mut conn, &room).await?)
    })
    .await
}

/// A JSON answer with its status.
pub fn answer(status: u16, value: &impl serde::Serialize) -> AppResult<HttpResponse> {
    let status = actix_web::http::StatusCode::from_u16(status).map_err(AppError::internal)?;
    Ok(HttpResponse::build(status).json(value))
}

/// `GET conversations/{id}/`.
async fn get(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let mut conn = state.pool.get().await?;
        let (room, _) = access::room(&mut conn, &Caller::from_auth(&user), id, Access::See).await?;
        answer(200, &conversation(&mut conn, &room).await?)
    })
    .await
}

#[derive(Deserialize)]
struct UpdateBody {
    title: Option<String>,
    description: Option<String>,
}

/// `PUT conversations/{id}/ {title}` (PATCH alike): absent fields stay as they are.
async fn update(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: Result<Json<UpdateBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let Json(b) = body?;
        let command = UpdateRoom::parse(
            &state.settings,
            b.title.as_deref(),
            b.description.as_deref(),
            None,
        )?;
        {
            let mut conn = state.pool.get().await?;
            access::room(&mut conn, &Caller::from_auth(&user), id, Access::Read).await?;
        }
        write(&state, &user, id, Command::UpdateRoom(command)).await?;
        let mut conn = state.pool.get().await?;
        let room = db::rooms::find(&mut conn, user.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        answer(200, &conversation(&mut conn, &room).await?)
    })
    .await
}

/// `DELETE conversations/{id}/`: deactivates it (204), as the native DELETE.
async fn deactivate(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        {
            let mut conn = state.pool.get().await?;
            access::room(&mut conn, &Caller::from_auth(&user), id, Access::Read).await?;
        }
        let command = Command::UpdateRoom(UpdateRoom::deactivate());
        write(&state, &user, id, command).await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// `GET conversations/{id}/participants/`: its current members, DRF pages.
async fn participants(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let paging = page_of(&req, state.settings.limits.max_page_size)?;
        let mut conn = state.pool.get().await?;
        access::room(&mut conn, &Caller::from_auth(&user), id, Access::Read).await?;
        let members = db::rooms::active_members(&mut conn, id).await?;
        let count = i64::try_from(members.len()).map_err(AppError::internal)?;
        let all: Vec<Participant> = members
            .iter()
            .map(|(m, u)| Participant::new(m, u))
            .collect();
        page_answer(&req, paging, count, cut(all, paging))
    })
    .await
}

#[derive(Deserialize)]
struct AddBody {
    user_id: serde_json::Value,
    role: Option<String>,
}

/// `POST conversations/{id}/participants/ {user_id, role}`: adds a user of the tenant (201).
async fn add_participant(
    state: web::Data<AppState>,
    user: Result<AuthUser, AppError>,
    path: web::Path<String>,
    body: Result<Json<AddBody>, AppError>,
) -> Answer {
    seed(async {
        let user = user?;
        let id = path_id(&path)?;
        let Json(b) = body?;
        let target = crate::auth::claims::platform_user_id(&b.user_id)
            .ok_or_else(|| AppError::bad_request("user_id", "user_id must be a user id"))?;
        let role = Role::parse("role", b.role.as_deref().unwrap_or("member"))?;
        {
            let mut conn = state.pool.get().await?;
            access::room(&mut conn, &Caller::from_auth(&user), id, Access::Read).await?;
        }
        let command = AddMember {
            user_id: target.into(),
            role,
        };
        write(&state, &user, id, Command::AddMember(command)).await?;
        let mut conn = state.pool.get().await?;
        let m = db::rooms::membership(&mut conn, id, target)
            .await?
            .ok_or(AppError::NotFound)?;
        let u = db::users::find(&mut conn, target)
            .await?
            .ok_or(AppError::NotFound)?;
        answer(201, &Participant::new(&m, &u))
    })
    .await
}
