//! What a commit tells the webhook side: the rooms with new messages whose notifications are to
//! be decided (written inside the commit's transaction, only for tenants subscribed to
//! `notification`), and, once committed, which endpoints have new room events (hints to this
//! node's worker). Room events themselves are not copied: `room_events` is their outbox.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::commit::{BatchInput, Committed};
use crate::db;

/// Marks the rooms of `done` (the committed batches of `inputs`) with a new message for a
/// notification decision, when their tenant subscribes to `notification`.
pub(super) async fn enqueue(
    c: &mut db::Conn,
    inputs: &[&BatchInput],
    done: &[Option<Committed>],
) -> diesel::QueryResult<()> {
    let Some(first) = inputs.first() else {
        return Ok(());
    };
    let gate = &first.hooks;
    let mut kinds: HashMap<Uuid, Arc<[String]>> = HashMap::new();
    let mut rooms = Vec::new();
    for (out, room) in done.iter().flatten() {
        let tenant = room.tenant_id;
        let wanted = match kinds.get(&tenant) {
            Some(k) => k.clone(),
            None => {
                let k = gate.kinds(c, tenant).await?;
                kinds.insert(tenant, k.clone());
                k
            }
        };
        let sent = events(out).any(|kind| kind == "new_message");
        if sent && wanted.iter().any(|w| w == "notification") {
            rooms.push((room.id, tenant));
        }
    }
    let delay = first.settings.notifications.delay_secs as f64;
    db::outbox::mark_rooms(c, &rooms, delay).await
}

/// After the commit: tells this node's worker which rooms have new events.
pub(super) fn hint(inputs: &[&BatchInput], committed: &[Committed]) {
    let Some(first) = inputs.first() else {
        return;
    };
    for (out, room) in committed {
        if events(out).next().is_some() {
            first.hooks.hint(room.tenant_id, room.id);
        }
    }
}

/// The kinds of the events a room's batch committed.
fn events(out: &[crate::error::AppResult<crate::commands::Applied>]) -> impl Iterator<Item = &str> {
    out.iter()
        .filter_map(|a| a.as_ref().ok())
        .flat_map(|a| a.event.iter().chain(a.notice.iter()))
        .map(|e| e.kind)
}
