//! JSON views of users and accounts as REST and WebSocket answers carry them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::models::User;

/// A user as other users of the tenant see them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserView {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar_url: u.avatar_url.clone(),
        }
    }
}

/// A user as they see themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub role: String,
    #[serde(with = "crate::domain::time::millis")]
    pub created_at: DateTime<Utc>,
}

impl From<&User> for MeView {
    fn from(u: &User) -> Self {
        MeView {
            id: u.id,
            tenant_id: u.tenant_id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            avatar_url: u.avatar_url.clone(),
            role: u.role.clone(),
            created_at: u.created_at,
        }
    }
}

/// What register, login and refresh answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenPair {
    pub user: MeView,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}
