//! The webhook outbox rows of one commit: each committed event a subscribed endpoint of its
//! tenant wants, and the rooms with new messages whose notifications are to be decided, written
//! by one statement inside the commit's transaction (nothing when no endpoint subscribes).

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::commit::{BatchInput, Committed};
use crate::db::{self, outbox::OutboxRow};
use crate::domain::webhook::{event_body, event_for_kind, room_event_id};

/// Writes the outbox rows of `done` (the committed batches of `inputs`).
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
    let mut rows = Vec::new();
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
        if wanted.is_empty() {
            continue;
        }
        let wants = |t: &str| wanted.iter().any(|w| w == t);
        let mut sent = false;
        for event in out.iter().filter_map(|a| a.as_ref().ok()?.event.as_ref()) {
            sent |= event.kind == "new_message";
            let Some(t) = event_for_kind(event.kind).filter(|t| wants(t)) else {
                continue;
            };
            rows.push(OutboxRow {
                msg_id: room_event_id(room.id, event.seq),
                tenant_id: tenant,
                kind: t,
                body: event_body(t, tenant, room.id, event.seq, &event.text),
            });
        }
        if sent && wants("notification") {
            rooms.push((room.id, tenant));
        }
    }
    let delay = first.settings.notifications.delay_secs as f64;
    db::outbox::enqueue(c, &rows, &rooms, delay).await
}
