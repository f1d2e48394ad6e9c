//! A session's part in a graceful shutdown: finish the frame in hand, refuse newer ones, say
//! `closing {reason: "shutdown", retry_after_ms}` after everything queued, close with 1001.

use std::time::Duration;

use actix::prelude::*;
use actix_http::ws::CloseCode;

use super::SessionActor;

use crate::error::AppError;
use crate::protocol::frames::{frame_text, ServerFrame};

/// Where a session is in a graceful shutdown.
#[derive(Default)]
pub(super) struct ShutdownState {
    /// A frame is being handled (its answer is not queued yet).
    pub(super) busy: bool,
    /// Shutting down: when the client should retry.
    retry_after_ms: Option<u64>,
    /// `closing` is queued: wait for the queue to drain, then close.
    closing_queued: bool,
}

/// The node is shutting down: the frame in hand is finished (its commit and ack), new frames are
/// refused with `unavailable`, then `closing {reason: "shutdown", retry_after_ms}` goes out after
/// everything queued before it, and the socket closes with 1001 (going away).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ShutDown {
    pub retry_after_ms: u64,
}

impl Handler<ShutDown> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: ShutDown, ctx: &mut Self::Context) {
        if self.shutdown.retry_after_ms.is_some() {
            return;
        }
        self.shutdown.retry_after_ms = Some(msg.retry_after_ms);
        ctx.run_interval(Duration::from_millis(20), |act, ctx| act.shutdown_step(ctx));
    }
}

impl SessionActor {
    /// While shutting down, a new frame is answered `unavailable` (and nothing after `closing`).
    pub(super) fn refuse_while_shutting_down(
        &mut self,
        reference: Option<String>,
    ) -> Option<ResponseActFuture<Self, ()>> {
        let retry_after_ms = self.shutdown.retry_after_ms?;
        if !self.shutdown.closing_queued {
            let e = AppError::Unavailable { retry_after_ms };
            self.send(&ServerFrame::error(reference, &e));
        }
        Some(Box::pin(actix::fut::ready(())))
    }

    fn shutdown_step(&mut self, ctx: &mut Context<Self>) {
        if self.shutdown.busy || self.outbox.queued() > 0 {
            return;
        }
        if !self.shutdown.closing_queued {
            self.outbox.push_last(&frame_text(&ServerFrame::Closing {
                reason: "shutdown".into(),
                retry_after_ms: self.shutdown.retry_after_ms,
            }));
            self.shutdown.closing_queued = true;
            return;
        }
        self.close(ctx, CloseCode::Away, None);
    }
}
