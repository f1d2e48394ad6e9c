//! Rooms and members: creation, lookup, membership changes, read pointers, sequence numbers.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::{Member, NewRoom, Room, User};
use super::schema::{room_members, rooms, users};
use super::Conn;

pub async fn insert(conn: &mut Conn, new: &NewRoom<'_>) -> QueryResult<Room> {
    diesel::insert_into(rooms::table)
        .values(new)
        .returning(Room::as_returning())
        .get_result(conn)
        .await
}

/// A room of `tenant_id`, or None: other tenants' rooms do not exist for the caller.
pub async fn find(conn: &mut Conn, tenant_id: Uuid, id: Uuid) -> QueryResult<Option<Room>> {
    rooms::table
        .filter(rooms::id.eq(id).and(rooms::tenant_id.eq(tenant_id)))
        .select(Room::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_any(conn: &mut Conn, id: Uuid) -> QueryResult<Option<Room>> {
    rooms::table
        .find(id)
        .select(Room::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_ref(
    conn: &mut Conn,
    tenant_id: Uuid,
    kind: &str,
    ref_id: &str,
) -> QueryResult<Option<Room>> {
    rooms::table
        .filter(rooms::tenant_id.eq(tenant_id))
        .filter(
            rooms::external_ref_kind
                .eq(kind)
                .and(rooms::external_ref_id.eq(ref_id)),
        )
        .select(Room::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_direct(conn: &mut Conn, tenant_id: Uuid, key: &str) -> QueryResult<Option<Room>> {
    rooms::table
        .filter(
            rooms::tenant_id
                .eq(tenant_id)
                .and(rooms::direct_key.eq(key)),
        )
        .select(Room::as_select())
        .first(conn)
        .await
        .optional()
}

/// The current (not left, not removed) members of a room with their users.
pub async fn active_members(conn: &mut Conn, room_id: Uuid) -> QueryResult<Vec<(Member, User)>> {
    active_members_of(conn, &[room_id]).await
}

/// The current members of several rooms, each room's in joining order.
pub async fn active_members_of(
    conn: &mut Conn,
    room_ids: &[Uuid],
) -> QueryResult<Vec<(Member, User)>> {
    room_members::table
        .inner_join(users::table.on(users::id.eq(room_members::user_id)))
        .filter(room_members::room_id.eq_any(room_ids))
        .filter(room_members::left_at.is_null())
        .order((room_members::joined_at.asc(), room_members::user_id.asc()))
        .select((Member::as_select(), User::as_select()))
        .load(conn)
        .await
}

/// The caller's current membership of a room, if any.
pub async fn membership(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<Member>> {
    room_members::table
        .find((room_id, user_id))
        .filter(room_members::left_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn member_count(conn: &mut Conn, room_id: Uuid) -> QueryResult<i64> {
    room_members::table
        .filter(
            room_members::room_id
                .eq(room_id)
                .and(room_members::left_at.is_null()),
        )
        .count()
        .get_result(conn)
        .await
}

/// Current member counts of several rooms in one query (rooms with none are absent).
pub async fn member_counts(
    conn: &mut Conn,
    room_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, i64>> {
    if room_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Uuid, i64)> = room_members::table
        .filter(room_members::room_id.eq_any(room_ids))
        .filter(room_members::left_at.is_null())
        .group_by(room_members::room_id)
        .select((room_members::room_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Adds a member, or brings back one who left (keeping their read pointer).
pub async fn upsert_member(
    conn: &mut Conn,
    room: &Room,
    user_id: Uuid,
    role: &str,
) -> QueryResult<Member> {
    diesel::insert_into(room_members::table)
        .values((
            room_members::room_id.eq(room.id),
            room_members::user_id.eq(user_id),
            room_members::tenant_id.eq(room.tenant_id),
            room_members::role.eq(role),
        ))
        .on_conflict((room_members::room_id, room_members::user_id))
        .do_update()
        .set((
            room_members::role.eq(role),
            room_members::joined_at.eq(Utc::now()),
            room_members::left_at.eq(None::<DateTime<Utc>>),
            room_members::removed_by.eq(None::<Uuid>),
            room_members::archived.eq(false),
        ))
        .returning(Member::as_returning())
        .get_result(conn)
        .await
}

/// Marks a member as gone (left when `by` is themselves, removed otherwise).
pub async fn remove_member(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
    by: Uuid,
) -> QueryResult<usize> {
    let removed_by = (by != user_id).then_some(by);
    diesel::update(
        room_members::table
            .find((room_id, user_id))
            .filter(room_members::left_at.is_null()),
    )
    .set((
        room_members::left_at.eq(Utc::now()),
        room_members::removed_by.eq(removed_by),
    ))
    .execute(conn)
    .await
}

pub async fn set_role(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> QueryResult<Member> {
    diesel::update(
        room_members::table
            .find((room_id, user_id))
            .filter(room_members::left_at.is_null()),
    )
    .set(room_members::role.eq(role))
    .returning(Member::as_returning())
    .get_result(conn)
    .await
}

pub async fn set_archived(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
    archived: bool,
) -> QueryResult<usize> {
    diesel::update(
        room_members::table
            .find((room_id, user_id))
            .filter(room_members::left_at.is_null()),
    )
    .set(room_members::archived.eq(archived))
    .execute(conn)
    .await
}

pub struct RoomPatch<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub max_participants: Option<Option<i32>>,
    pub is_active: Option<bool>,
}

pub async fn update(conn: &mut Conn, room_id: Uuid, patch: &RoomPatch<'_>) -> QueryResult<Room> {
    diesel::update(rooms::table.find(room_id))
        .set((
            patch.name.map(|n| rooms::name.eq(n)),
            patch.description.map(|d| rooms::description.eq(d)),
            patch
                .max_participants
                .map(|m| rooms::max_participants.eq(m)),
            patch.is_active.map(|a| rooms::is_active.eq(a)),
            rooms::updated_at.eq(Utc::now()),
        ))
        .returning(Room::as_returning())
        .get_result(conn)
        .await
}

/// Users who share at least one room with `user_id` (themselves included).
pub async fn users_sharing_rooms(conn: &mut Conn, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let mine = diesel::alias!(room_members as mine);
    let my_rooms = mine
        .filter(mine.field(room_members::user_id).eq(user_id))
        .filter(mine.field(room_members::left_at).is_null())
        .select(mine.field(room_members::room_id));
    room_members::table
        .filter(
            room_members::room_id
                .eq_any(my_rooms)
                .and(room_members::left_at.is_null()),
        )
        .select(room_members::user_id)
        .distinct()
        .load(conn)
        .await
}

/// Locks the rooms' rows for the rest of the transaction, in id order: answers (id, last_seq,
/// is_active) for each. Writers of one room (on any node) queue here, which is what makes seqs
/// gap-free and ordered.
pub async fn lock_many(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, i64, bool)>> {
    rooms::table
        .filter(rooms::id.eq_any(ids))
        .order(rooms::id.asc())
        .select((rooms::id, rooms::last_seq, rooms::is_active))
        .for_update()
        .load(conn)
        .await
}

/// Moves a read pointer forward; None when it was already at or past `seq` (or not a member).
pub async fn move_read_forward(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
    seq: i64,
) -> QueryResult<Option<i64>> {
    diesel::update(
        room_members::table
            .find((room_id, user_id))
            .filter(room_members::left_at.is_null())
            .filter(room_members::last_read_seq.lt(seq)),
    )
    .set(room_members::last_read_seq.eq(seq))
    .returning(room_members::last_read_seq)
    .get_result(conn)
    .await
    .optional()
}

/// Creates a room and its first members in one transaction.
pub async fn create(
    conn: &mut Conn,
    new: &NewRoom<'_>,
    members: &[(Uuid, &str)],
) -> QueryResult<Room> {
    use diesel_async::AsyncConnection;
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let room = insert(c, new).await?;
        let rows: Vec<_> = members
            .iter()
            .map(|(user, role)| {
                (
                    room_members::room_id.eq(room.id),
                    room_members::user_id.eq(*user),
                    room_members::tenant_id.eq(room.tenant_id),
                    room_members::role.eq(*role),
                )
            })
            .collect();
        diesel::insert_into(room_members::table)
            .values(rows)
            .execute(c)
            .await?;
        Ok(room)
    })
    .await
}
