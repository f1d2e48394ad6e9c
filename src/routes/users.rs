//! Users of my tenant: me, my profile, and search by name.

use actix_web::web;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{BadRequest, NotFound, Results, TooLarge, Unauthorized};
use super::endpoint::Endpoint;
use super::extract::{check_q, Json};
use super::schemas;
use crate::auth::AuthUser;
use crate::db;
use crate::domain;
use crate::error::{AppError, AppResult};
use crate::protocol::views::{MeView, UserView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        Endpoint::new("/api/chat/users/me")
            .get(me)
            .patch(update_me)
            .build(),
    )
    .service(Endpoint::new("/api/chat/users").get(search).build())
    .service(
        Endpoint::new("/api/chat/users/{user_id}")
            .get(get_user)
            .build(),
    );
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/chat/users/me",
    operation_id = "users_me",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<web::Json<MeView>> {
    let mut conn = state.pool.get().await?;
    let me = db::users::find(&mut conn, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(MeView::from(&me)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchMe {
    #[schema(schema_with = schemas::display_name)]
    display_name: Option<String>,
    /// `null` clears the avatar; absent leaves it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schemas::avatar_url)]
    avatar_url: Option<Option<String>>,
}

/// Tells "absent" (None) from "null" (Some(None)).
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Change the caller's display name or avatar.
#[utoipa::path(
    patch,
    path = "/api/chat/users/me",
    operation_id = "users_update_me",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed account", body = MeView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge)
    )
)]
async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<PatchMe>,
) -> AppResult<web::Json<MeView>> {
    let display_name = body
        .display_name
        .as_deref()
        .map(|d| domain::display_name("display_name", d))
        .transpose()?;
    let avatar = match &body.avatar_url {
        None => None,
        Some(None) => Some(None),
        Some(Some(u)) => Some(Some(domain::url("avatar_url", u)?)),
    };
    let mut conn = state.pool.get().await?;
    let me = db::users::update_profile(
        &mut conn,
        user.id,
        display_name.as_deref(),
        avatar.as_ref().map(|a| a.as_deref()),
    )
    .await?;
    Ok(web::Json(MeView::from(&me)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Part of a username or display name; empty lists everyone.
    #[serde(default)]
    #[param(schema_with = schemas::name_filter)]
    q: String,
    /// At most this many (default 20).
    limit: Option<i64>,
}

/// Users of the caller's tenant whose name matches.
#[utoipa::path(
    get,
    path = "/api/chat/users",
    operation_id = "users_search",
    params(SearchQuery),
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching users", body = Results<UserView>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized)
    )
)]
async fn search(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<SearchQuery>,
) -> AppResult<web::Json<Results<UserView>>> {
    check_q(&query.q, state.settings.limits.max_search_query_chars)?;
    let limit = query
        .limit
        .unwrap_or(20)
        .clamp(1, state.settings.limits.max_page_size);
    let mut conn = state.pool.get().await?;
    let users = db::users::search(&mut conn, user.tenant_id, query.q.trim(), limit).await?;
    let results: Vec<UserView> = users.iter().map(UserView::from).collect();
    Ok(web::Json(Results::new(results)))
}

/// One user of the caller's tenant.
#[utoipa::path(
    get,
    path = "/api/chat/users/{user_id}",
    operation_id = "users_get_user",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound)
    )
)]
async fn get_user(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> AppResult<web::Json<UserView>> {
    let mut conn = state.pool.get().await?;
    let found = db::users::find_in_tenant(&mut conn, user.tenant_id, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(UserView::from(&found)))
}
