//! Messages, their edit history and reactions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::{Attachment, Message, Reaction};
use super::schema::{attachments, message_edits, messages, reactions, users};
use super::Conn;

/// A message of a room, locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut Conn,
    room_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::id.eq(id).and(messages::room_id.eq(room_id)))
        .select(Message::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find_in_room(
    conn: &mut Conn,
    room_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::id.eq(id).and(messages::room_id.eq(room_id)))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()
}

/// The room a message of `tenant_id` belongs to.
pub async fn room_of(conn: &mut Conn, tenant_id: Uuid, id: Uuid) -> QueryResult<Option<Uuid>> {
    messages::table
        .filter(messages::id.eq(id).and(messages::tenant_id.eq(tenant_id)))
        .select(messages::room_id)
        .first(conn)
        .await
        .optional()
}

/// Messages by id (in no particular order).
pub async fn by_ids(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::id.eq_any(ids))
        .select(Message::as_select())
        .load(conn)
        .await
}

pub async fn set_content(
    conn: &mut Conn,
    id: Uuid,
    content: &str,
    at: DateTime<Utc>,
) -> QueryResult<Message> {
    diesel::update(messages::table.find(id))
        .set((messages::content.eq(content), messages::edited_at.eq(at)))
        .returning(Message::as_returning())
        .get_result(conn)
        .await
}

