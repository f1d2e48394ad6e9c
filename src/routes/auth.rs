//! Own accounts: register, login, refresh (rotation with reuse detection), logout.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::{created, BadRequest, RateLimited, TooLarge, Unauthorized, WithStatus};
use super::endpoint::Endpoint;
use super::extract::Json;
use super::schemas;
use crate::actors::presence::KickUser;
use crate::auth::{credentials, random_token, token_hash, AuthUser, JwtKeys, Role};
use crate::db;
use crate::db::models::{NewUser, User};
use crate::domain;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::protocol::views::{MeView, TokenPair};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/api/auth/register").post(register).build())
        .service(Endpoint::new("/api/auth/login").post(login).build())
        .service(Endpoint::new("/api/auth/refresh").post(refresh).build())
        .service(Endpoint::new("/api/auth/logout").post(logout).build())
        .service(
            Endpoint::new("/api/auth/password")
                .post(change_password)
                .build(),
        );
}

#[derive(Deserialize, ToSchema)]
struct PasswordBody {
    current_password: String,
    /// 8 to 256 characters.
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
struct RegisterBody {
    #[schema(schema_with = schemas::username)]
    username: String,
    #[schema(schema_with = schemas::password)]
    password: String,
    /// Defaults to the username.
    #[schema(schema_with = schemas::display_name)]
    display_name: Option<String>,
    #[schema(schema_with = schemas::email)]
    email: Option<String>,
    /// Tenant id or name; the default tenant when absent; 404 naming the field when unknown.
    tenant: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct LoginBody {
    username: String,
    password: String,
    /// Tenant id or name; the default tenant when absent; 404 naming the field when unknown.
    tenant: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct RefreshBody {
    refresh_token: String,
}

/// The tenant a register/login names (by id or name), the default one when none is named.
async fn resolve_tenant(conn: &mut db::Conn, key: Option<&str>) -> AppResult<Uuid> {
    match key {
        None => Ok(db::tenants::DEFAULT_TENANT_ID),
        Some(k) => db::tenants::find(conn, k.trim())
            .await?
            .map(|t| t.id)
            .ok_or_else(|| AppError::unknown("tenant", "unknown tenant")),
    }
}

/// Mints an access token and a refresh token for `user`, in the login `family` (a new one if None).
pub async fn issue_pair(
    state: &AppState,
    conn: &mut db::Conn,
    user: &User,
    family: Option<Uuid>,
) -> AppResult<TokenPair> {
    let a = &state.settings.auth;
    let family = family.unwrap_or_else(Uuid::new_v4);
    let refresh = random_token();
    let expires = chrono::Utc::now() + chrono::Duration::seconds(a.refresh_token_ttl_secs);
    db::tokens::insert_refresh(conn, user.id, family, &token_hash(&refresh), expires).await?;
    let role = Role::parse(&user.role).unwrap_or_default();
    let mut claims = JwtKeys::claims_for(
        user.id,
        user.tenant_id,
        &user.display_name,
        role,
        a.access_token_ttl_secs,
        Some(family),
    );
    claims.username = user.username.clone();
    Ok(TokenPair {
        user: MeView::from(user),
        access_token: state.jwt.mint(claims)?,
        refresh_token: refresh,
        token_type: "Bearer".into(),
        expires_in: a.access_token_ttl_secs,
    })
}

/// Create an account and log in.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    operation_id = "auth_register",
    tag = "auth",
    responses(
        (status = 201, description = "Registered; the new login's tokens", body = TokenPair),
        (status = 400, response = BadRequest),
        (status = 403, description = "Registration is disabled", body = ErrorEnvelope),
        (status = 404, description = "The tenant named does not exist", body = ErrorEnvelope),
        (status = 409, description = "Username or email is taken", body = ErrorEnvelope),
        (status = 413, response = TooLarge)
    )
)]
async fn register(
    state: web::Data<AppState>,
    Json(body): Json<RegisterBody>,
) -> AppResult<WithStatus<TokenPair>> {
    if !state.settings.auth.allow_registration {
        return Err(AppError::Forbidden(
            "registration is disabled on this server".into(),
        ));
    }
    let username = domain::username("username", &body.username)?;
    let password = domain::password("password", &body.password)?;
    let display_name = match &body.display_name {
        Some(d) => domain::display_name("display_name", d)?,
        None => username.clone(),
    };
    let email = body
        .email
        .as_deref()
        .map(|e| domain::email("email", e))
        .transpose()?;
    let tenant_id = {
        let mut conn = state.pool.get().await?;
        resolve_tenant(&mut conn, body.tenant.as_deref()).await?
    };
    let hash = state.hasher.hash(password).await?;
    let mut conn = state.pool.get().await?;
    let user = db::users::insert(
        &mut conn,
        NewUser {
            id: Uuid::new_v4(),
            tenant_id,
            username: Some(&username),
            email: email.as_deref(),
            password_hash: Some(&hash),
            display_name: &display_name,
            role: "user",
        },
    )
    .await
    .map_err(|e| AppError::unique_or_internal(e, "username or email is already taken"))?;
    let pair = issue_pair(&state, &mut conn, &user, None).await?;
    Ok(created(pair))
}

/// Log in with username (or email) and password.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    operation_id = "auth_login",
    tag = "auth",
    responses(
        (status = 200, description = "The new login's tokens", body = TokenPair),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, description = "The tenant named does not exist", body = ErrorEnvelope),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited)
    )
)]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginBody>,
) -> AppResult<web::Json<TokenPair>> {
    // The peer address, not X-Forwarded-For, which a client can forge.
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let mut conn = state.pool.get().await?;
    let tenant_id = resolve_tenant(&mut conn, body.tenant.as_deref()).await?;
    let login = body.username.trim().to_lowercase();
    let account_key = format!("{tenant_id}:{login}");
    let throttle = &state.login_throttle;
    throttle.per_ip.check(&ip)?;
    throttle.per_account.check(&account_key)?;
    let user = if login.is_empty() || login.len() > 254 {
        None
    } else {
        db::users::find_for_login(&mut conn, tenant_id, &login).await?
    };
    drop(conn);
    let password = body.password;
    let ok = if password.chars().count() > 256 {
        false
    } else {
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        state.hasher.verify(password, hash).await?
    };
    let user = match user {
        Some(u) if ok => u,
        _ => {
            throttle.per_ip.fail(&ip);
            throttle.per_account.fail(&account_key);
            return Err(AppError::InvalidCredentials);
        }
    };
    throttle.per_account.clear(&account_key);
    if user.is_banned {
        return Err(AppError::Unauthorized("this account is suspended".into()));
    }
    let mut conn = state.pool.get().await?;
    let pair = issue_pair(&state, &mut conn, &user, None).await?;
    Ok(web::Json(pair))
}

