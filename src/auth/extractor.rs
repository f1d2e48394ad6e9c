//! `AuthUser` and `ServiceUser`: who is calling, from a Bearer token checked against the store.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::jwt::{Claims, Role};
use crate::db;
use crate::db::models::{NewUser, User};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// An authenticated caller whose token is valid and whose account is not banned.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub role: Role,
    pub display_name: String,
    pub username: Option<String>,
    /// The login this token belongs to (None for tokens minted without one).
    pub session_id: Option<Uuid>,
}

impl AuthUser {
    pub fn is_admin_or_service(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Service)
    }
}

/// An admin or service caller: may use the admin API of its own tenant.
#[derive(Debug, Clone)]
pub struct ServiceUser(pub AuthUser);

/// The token in `Authorization: Bearer …`, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Checks a token and the account behind it; provisions the user (and tenant) a trusted token
/// names for the first time.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<AuthUser> {
    let claims = state.jwt.verify(token)?;
    let mut conn = state.pool.get().await?;
    let user = match db::users::find(&mut conn, claims.sub).await? {
        Some(u) => u,
        None => provision(&mut conn, &claims).await?,
    };
    let refused = || AppError::Unauthorized("invalid or expired token".into());
    if user.tenant_id != claims.tenant || user.is_banned {
        return Err(refused());
    }
    if claims.iat < user.tokens_valid_after.timestamp() {
        return Err(refused());
    }
    if let Some(sid) = claims.sid {
        if !db::tokens::family_active(&mut conn, sid).await? {
            return Err(refused());
        }
    }
    Ok(AuthUser {
        id: user.id,
        tenant_id: user.tenant_id,
        role: claims.role,
        display_name: user.display_name,
        username: user.username,
        session_id: claims.sid,
    })
}

/// The account behind a redeemed WebSocket ticket, with the same checks a token gets.
pub async fn authenticate_ticket(state: &AppState, ticket: &str) -> AppResult<AuthUser> {
    let refused = || AppError::Unauthorized("invalid or expired ticket".into());
    let mut conn = state.pool.get().await?;
    let (user_id, tenant_id) = db::tokens::redeem_ticket(&mut conn, &super::token_hash(ticket))
        .await?
        .ok_or_else(refused)?;
    let user = db::users::find(&mut conn, user_id)
        .await?
        .ok_or_else(refused)?;
    if user.tenant_id != tenant_id || user.is_banned {
        return Err(refused());
    }
    Ok(AuthUser {
        id: user.id,
        tenant_id: user.tenant_id,
        role: Role::parse(&user.role).unwrap_or_default(),
        display_name: user.display_name,
        username: user.username,
        session_id: None,
    })
}

async fn provision(conn: &mut db::Conn, claims: &Claims) -> AppResult<User> {
    let fallback = format!("User {}", &claims.sub.simple().to_string()[..8]);
    let display_name = claims
        .name
        .as_deref()
        .and_then(|n| crate::domain::display_name("name", n).ok())
        .unwrap_or(fallback);
    let username = claims
        .username
        .as_deref()
        .and_then(|u| crate::domain::username("username", u).ok());
    db::tenants::ensure(conn, claims.tenant).await?;
    let new = NewUser {
        id: claims.sub,
        tenant_id: claims.tenant,
        username: username.as_deref(),
        email: None,
        password_hash: None,
        display_name: &display_name,
        role: claims.role.as_str(),
    };
    match db::users::provision(conn, new).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(AppError::Unauthorized("invalid or expired token".into())),
        // A username already taken in the tenant: provision without it.
        Err(e) if crate::error::is_unique_violation(&e) => {
            let new = NewUser {
                username: None,
                ..new
            };
            db::users::provision(conn, new)
                .await?
                .ok_or_else(|| AppError::Unauthorized("invalid or expired token".into()))
        }
        Err(e) => Err(e.into()),
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let token =
                token.ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
            authenticate(&state, &token).await
        })
    }
}

impl FromRequest for ServiceUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if !user.is_admin_or_service() {
                return Err(AppError::Forbidden(
                    "needs an admin or service token".into(),
                ));
            }
            Ok(ServiceUser(user))
        })
    }
}
