//! `Caller`: who asks a room for something, a member acting for themselves or a trusted back end.

use crate::auth::{AuthUser, Role as TokenRole};
use crate::domain::ids::{TenantId, UserId};

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub display_name: String,
    /// The token's role: `admin` and `service` act with authority over every room of the tenant.
    pub token_role: TokenRole,
}

impl Caller {
    pub fn from_auth(user: &AuthUser) -> Self {
        Caller {
            user_id: UserId(user.id),
            tenant_id: TenantId(user.tenant_id),
            display_name: user.display_name.clone(),
            token_role: user.role,
        }
    }

    pub fn is_trusted(&self) -> bool {
        matches!(self.token_role, TokenRole::Admin | TokenRole::Service)
    }
}
