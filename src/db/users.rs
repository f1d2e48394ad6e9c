//! Users: accounts, platform-provisioned users, profile updates and search within a tenant.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::{NewUser, User};
use super::schema::users;
use super::Conn;

pub async fn insert(conn: &mut Conn, new: NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(&new)
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut Conn, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// A user of `tenant_id`, or None: other tenants' users do not exist for the caller.
pub async fn find_in_tenant(
    conn: &mut Conn,
    tenant_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<User>> {
    users::table
        .filter(users::id.eq(id).and(users::tenant_id.eq(tenant_id)))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// The account a login names, by username or by email.
pub async fn find_for_login(
    conn: &mut Conn,
    tenant_id: Uuid,
    login: &str,
) -> QueryResult<Option<User>> {
    let lowered = login.to_lowercase();
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(
            users::username
                .eq(&lowered)
                .or(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                        .bind::<diesel::sql_types::Text, _>(lowered.clone()),
                ),
        )
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// Users of a tenant whose username or display name contains `q` (case-insensitive).
pub async fn search(
    conn: &mut Conn,
    tenant_id: Uuid,
    q: &str,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::role.ne("service"))
        .filter(
            users::username
                .ilike(pattern.clone())
                .or(users::display_name.ilike(pattern)),
        )
        .order((users::display_name.asc(), users::id.asc()))
        .limit(limit)
        .select(User::as_select())
        .load(conn)
        .await
}

/// Escapes LIKE's wildcards so user input matches literally.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub async fn update_profile(
    conn: &mut Conn,
    id: Uuid,
    display_name: Option<&str>,
    avatar_url: Option<Option<&str>>,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((
            display_name.map(|d| users::display_name.eq(d)),
            avatar_url.map(|a| users::avatar_url.eq(a)),
            users::updated_at.eq(Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// Creates a user named by a trusted token on its first use; a concurrent first use is harmless.
pub async fn provision(conn: &mut Conn, new: NewUser<'_>) -> QueryResult<Option<User>> {
    diesel::insert_into(users::table)
        .values(&new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    find(conn, new.id).await
}

pub async fn set_banned(
    conn: &mut Conn,
    tenant_id: Uuid,
    id: Uuid,
    banned: bool,
) -> QueryResult<usize> {
    let now = Utc::now();
    // Token `iat` counts whole seconds: every token of this second or before is cut off.
    let cutoff = chrono::DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now);
    let target = users::table.filter(users::id.eq(id).and(users::tenant_id.eq(tenant_id)));
    if banned {
        diesel::update(target)
            .set((
                users::is_banned.eq(true),
                users::tokens_valid_after.eq(cutoff),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await
    } else {
        diesel::update(target)
            .set((users::is_banned.eq(false), users::updated_at.eq(now)))
            .execute(conn)
            .await
    }
}

/// Which of `ids` are chat users (not service accounts) of `tenant_id`.
pub async fn existing_in_tenant(
    conn: &mut Conn,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq_any(ids))
        .filter(users::role.ne("service"))
        .select(users::id)
        .load(conn)
        .await
}

/// Sets a user's password hash; tokens minted before this second stop working. Answers how many
/// users changed (0: no such user in the tenant).
pub async fn set_password(
    conn: &mut Conn,
    tenant_id: Uuid,
    id: Uuid,
    hash: &str,
) -> QueryResult<usize> {
    let now = Utc::now();
    // Token `iat` counts whole seconds: the caller's new token, minted this second, stays valid
    // (own-account tokens of earlier logins die with their revoked login family anyway).
    let cutoff = chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    diesel::update(users::table.filter(users::id.eq(id).and(users::tenant_id.eq(tenant_id))))
        .set((
            users::password_hash.eq(hash),
            users::tokens_valid_after.eq(cutoff),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

// Seed 003 (dialect issue 13):

/// The tenant's support agents (its admins, banned ones aside), at most `limit`, oldest first.
pub async fn support_agents(
    conn: &mut Conn,
    tenant_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::role.eq("admin"))
        .filter(users::is_banned.eq(false))
        .order((users::created_at.asc(), users::id.asc()))
        .select(users::id)
        .limit(limit)
        .load(conn)
        .await
}