pub async fn insert_edit(
    conn: &mut Conn,
    message_id: Uuid,
    previous: &str,
    editor: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(message_edits::table)
        .values((
            message_edits::message_id.eq(message_id),
            message_edits::previous_content.eq(previous),
            message_edits::edited_by.eq(editor),
            message_edits::edited_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns a message into a tombstone: no text, no file, no reactions, no mentions, and no edit
/// history (the search entry is generated from the text, so it goes too). The copies of its
/// text in the event log are rewritten by `events::rewrite_messages`.
pub async fn tombstone(conn: &mut Conn, id: Uuid, at: DateTime<Utc>) -> QueryResult<Message> {
    diesel::delete(reactions::table.filter(reactions::message_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(message_edits::table.filter(message_edits::message_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::update(messages::table.find(id))
        .set((
            messages::content.eq(""),
            messages::attachment_id.eq(None::<Uuid>),
            messages::metadata.eq(None::<serde_json::Value>),
            messages::mentions.eq(Vec::<Option<Uuid>>::new()),
            messages::is_deleted.eq(true),
            messages::deleted_at.eq(at),
        ))
        .returning(Message::as_returning())
        .get_result(conn)
        .await
}

pub async fn increment_replies(conn: &mut Conn, id: Uuid) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set(messages::reply_count.eq(messages::reply_count + 1))
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a reaction; answers its time, or None when the user had already chosen that emoji.
pub async fn add_reaction(
    conn: &mut Conn,
    message_id: Uuid,
    user_id: Uuid,
    emoji: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    diesel::insert_into(reactions::table)
        .values((
            reactions::message_id.eq(message_id),
            reactions::user_id.eq(user_id),
            reactions::emoji.eq(emoji),
        ))
        .on_conflict_do_nothing()
        .returning(reactions::created_at)
        .get_result(conn)
        .await
        .optional()
}

pub async fn remove_reaction(
    conn: &mut Conn,
    message_id: Uuid,
    user_id: Uuid,
    emoji: &str,
) -> QueryResult<usize> {
    diesel::delete(
        reactions::table
            .filter(reactions::message_id.eq(message_id))
            .filter(reactions::user_id.eq(user_id))
            .filter(reactions::emoji.eq(emoji)),
    )
    .execute(conn)
    .await
}

pub async fn reactions_of(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<Vec<Reaction>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    reactions::table
        .filter(reactions::message_id.eq_any(ids))
        .order((reactions::created_at.asc(), reactions::user_id.asc()))
        .select(Reaction::as_select())
        .load(conn)
        .await
}

pub async fn display_names(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn attachments_by_id(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    attachments::table
        .filter(attachments::id.eq_any(ids))
        .select(Attachment::as_select())
        .load(conn)
        .await
}

/// An attachment the sender uploaded in their tenant (the only ones they may attach).
pub async fn own_attachment(
    conn: &mut Conn,
    tenant_id: Uuid,
    uploader: Uuid,
    id: Uuid,
) -> QueryResult<Option<Attachment>> {
    attachments::table
        .filter(attachments::id.eq(id))
        .filter(attachments::tenant_id.eq(tenant_id))
        .filter(attachments::uploader_id.eq(uploader))
        .select(Attachment::as_select())
        .first(conn)
        .await
        .optional()
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy)]
pub enum Cursor {
    /// The newest messages (with seq below this, when given).
    Before(Option<i64>),
    /// The oldest messages with seq above the first (and below the second, when given).
    After(i64, Option<i64>),
}

/// A page of a room's messages, oldest first, and whether more lie beyond it.
pub async fn page(
    conn: &mut Conn,
    room_id: Uuid,
    cursor: Cursor,
    limit: i64,
) -> QueryResult<(Vec<Message>, bool)> {
    let base = messages::table
        .filter(messages::room_id.eq(room_id))
        .select(Message::as_select())
        .into_boxed();
    let mut rows = match cursor {
        Cursor::Before(before) => {
            let q = match before {
                Some(b) => base.filter(messages::seq.lt(b)),
                None => base,
            };
            let mut rows: Vec<Message> = q
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)
                .await?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            rows.reverse();
            return Ok((rows, more));
        }
        Cursor::After(after, before) => {
            let q = match before {
                Some(b) => base.filter(messages::seq.lt(b)),
                None => base,
            };
            q.filter(messages::seq.gt(after))
                .order(messages::seq.asc())
                .limit(limit + 1)
                .load(conn)
                .await?
        }
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Replies to a message, oldest first.
pub async fn thread(
    conn: &mut Conn,
    room_id: Uuid,
    parent: Uuid,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(
            messages::room_id
                .eq(room_id)
                .and(messages::reply_to.eq(parent)),
        )
        .order(messages::seq.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
        .await
}

/// Edit history of a message, oldest first: (previous text, editor, when).
pub async fn edits(
    conn: &mut Conn,
    message_id: Uuid,
) -> QueryResult<Vec<(String, Uuid, DateTime<Utc>)>> {
    message_edits::table
        .filter(message_edits::message_id.eq(message_id))
        .order(message_edits::id.asc())
        .select((
            message_edits::previous_content,
            message_edits::edited_by,
            message_edits::edited_at,
        ))
        .load(conn)
        .await
}

/// Unread messages (from others, not deleted, after the read pointer) and mentions among them
/// (not those of people the user blocks).
pub async fn unread(
    conn: &mut Conn,
    room_id: Uuid,
    user_id: Uuid,
    last_read: i64,
) -> QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        unread: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mentions: i64,
    }
    let c: Counts = diesel::sql_query(
        "SELECT count(*) AS unread, count(*) FILTER (WHERE mentions @> ARRAY[$2]
             AND NOT EXISTS (SELECT 1 FROM user_blocks b
                 WHERE b.blocker_id = $2 AND b.blocked_id = sender_id)) AS mentions
         FROM messages WHERE room_id = $1 AND seq > $3 AND sender_id <> $2 AND NOT is_deleted",
    )
    .bind::<diesel::sql_types::Uuid, _>(room_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<diesel::sql_types::BigInt, _>(last_read)
    .get_result(conn)
    .await?;
    Ok((c.unread, c.mentions))
}

/// Members whose read pointer has reached `seq`: (user id, display name, last_read_seq).
pub async fn read_by(
    conn: &mut Conn,
    room_id: Uuid,
    seq: i64,
) -> QueryResult<Vec<(Uuid, String, i64)>> {
    use super::schema::room_members;
    room_members::table
        .inner_join(users::table.on(users::id.eq(room_members::user_id)))
        .filter(room_members::room_id.eq(room_id))
        .filter(room_members::left_at.is_null())
        .filter(room_members::last_read_seq.ge(seq))
        .order(users::display_name.asc())
        .select((users::id, users::display_name, room_members::last_read_seq))
        .load(conn)
        .await
}

/// Page-number paging (seed 004): the room's messages oldest first, `limit` after `offset`, and
/// how many the room holds.
pub async fn numbered_page(
    conn: &mut Conn,
    room_id: Uuid,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Message>, i64)> {
    let total: i64 = messages::table
        .filter(messages::room_id.eq(room_id))
        .count()
        .get_result(conn)
        .await?;
    let rows = messages::table
        .filter(messages::room_id.eq(room_id))
        .select(Message::as_select())
        .order(messages::seq.asc())
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((rows, total))
}

// Seed 003 (dialect issue 13):

/// The seqs of those of `ids` that are messages of the room.
pub async fn seqs_in_room(conn: &mut Conn, room_id: Uuid, ids: &[Uuid]) -> QueryResult<Vec<i64>> {
    messages::table
        .filter(messages::room_id.eq(room_id).and(messages::id.eq_any(ids)))
        .select(messages::seq)
        .load(conn)
        .await
}
