//! Uploaded files: recording them, and who may read them.

use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::models::{Attachment, NewAttachment};
use super::schema::{attachments, messages, room_members};
use super::Conn;

pub async fn insert(conn: &mut Conn, new: &NewAttachment<'_>) -> QueryResult<Attachment> {
    diesel::insert_into(attachments::table)
        .values(new)
        .returning(Attachment::as_returning())
        .get_result(conn)
        .await
}

/// Who is asking for a file.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// An admin or service caller of the tenant, who may read any room of it.
    pub trusted: bool,
}

/// The attachment if `reader` may download it: its uploader, or a current member of a room where a
/// live (not deleted) message carries it; a trusted caller for any such room of its tenant.
/// Everyone else, another tenant's users included, gets None.
pub async fn readable(
    conn: &mut Conn,
    reader: Reader,
    id: Uuid,
) -> QueryResult<Option<Attachment>> {
    let shared = messages::table
        .filter(messages::attachment_id.eq(id))
        .filter(messages::is_deleted.eq(false))
        .filter(messages::tenant_id.eq(reader.tenant_id));
    let mine = attachments::uploader_id.eq(reader.user_id);
    let query = attachments::table
        .filter(attachments::id.eq(id))
        .filter(attachments::tenant_id.eq(reader.tenant_id))
        .into_boxed();
    let query = if reader.trusted {
        query.filter(mine.or(exists(shared.select(messages::id))))
    } else {
        let in_my_rooms = shared.inner_join(
            room_members::table.on(room_members::room_id
                .eq(messages::room_id)
                .and(room_members::user_id.eq(reader.user_id))
                .and(room_members::left_at.is_null())),
        );
        query.filter(mine.or(exists(in_my_rooms.select(messages::id))))
    };
    query
        .select(Attachment::as_select())
        .first(conn)
        .await
        .optional()
}

/// Deletes up to `limit` uploads made before `before` that no message carries (never attached,
/// or their message was deleted); answers their stored keys (file and thumbnail) to remove.
/// Rows another sweep (another node) holds are skipped.
pub async fn delete_unattached(
    conn: &mut Conn,
    before: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> QueryResult<Vec<(String, Option<String>)>> {
    #[derive(QueryableByName)]
    struct Keys {
        #[diesel(sql_type = diesel::sql_types::Text)]
        storage_key: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        thumbnail_key: Option<String>,
    }
    let rows: Vec<Keys> = diesel::sql_query(
        "DELETE FROM attachments WHERE id IN (
             SELECT a.id FROM attachments a
             WHERE a.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = a.id)
             ORDER BY a.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING storage_key, thumbnail_key",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|k| (k.storage_key, k.thumbnail_key))
        .collect())
}
