//! Counts behind page-number paging (the seeds' DRF pages need the total beside the page).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::room_members;
use super::Conn;

/// How many rooms `user_id` is a current member of (what `listing::my_rooms` lists).
pub async fn my_room_count(conn: &mut Conn, user_id: Uuid) -> QueryResult<i64> {
    room_members::table
        .filter(room_members::user_id.eq(user_id))
        .filter(room_members::left_at.is_null())
        .count()
        .get_result(conn)
        .await
}
