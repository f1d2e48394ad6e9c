//! Refresh tokens (rotated, revocable by family) and one-time WebSocket tickets.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::RefreshToken;
use super::schema::{refresh_tokens, ws_tickets};
use super::Conn;

pub async fn insert_refresh(
    conn: &mut Conn,
    user_id: Uuid,
    family_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a live refresh token used and answers it; None when it is unknown, used or expired.
pub async fn consume_refresh(
    conn: &mut Conn,
    token_hash: &[u8],
) -> QueryResult<Option<RefreshToken>> {
    let now = Utc::now();
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::token_hash
                .eq(token_hash)
                .and(refresh_tokens::revoked_at.is_null())
                .and(refresh_tokens::expires_at.gt(now)),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .returning(RefreshToken::as_returning())
    .get_result(conn)
    .await
    .optional()
}

pub async fn find_refresh(conn: &mut Conn, token_hash: &[u8]) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn revoke_family(conn: &mut Conn, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::family_id
                .eq(family_id)
                .and(refresh_tokens::revoked_at.is_null()),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await
}

/// True while a login (a refresh-token family) has a token that can still be used.
pub async fn family_active(conn: &mut Conn, family_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        refresh_tokens::table.filter(
            refresh_tokens::family_id
                .eq(family_id)
                .and(refresh_tokens::revoked_at.is_null())
                .and(refresh_tokens::expires_at.gt(Utc::now())),
        ),
    ))
    .get_result(conn)
    .await
}

pub async fn insert_ticket(
    conn: &mut Conn,
    ticket_hash: &[u8],
    user_id: Uuid,
    tenant_id: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(ws_tickets::table)
        .values((
            ws_tickets::ticket_hash.eq(ticket_hash),
            ws_tickets::user_id.eq(user_id),
            ws_tickets::tenant_id.eq(tenant_id),
            ws_tickets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Redeems a ticket once: answers (user, tenant) and deletes it, or None if unknown or expired.
pub async fn redeem_ticket(
    conn: &mut Conn,
    ticket_hash: &[u8],
) -> QueryResult<Option<(Uuid, Uuid)>> {
    let now = Utc::now();
    // Expired tickets are swept whenever one is redeemed.
    diesel::delete(ws_tickets::table.filter(ws_tickets::expires_at.le(now)))
        .execute(conn)
        .await?;
    diesel::delete(ws_tickets::table.filter(ws_tickets::ticket_hash.eq(ticket_hash)))
        .returning((ws_tickets::user_id, ws_tickets::tenant_id))
        .get_result(conn)
        .await
        .optional()
}

/// Revokes every refresh token of a user (every login ends).
pub async fn revoke_user(conn: &mut Conn, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::user_id
                .eq(user_id)
                .and(refresh_tokens::revoked_at.is_null()),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await
}
