//! Issue 20: the link-preview cache (per URL) and the preview each message carries, as JSON (the
//! wire type lives in `protocol::views::LinkPreviewView`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{link_preview_cache, message_link_previews};
use super::Conn;

/// The cached answer for `url` fetched after `fresh_after`: `Some(None)` means "nothing to show".
pub async fn cached(
    conn: &mut Conn,
    url: &str,
    fresh_after: DateTime<Utc>,
) -> QueryResult<Option<Option<Value>>> {
    link_preview_cache::table
        .filter(link_preview_cache::url.eq(url))
        .filter(link_preview_cache::fetched_at.gt(fresh_after))
        .select(link_preview_cache::preview)
        .first::<Option<Value>>(conn)
        .await
        .optional()
}

/// Remembers what `url` gave (None: nothing to show).
pub async fn remember(conn: &mut Conn, url: &str, preview: Option<&Value>) -> QueryResult<()> {
    diesel::insert_into(link_preview_cache::table)
        .values((
            link_preview_cache::url.eq(url),
            link_preview_cache::preview.eq(preview),
            link_preview_cache::fetched_at.eq(Utc::now()),
        ))
        .on_conflict(link_preview_cache::url)
        .do_update()
        .set((
            link_preview_cache::preview.eq(preview),
            link_preview_cache::fetched_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives `message_id` its preview; false when it already had one.
pub async fn attach(conn: &mut Conn, message_id: Uuid, preview: &Value) -> QueryResult<bool> {
    let n = diesel::insert_into(message_link_previews::table)
        .values((
            message_link_previews::message_id.eq(message_id),
            message_link_previews::preview.eq(preview),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The previews of those of `ids` that have one.
pub async fn of_messages(conn: &mut Conn, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, Value>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Value)> = message_link_previews::table
        .filter(message_link_previews::message_id.eq_any(ids))
        .select((
            message_link_previews::message_id,
            message_link_previews::preview,
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
