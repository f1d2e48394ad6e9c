//! Replay: a connection that subscribes with `after_seq` first gets the events it missed from the
//! event log; live events wait for it meanwhile, so it sees every event once, in seq order.

use std::time::Instant;

use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

use super::{Phase, RoomActor, Subscribe, Subscriber};
use crate::actors::Outbox;
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::protocol::views::RoomView;

impl Handler<Subscribe> for RoomActor {
    type Result = AppResult<RoomView>;

    fn handle(&mut self, msg: Subscribe, ctx: &mut Self::Context) -> Self::Result {
        self.last_activity = Instant::now();
        let room = self.may(msg.tenant_id, msg.user_id, Access::Listen)?;
        let view = RoomView::build(room, self.members.len() as i64);
        let last = self.delivered;
        let session_id = msg.outbox.session_id;
        let mut sub = Subscriber {
            user_id: msg.user_id.uuid(),
            outbox: msg.outbox,
            phase: Phase::Live,
        };
        match msg.after_seq {
            None => {}
            Some(after) if after < 0 => {
                return Err(AppError::bad_request("after_seq", "after_seq must be >= 0"))
            }
            Some(after) if after >= last => {
                sub.outbox.push(&resumed(self.room_id, last), false);
            }
            Some(after) if last - after > self.deps.settings.limits.max_resume_events => {
                let frame = ServerFrame::ResyncRequired {
                    room_id: self.room_id,
                    last_seq: last,
                };
                sub.outbox.push(&frame_text(&frame), false);
            }
            Some(after) => {
                sub.phase = Phase::CatchingUp(Vec::new());
                let pool = self.deps.pool.clone();
                let replay = replay(pool, self.room_id, after, last, sub.outbox.clone());
                ctx.spawn(
                    replay
                        .into_actor(self)
                        .map(move |done, act, _| act.finish_replay(session_id, last, done)),
                );
            }
        }
        self.subscribers.insert(session_id, sub);
        Ok(view)
    }
}

/// How a replay went.
enum Replayed {
    /// Every event `after < seq <= upto` went out.
    Complete,
    /// The log lacks some of them (history imported without events, or swept): the connection
    /// is told to resync instead; nothing was sent.
    Gap,
    /// They could not be read, or the connection does not take them.
    Failed,
}

/// Streams the logged events `after < seq <= upto` into the connection's queue.
async fn replay(pool: DbPool, room_id: Uuid, after: i64, upto: i64, outbox: Outbox) -> Replayed {
    let rows = match pool.get().await {
        Ok(mut conn) => db::events::range(&mut conn, room_id, after, upto).await,
        Err(e) => {
            log::error!("resume of room {room_id}: {e}");
            return Replayed::Failed;
        }
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            log::error!("resume of room {room_id}: {e}");
            return Replayed::Failed;
        }
    };
    let contiguous =
        rows.len() as i64 == upto - after && rows.first().map(|r| r.0) == Some(after + 1);
    if !contiguous {
        return Replayed::Gap;
    }
    for (_, payload) in rows {
        if !outbox.send_wait(ByteString::from(payload)).await {
            return Replayed::Failed;
        }
    }
    Replayed::Complete
}

fn resumed(room_id: Uuid, last_seq: i64) -> ByteString {
    frame_text(&ServerFrame::Resumed { room_id, last_seq })
}

impl RoomActor {
    /// The replay is out: the live events held meanwhile follow, then `resumed`.
    fn finish_replay(&mut self, session_id: Uuid, upto: i64, replayed: Replayed) {
        let room_id = self.room_id;
        let Some(sub) = self.subscribers.get_mut(&session_id) else {
            return;
        };
        if let Replayed::Failed = replayed {
            self.subscribers.remove(&session_id);
            return;
        }
        let gap = matches!(replayed, Replayed::Gap);
        if gap {
            let frame = ServerFrame::ResyncRequired {
                room_id,
                last_seq: upto,
            };
            sub.outbox.push(&frame_text(&frame), false);
        }
        let held = match std::mem::replace(&mut sub.phase, Phase::Live) {
            Phase::CatchingUp(held) => held,
            Phase::Live => Vec::new(),
        };
        let mut last = upto;
        for (seq, text) in held {
            if seq > upto {
                sub.outbox.push(&text, false);
                last = seq;
            }
        }
        if !gap {
            sub.outbox.push(&resumed(room_id, last), false);
        }
    }
}
