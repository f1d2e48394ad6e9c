//! Who blocks whom: private to the blocker.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::User;
use super::schema::{user_blocks, users};
use super::Conn;

/// Blocks `blocked`; answers false when already blocked.
pub async fn block(conn: &mut Conn, blocker: Uuid, blocked: Uuid) -> QueryResult<bool> {
    let n = diesel::insert_into(user_blocks::table)
        .values((
            user_blocks::blocker_id.eq(blocker),
            user_blocks::blocked_id.eq(blocked),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Lifts a block; answers false when there was none.
pub async fn unblock(conn: &mut Conn, blocker: Uuid, blocked: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(
        user_blocks::table.filter(
            user_blocks::blocker_id
                .eq(blocker)
                .and(user_blocks::blocked_id.eq(blocked)),
        ),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// The users `blocker` blocks, most recent first, with when.
pub async fn list(conn: &mut Conn, blocker: Uuid) -> QueryResult<Vec<(User, DateTime<Utc>)>> {
    user_blocks::table
        .inner_join(users::table.on(users::id.eq(user_blocks::blocked_id)))
        .filter(user_blocks::blocker_id.eq(blocker))
        .order((user_blocks::created_at.desc(), user_blocks::blocked_id))
        .select((User::as_select(), user_blocks::created_at))
        .load(conn)
        .await
}

/// The ids `blocker` blocks.
pub async fn blocked_ids(conn: &mut Conn, blocker: Uuid) -> QueryResult<Vec<Uuid>> {
    user_blocks::table
        .filter(user_blocks::blocker_id.eq(blocker))
        .select(user_blocks::blocked_id)
        .load(conn)
        .await
}

/// Which of `blockers` block `sender`.
pub async fn blocking(conn: &mut Conn, blockers: &[Uuid], sender: Uuid) -> QueryResult<Vec<Uuid>> {
    if blockers.is_empty() {
        return Ok(Vec::new());
    }
    user_blocks::table
        .filter(
            user_blocks::blocker_id
                .eq_any(blockers)
                .and(user_blocks::blocked_id.eq(sender)),
        )
        .select(user_blocks::blocker_id)
        .load(conn)
        .await
}
