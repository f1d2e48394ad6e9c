//! Password changes (own, or forced by an admin): the new hash, every login of the user revoked
//! and every socket of theirs closed (on every node), in that order.

use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::AuthUser;
use crate::actors::presence::KickUser;
use crate::db;
use crate::db::models::User;
use crate::domain;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The `closing` reason the user's sockets are given.
pub const PASSWORD_CHANGED: &str = "password_changed";

/// Sets `user_id`'s password (validated as at registration), revokes every refresh token of the
/// user and closes their sockets. Answers how many sockets were closed on this node; 404 when
/// the user is not in `tenant_id`.
pub async fn set_password(
    state: &AppState,
    tenant_id: Uuid,
    user_id: Uuid,
    new_password: &str,
) -> AppResult<usize> {
    let new_password = domain::password("new_password", new_password)?;
    let hash = state.hasher.hash(new_password).await?;
    let mut conn = state.pool.get().await?;
    let changed = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let n = db::users::set_password(c, tenant_id, user_id, &hash).await?;
            if n > 0 {
                db::tokens::revoke_user(c, user_id).await?;
            }
            Ok(n)
        })
        .await?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    state
        .presence
        .send(KickUser {
            user_id,
            login: None,
            reason: PASSWORD_CHANGED.into(),
            relay: true,
        })
        .await
        .map_err(AppError::internal)
}

/// A user changes their own password: the current one is checked first (throttled like a
/// login, per account). Answers the account for a fresh login.
pub async fn change_own_password(
    state: &AppState,
    caller: &AuthUser,
    current_password: String,
    new_password: &str,
) -> AppResult<User> {
    let mut conn = state.pool.get().await?;
    let user = db::users::find(&mut conn, caller.id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let Some(hash) = user.password_hash.clone() else {
        return Err(AppError::bad_request(
            "current_password",
            "this account signs in through the host platform and has no password here",
        ));
    };
    let key = format!("{}:{}", user.tenant_id, user.id);
    let throttle = &state.login_throttle.per_account;
    throttle.check(&key)?;
    let ok = current_password.chars().count() <= 256
        && state.hasher.verify(current_password, Some(hash)).await?;
    if !ok {
        throttle.fail(&key);
        return Err(AppError::InvalidCredentials);
    }
    throttle.clear(&key);
    set_password(state, user.tenant_id, user.id, new_password).await?;
    Ok(user)
}
