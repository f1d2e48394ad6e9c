//! A tenant's own notification defaults (`tenant_notify_defaults`; none: the server's apply).

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use uuid::Uuid;

use super::Conn;

/// What a member who never chose is notified of, in direct rooms and in the others.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize)]
pub struct TenantDefaults {
    #[diesel(sql_type = Text)]
    pub direct: String,
    #[diesel(sql_type = Text)]
    pub other: String,
}

/// The tenant's own defaults, if it set any.
pub async fn get(conn: &mut Conn, tenant: Uuid) -> QueryResult<Option<TenantDefaults>> {
    diesel::sql_query("SELECT direct, other FROM tenant_notify_defaults WHERE tenant_id = $1")
        .bind::<SqlUuid, _>(tenant)
        .get_result(conn)
        .await
        .optional()
}

/// Sets the tenant's defaults (None: removes them, so the server's apply again).
pub async fn set(conn: &mut Conn, tenant: Uuid, to: Option<&TenantDefaults>) -> QueryResult<()> {
    match to {
        Some(d) => diesel::sql_query(
            "INSERT INTO tenant_notify_defaults (tenant_id, direct, other) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE \
                 SET direct = EXCLUDED.direct, other = EXCLUDED.other, updated_at = now()",
        )
        .bind::<SqlUuid, _>(tenant)
        .bind::<Text, _>(&d.direct)
        .bind::<Text, _>(&d.other)
        .execute(conn)
        .await?,
        None => {
            diesel::sql_query("DELETE FROM tenant_notify_defaults WHERE tenant_id = $1")
                .bind::<SqlUuid, _>(tenant)
                .execute(conn)
                .await?
        }
    };
    Ok(())
}
