//! The old ids of imported rooms and messages (`legacy_ids`, written by `confab import django`):
//! the one place a seed's integer pk becomes Confab's id, for the dialects' id parsing.

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::Conn;

/// What an old id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Room,
    Message,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Room => "room",
            Kind::Message => "message",
        }
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The id a tenant's old pk `raw` was imported as; None when the tenant imported no such pk.
pub async fn find(
    conn: &mut Conn,
    tenant: Uuid,
    kind: Kind,
    raw: &str,
) -> diesel::QueryResult<Option<Uuid>> {
    if raw.is_empty() || raw.len() > 128 {
        return Ok(None);
    }
    let found: Option<Found> = diesel::sql_query(
        "SELECT id FROM legacy_ids WHERE tenant_id = $1 AND kind = $2 AND legacy_pk = $3",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(raw)
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|f| f.id))
}
