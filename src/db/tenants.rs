//! Tenants: lookup, creation, and provisioning from platform tokens.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::Tenant;
use super::schema::tenants;
use super::Conn;

/// The tenant a single-tenant install uses, created by the first migration.
pub const DEFAULT_TENANT_ID: Uuid = Uuid::from_u128(1);

/// Finds a tenant by its id (when `key` parses as one) or by its name.
pub async fn find(conn: &mut Conn, key: &str) -> QueryResult<Option<Tenant>> {
    let mut query = tenants::table.select(Tenant::as_select()).into_boxed();
    query = match Uuid::parse_str(key) {
        Ok(id) => query.filter(tenants::id.eq(id)),
        Err(_) => query.filter(tenants::name.eq(key)),
    };
    query.first(conn).await.optional()
}

pub async fn create(conn: &mut Conn, name: &str) -> QueryResult<Tenant> {
    diesel::insert_into(tenants::table)
        .values(tenants::name.eq(name))
        .returning(Tenant::as_returning())
        .get_result(conn)
        .await
}

/// Makes sure a tenant named by a trusted token exists (its name is its id until renamed).
pub async fn ensure(conn: &mut Conn, id: Uuid) -> QueryResult<()> {
    diesel::insert_into(tenants::table)
        .values((tenants::id.eq(id), tenants::name.eq(id.to_string())))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}
