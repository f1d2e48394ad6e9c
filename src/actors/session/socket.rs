//! The socket side of a session: the task that feeds the client's frames to the actor, and a
//! session prepared (its queue and first frame) before the connection is registered.

use std::sync::Arc;

use actix::prelude::*;
use actix_http::ws::CloseCode;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{ClientGone, Control, Inbound, SessionActor, SessionDeps, Violation};
use crate::actors::Outbox;
use crate::auth::AuthUser;
use crate::protocol::frames::{frame_text, ServerFrame};
use crate::transport::{CloseRequest, FrameReader, Incoming, OutboundBody, ReadError};

/// Feeds the client's frames to the session, one at a time.
pub async fn read_loop(mut reader: FrameReader, addr: Addr<SessionActor>) {
    while let Some(item) = reader.next().await {
        let ok = match item {
            Ok(Incoming::Text(text)) => addr
                .send(Inbound {
                    text: text.to_string(),
                })
                .await
                .is_ok(),
            Ok(Incoming::Binary) => addr.send(Control::Binary).await.is_ok(),
            Ok(Incoming::Ping(bytes)) => addr.send(Control::Ping(bytes)).await.is_ok(),
            Ok(Incoming::Pong) => addr.send(Control::Pong).await.is_ok(),
            Ok(Incoming::Close) => false,
            Err(ReadError::TooLarge) => {
                addr.do_send(Violation {
                    code: CloseCode::Size,
                    why: "frame too large".into(),
                });
                return;
            }
            Err(ReadError::NotUtf8) => {
                addr.do_send(Violation {
                    code: CloseCode::Invalid,
                    why: "text frame is not valid UTF-8".into(),
                });
                return;
            }
            Err(ReadError::Protocol(e)) => {
                addr.do_send(Violation {
                    code: CloseCode::Protocol,
                    why: format!("protocol error: {e}"),
                });
                return;
            }
        };
        if !ok {
            break;
        }
    }
    addr.do_send(ClientGone);
}

/// A session whose actor has an address but does not run yet: the connection can be registered
/// (and refused) before anything is sent.
pub struct Prepared {
    ctx: Context<SessionActor>,
    pub addr: Addr<SessionActor>,
    pub outbox: Outbox,
    close_tx: oneshot::Sender<CloseRequest>,
}

impl Prepared {
    /// The session's queue starts with `connection_established`, so it is the first frame
    /// whatever reaches the connection once it is registered.
    pub fn new(capacity: usize, user: &AuthUser, heartbeat_secs: u64) -> (Prepared, OutboundBody) {
        let (tx, rx) = mpsc::channel(capacity);
        let (close_tx, close_rx) = oneshot::channel();
        let ctx = Context::new();
        let addr = ctx.address();
        let outbox = Outbox::new(Uuid::new_v4(), user.id, tx, capacity, addr.clone());
        let hello = ServerFrame::ConnectionEstablished {
            user_id: user.id,
            tenant_id: user.tenant_id,
            session_id: outbox.session_id,
            heartbeat_secs,
            server_time: crate::domain::time::format(&chrono::Utc::now()),
        };
        outbox.push(&frame_text(&hello), false);
        let prepared = Prepared {
            ctx,
            addr,
            outbox,
            close_tx,
        };
        (prepared, OutboundBody::new(rx, close_rx))
    }

    /// Runs the actor and its reader task on the accepted socket.
    pub fn run(self, app: Arc<SessionDeps>, user: AuthUser, reader: FrameReader) {
        let actor = SessionActor::new(
            self.outbox.session_id,
            user,
            app,
            self.outbox,
            self.close_tx,
        );
        self.ctx.run(actor);
        actix_web::rt::spawn(read_loop(reader, self.addr));
    }
}
