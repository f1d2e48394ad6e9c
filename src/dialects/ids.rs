//! The room and message ids a seed's client sends: Confab's UUIDs, or the old integer pks of
//! imported rooms and messages (seeds 001 and 003 put them in URLs and bodies), resolved in the
//! caller's tenant through `db::legacy`. An id the tenant does not know is a 404, as a UUID of
//! another tenant is.

use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::legacy::{self, Kind};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// An id as a JSON body or a query sends it: a UUID, an integer, or an integer's text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AnyId {
    Number(u64),
    Text(String),
}

impl AnyId {
    pub fn text(&self) -> String {
        match self {
            AnyId::Number(n) => n.to_string(),
            AnyId::Text(s) => s.trim().to_owned(),
        }
    }

    /// The room it names (`field` names it in a 400 when it is no id at all).
    pub async fn room(&self, state: &AppState, user: &AuthUser, field: &str) -> AppResult<Uuid> {
        resolve_field(state, user, Kind::Room, &self.text(), field).await
    }

    /// The message it names.
    pub async fn message(&self, state: &AppState, user: &AuthUser, field: &str) -> AppResult<Uuid> {
        resolve_field(state, user, Kind::Message, &self.text(), field).await
    }
}

/// A room id of a URL (anything unknown: 404).
pub async fn room(state: &AppState, user: &AuthUser, raw: &str) -> AppResult<Uuid> {
    resolve(state, user, Kind::Room, raw).await
}

/// A message id of a URL (anything unknown: 404).
pub async fn message(state: &AppState, user: &AuthUser, raw: &str) -> AppResult<Uuid> {
    resolve(state, user, Kind::Message, raw).await
}

async fn resolve(state: &AppState, user: &AuthUser, kind: Kind, raw: &str) -> AppResult<Uuid> {
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(id);
    }
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::NotFound);
    }
    let mut conn = state.pool.get().await?;
    legacy::find(&mut conn, user.tenant_id, kind, raw)
        .await?
        .ok_or(AppError::NotFound)
}

async fn resolve_field(
    state: &AppState,
    user: &AuthUser,
    kind: Kind,
    raw: &str,
    field: &str,
) -> AppResult<Uuid> {
    let numeric = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    if Uuid::parse_str(raw).is_err() && !numeric {
        return Err(AppError::bad_request(
            field,
            format!("`{raw}` is not an id"),
        ));
    }
    resolve(state, user, kind, raw).await
}