/// Trade a refresh token for new tokens (the old one is spent).
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    operation_id = "auth_refresh",
    tag = "auth",
    responses(
        (status = 200, description = "Fresh tokens of the same login", body = TokenPair),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge)
    )
)]
async fn refresh(
    state: web::Data<AppState>,
    Json(body): Json<RefreshBody>,
) -> AppResult<web::Json<TokenPair>> {
    let refused = || AppError::Unauthorized("invalid or expired refresh token".into());
    let hash = token_hash(body.refresh_token.trim());
    let mut conn = state.pool.get().await?;
    let Some(old) = db::tokens::consume_refresh(&mut conn, &hash).await? else {
        // A rotated token presented again means it leaked: end that whole login.
        if let Some(seen) = db::tokens::find_refresh(&mut conn, &hash).await? {
            db::tokens::revoke_family(&mut conn, seen.family_id).await?;
            state.presence.do_send(KickUser {
                user_id: seen.user_id,
                login: Some(seen.family_id),
                reason: "logged_out".into(),
                relay: true,
            });
            log::warn!(
                "refresh token reuse for user {}; login revoked",
                seen.user_id
            );
        }
        return Err(refused());
    };
    let user = db::users::find(&mut conn, old.user_id)
        .await?
        .ok_or_else(refused)?;
    if user.is_banned {
        return Err(refused());
    }
    let pair = issue_pair(&state, &mut conn, &user, Some(old.family_id)).await?;
    Ok(web::Json(pair))
}

/// End the login a refresh token belongs to, closing its live sockets.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    operation_id = "auth_logout",
    tag = "auth",
    responses(
        (status = 204, description = "Logged out (also when the token was unknown)"),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge)
    )
)]
async fn logout(
    state: web::Data<AppState>,
    Json(body): Json<RefreshBody>,
) -> AppResult<HttpResponse> {
    let hash = token_hash(body.refresh_token.trim());
    let mut conn = state.pool.get().await?;
    if let Some(rt) = db::tokens::find_refresh(&mut conn, &hash).await? {
        db::tokens::revoke_family(&mut conn, rt.family_id).await?;
        // The login's live sockets end now, not when their access token expires.
        state.presence.do_send(KickUser {
            user_id: rt.user_id,
            login: Some(rt.family_id),
            reason: "logged_out".into(),
            relay: true,
        });
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Change your own password: every login of yours ends (refresh tokens revoked, sockets closed
/// with `closing {reason: "password_changed"}`); the answer is a fresh login.
#[utoipa::path(
    post,
    path = "/api/auth/password",
    operation_id = "auth_change_password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Changed; the new login's tokens", body = TokenPair),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited)
    )
)]
async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(body): Json<PasswordBody>,
) -> AppResult<HttpResponse> {
    let account =
        credentials::change_own_password(&state, &user, body.current_password, &body.new_password)
            .await?;
    let mut conn = state.pool.get().await?;
    let pair = issue_pair(&state, &mut conn, &account, None).await?;
    Ok(HttpResponse::Ok().json(pair))
}
