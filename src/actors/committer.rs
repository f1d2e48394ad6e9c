//! `Committer`: writes room changes, one per room thread (started on it by the supervisor). The
//! thread's room actors hand it their batches; it puts every batch that is waiting into one
//! transaction (at most `realtime.commit_parallel` run at a time), so many rooms share one commit
//! and one flush of the log instead of one each.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::commit::{self, BatchInput, Committed};
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

/// Commit one room's batch (with whatever other rooms' batches are waiting).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Commit {
    pub input: BatchInput,
    pub reply: oneshot::Sender<AppResult<Committed>>,
}

struct Waiting {
    input: BatchInput,
    reply: oneshot::Sender<AppResult<Committed>>,
}

pub struct Committer {
    pool: DbPool,
    metrics: Arc<Metrics>,
    /// Transactions that may run at once.
    parallel: usize,
    /// Writes one transaction takes at most (a room's batch is never split).
    max_ops: usize,
    running: usize,
    queue: VecDeque<Waiting>,
}

impl Committer {
    pub fn new(pool: DbPool, metrics: Arc<Metrics>, parallel: usize, max_ops: usize) -> Self {
        Committer {
            pool,
            metrics,
            parallel: parallel.max(1),
            max_ops: max_ops.max(1),
            running: 0,
            queue: VecDeque::new(),
        }
    }

    fn start(&mut self, ctx: &mut Context<Self>) {
        while self.running < self.parallel && !self.queue.is_empty() {
            let mut ops = 0;
            let mut take = Vec::new();
            while let Some(w) = self.queue.front() {
                if !take.is_empty() && ops + w.input.commands.len() > self.max_ops {
                    break;
                }
                ops += w.input.commands.len();
                take.extend(self.queue.pop_front());
            }
            self.running += 1;
            self.metrics.observe_commit(take.len(), ops);
            let (pool, metrics) = (self.pool.clone(), self.metrics.clone());
            ctx.spawn(
                run(pool, metrics, take)
                    .into_actor(self)
                    .map(|(), act, ctx| {
                        act.running -= 1;
                        act.start(ctx);
                    }),
            );
        }
    }
}

/// One transaction for all of `take`; when it fails, each room's batch is tried on its own, so
/// one room's trouble is never another's.
async fn run(pool: DbPool, metrics: Arc<Metrics>, take: Vec<Waiting>) {
    let inputs: Vec<&BatchInput> = take.iter().map(|w| &w.input).collect();
    match commit::commit(&pool, &inputs).await {
        Ok(results) => {
            for (w, r) in take.into_iter().zip(results) {
                let _ = w.reply.send(Ok(r));
            }
        }
        Err(e) if take.len() == 1 => {
            for w in take {
                let _ = w.reply.send(Err(e.clone()));
            }
        }
        Err(e) => {
            metrics
                .commit_fallbacks_total
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            log::debug!(
                "a commit of {} rooms failed ({e}); committing each alone",
                take.len()
            );
            for w in take {
                let alone = commit::commit(&pool, &[&w.input])
                    .await
                    .and_then(|mut r| r.pop().ok_or_else(|| AppError::internal("no result")));
                let _ = w.reply.send(alone);
            }
        }
    }
}

impl Actor for Committer {
    type Context = Context<Self>;
}

impl Handler<Commit> for Committer {
    type Result = ();

    fn handle(&mut self, msg: Commit, ctx: &mut Self::Context) {
        self.queue.push_back(Waiting {
            input: msg.input,
            reply: msg.reply,
        });
        self.start(ctx);
    }
}
