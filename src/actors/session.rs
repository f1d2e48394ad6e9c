//! `SessionActor`: one per WebSocket. Decodes frames, checks rate limits, routes typed messages to
//! rooms and presence, answers with `ack`/`error`, runs the heartbeat, and closes itself when its
//! outbound queue overflows. A reader task feeds frames in one at a time; the socket's response
//! body drains the bounded outbound queue (see `transport`).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_http::ws::{CloseCode, CloseReason};
use actix_web::web;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::presence::{Disconnect, SetStatus};
use super::room::{NewPost, RoomActor, SetTyping, Subscribe, Unsubscribe, WriteOp};
use super::supervisor;
use super::{frame_text, Actor as Caller, Outbox, Outgoing};
use crate::auth::AuthUser;
use crate::db;
use crate::domain;
use crate::error::{AppError, AppResult};
use crate::protocol::frames::{parse_client_frame, AckBody, ClientFrame, ServerFrame};
use crate::state::AppState;
use crate::transport::{FrameReader, Incoming, OutboundBody, ReadError};

/// The most rooms one `resume` frame may name.
const MAX_RESUME_ROOMS: usize = 200;

pub use crate::transport::CloseRequest;

// Graceful shutdown (issue 15): `ShutDown` and the session's side of it.
mod shutdown;
pub use shutdown::ShutDown;
use shutdown::ShutdownState;

pub struct SessionActor {
    id: Uuid,
    user: AuthUser,
    app: web::Data<AppState>,
    outbox: Outbox,
    close: Option<oneshot::Sender<CloseRequest>>,
    joined: HashMap<Uuid, Addr<RoomActor>>,
    last_heard: Instant,
    /// Graceful shutdown (see `ShutDown`).
    shutdown: ShutdownState,
}

impl SessionActor {
    pub fn new(
        id: Uuid,
        user: AuthUser,
        app: web::Data<AppState>,
        outbox: Outbox,
        close: oneshot::Sender<CloseRequest>,
    ) -> Self {
        SessionActor {
            id,
            user,
            app,
            outbox,
            close: Some(close),
            joined: HashMap::new(),
            last_heard: Instant::now(),
            shutdown: ShutdownState::default(),
        }
    }

    fn send(&self, frame: &ServerFrame) {
        self.outbox.push(&frame_text(frame), frame.is_ephemeral());
    }

    fn caller(&self) -> Caller {
        Caller::from_auth(&self.user)
    }

    /// Ends the connection: a `closing {reason}` frame (when given), then a close frame.
    fn close(&mut self, ctx: &mut Context<Self>, code: CloseCode, reason: Option<&str>) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(CloseRequest {
                closing: reason.map(|r| {
                    frame_text(&ServerFrame::Closing {
                        reason: r.to_owned(),
                        retry_after_ms: None,
                    })
                }),
                reason: CloseReason {
                    code,
                    description: reason.map(str::to_owned),
                },
            });
        }
        ctx.stop();
    }

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let timeout = Duration::from_secs(self.app.settings.realtime.client_timeout_secs);
        if self.last_heard.elapsed() > timeout {
            self.close(ctx, CloseCode::Away, Some("timeout"));
            return;
        }
        self.outbox.push_control(Outgoing::Ping);
        // A room actor that died is replaced; its subscribers are told to resume.
        let dead: Vec<Uuid> = self
            .joined
            .iter()
            .filter(|(_, a)| !a.connected())
            .map(|(r, _)| *r)
            .collect();
        for room_id in dead {
            self.joined.remove(&room_id);
            self.send(&ServerFrame::ResumeRequired { room_id });
        }
    }

    /// The room a message belongs to: the one named, or the message's own (in my tenant).
    async fn room_of_message(
        app: &AppState,
        tenant_id: Uuid,
        message_id: Uuid,
        named: Option<Uuid>,
    ) -> AppResult<Uuid> {
        if let Some(r) = named {
            return Ok(r);
        }
        let mut conn = app.pool.get().await?;
        db::messages::room_of(&mut conn, tenant_id, message_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Handles one frame to the end (the reader waits, so a connection's frames keep their order).
    fn dispatch(
        &mut self,
        reference: Option<String>,
        frame: ClientFrame,
    ) -> ResponseActFuture<Self, ()> {
        let app = self.app.clone();
        let caller = self.caller();
        let user_id = self.user.id;
        let tenant_id = self.user.tenant_id;
        let outbox = self.outbox.clone();
        let r = reference.clone();
        // Runs `work`, then answers `ack` with what it returns, or `error`.
        let answer = move |res: AppResult<AckBody>| match res {
            Ok(body) => ServerFrame::ack(r, body),
            Err(e) => ServerFrame::error(r, &e),
        };
        match frame {
            ClientFrame::Ping => {
                self.send(&ServerFrame::Pong);
                Box::pin(actix::fut::ready(()))
            }
            ClientFrame::JoinRoom { room_id } => {
                let work = async move {
                    let addr = supervisor::room(&app.supervisor, room_id).await?;
                    let view = addr
                        .send(Subscribe {
                            tenant_id,
                            user_id,
                            outbox,
                            after_seq: None,
                        })
                        .await
                        .map_err(AppError::internal)??;
                    Ok((addr, view))
                };
                Box::pin(work.into_actor(self).map(move |res, act, _| match res {
                    Ok((addr, view)) => {
                        act.joined.insert(room_id, addr);
                        act.send(&answer(Ok(AckBody {
                            room_id: Some(room_id),
                            room: Some(view),
                            ..Default::default()
                        })));
                    }
                    Err(e) => act.send(&answer(Err(e))),
                }))
            }
            ClientFrame::LeaveRoom { room_id } => {
                if let Some(addr) = self.joined.remove(&room_id) {
                    addr.do_send(Unsubscribe {
                        session_id: self.id,
                    });
                }
                self.send(&answer(Ok(AckBody {
                    room_id: Some(room_id),
                    ..Default::default()
                })));
                Box::pin(actix::fut::ready(()))
            }
            ClientFrame::Resume { rooms } => {
                if rooms.len() > MAX_RESUME_ROOMS {
                    let e = AppError::bad_request(
                        "rooms",
                        format!("resume names at most {MAX_RESUME_ROOMS} rooms"),
                    );
                    self.send(&answer(Err(e)));
                    return Box::pin(actix::fut::ready(()));
                }
                let session_id = self.id;
                let work = async move {
                    let mut out = Vec::new();
                    for r in rooms {
                        let res = async {
                            let addr = supervisor::room(&app.supervisor, r.room_id).await?;
                            addr.send(Subscribe {
                                tenant_id,
                                user_id,
                                outbox: outbox.clone(),
                                after_seq: Some(r.after_seq),
                            })
                            .await
                            .map_err(AppError::internal)??;
                            Ok::<_, AppError>(addr)
                        }
                        .await;
                        out.push((r.room_id, res));
                    }
                    out
                };
                Box::pin(work.into_actor(self).map(move |results, act, _| {
                    let mut first_error = None;
                    for (room_id, res) in results {
                        match res {
                            Ok(addr) => {
                                if let Some(old) = act.joined.insert(room_id, addr.clone()) {
                                    if old != addr {
                                        old.do_send(Unsubscribe { session_id });
                                    }
                                }
                            }
                            Err(e) => {
                                act.send(&ServerFrame::error(reference.clone(), &e));
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                    if first_error.is_none() {
                        act.send(&answer(Ok(AckBody::default())));
                    }
                }))
            }
            ClientFrame::StartTyping { room_id } | ClientFrame::StopTyping { room_id } => {
                let is_typing = matches!(frame, ClientFrame::StartTyping { .. });
                let work = async move {
                    let addr = supervisor::room(&app.supervisor, room_id).await?;
                    addr.send(SetTyping {
                        tenant_id,
                        user_id,
                        is_typing,
                    })
                    .await
                    .map_err(AppError::internal)?
                };
                Box::pin(work.into_actor(self).map(move |res, act, _| match res {
                    // Typing is acknowledged only when the client asked (it is frequent).
                    Ok(()) if reference.is_none() => {}
                    other => act.send(&answer(other.map(|()| AckBody {
                        room_id: Some(room_id),
                        ..Default::default()
                    }))),
                }))
            }
            ClientFrame::UpdatePresence {
                status,
                current_room,
            } => {
                let work = async move {
                    let view = app
                        .presence
                        .send(SetStatus {
                            user_id,
                            tenant_id,
                            status,
                            current_room,
                        })
                        .await
                        .map_err(AppError::internal)??;
                    Ok(AckBody {
                        presence: Some(view),
                        ..Default::default()
                    })
                };
                Box::pin(
                    work.into_actor(self)
                        .map(move |res, act, _| act.send(&answer(res))),
                )
            }
            write => {
                // The actor of a joined room the frame names: one supervisor hop less.
                let known = write.room_id().and_then(|r| self.joined.get(&r).cloned());
                let work = async move {
                    let (room_id, op) = Self::write_op(&app, tenant_id, user_id, write).await?;
                    let out =
                        supervisor::apply_via(&app.supervisor, known, room_id, caller, op).await?;
                    Ok(AckBody {
                        room_id: Some(room_id),
                        seq: out.seq,
                        message: out.message,
                        last_read_seq: out.last_read_seq,
                        unread_count: out.unread_count,
                        last_seq: Some(out.last_seq),
                        duplicate: out.duplicate.then_some(true),
                        ..Default::default()
                    })
                };
                Box::pin(
                    work.into_actor(self)
                        .map(move |res, act, _| act.send(&answer(res))),
                )
            }
        }
    }

    /// A reaction added or removed, and the room of its message.
    async fn reaction(
        app: &AppState,
        tenant_id: Uuid,
        message_id: Uuid,
        emoji: &str,
        room_id: Option<Uuid>,
        add: bool,
    ) -> AppResult<(Uuid, WriteOp)> {
        let emoji = domain::emoji("emoji", emoji)?;
        let room = Self::room_of_message(app, tenant_id, message_id, room_id).await?;
        Ok((
            room,
            WriteOp::React {
                message_id,
                emoji,
                add,
            },
        ))
    }

    /// The room and the validated write a frame asks for.
    async fn write_op(
        app: &AppState,
        tenant_id: Uuid,
        user_id: Uuid,
        frame: ClientFrame,
    ) -> AppResult<(Uuid, WriteOp)> {
        let s = &app.settings;
        Ok(match frame {
            ClientFrame::SendMessage(f) => {
                app.check_message_rate(user_id)?;
                let post = NewPost::parse(
                    s,
                    &f.content,
                    f.message_type.as_deref(),
                    f.reply_to,
                    f.attachment_id,
                    f.metadata.as_ref(),
                    f.client_id.as_deref(),
                )?;
                (f.room_id, WriteOp::Send(post))
            }
            ClientFrame::EditMessage {
                message_id,
                content,
                room_id,
            } => {
                let content =
                    domain::message_content("content", &content, s.limits.max_message_chars, true)?;
                let room = Self::room_of_message(app, tenant_id, message_id, room_id).await?;
                (
                    room,
                    WriteOp::Edit {
                        message_id,
                        content,
                    },
                )
            }
            ClientFrame::DeleteMessage {
                message_id,
                room_id,
            } => {
                let room = Self::room_of_message(app, tenant_id, message_id, room_id).await?;
                (room, WriteOp::Delete { message_id })
            }
            ClientFrame::AddReaction {
                message_id,
                emoji,
                room_id,
            } => Self::reaction(app, tenant_id, message_id, &emoji, room_id, true).await?,
            ClientFrame::RemoveReaction {
                message_id,
                emoji,
                room_id,
            } => Self::reaction(app, tenant_id, message_id, &emoji, room_id, false).await?,
            ClientFrame::MarkRead { room_id, seq } => (room_id, WriteOp::MarkRead { seq }),
            _ => return Err(AppError::bad_request("type", "not a write")),
        })
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.app
            .metrics
            .ws_connections
            .fetch_add(1, Ordering::Relaxed);
        let every = Duration::from_secs(self.app.settings.realtime.heartbeat_secs);
        ctx.run_interval(every, |act, ctx| act.heartbeat(ctx));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.app
            .metrics
            .ws_connections
            .fetch_sub(1, Ordering::Relaxed);
        for addr in self.joined.values() {
            addr.do_send(Unsubscribe {
                session_id: self.id,
            });
        }
        self.app.presence.do_send(Disconnect {
            user_id: self.user.id,
            session_id: self.id,
        });
        if let Some(tx) = self.close.take() {
            let _ = tx.send(CloseRequest {
                closing: None,
                reason: CloseCode::Normal.into(),
            });
        }
    }
}

/// A text frame from the client.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Inbound {
    pub text: String,
}

/// Something other than a text frame that the session answers: a binary frame or a ping.
#[derive(Message)]
#[rtype(result = "()")]
pub enum Control {
    Binary,
    Ping(web::Bytes),
    Pong,
}

/// The client broke the protocol (frame too large, invalid UTF-8…): close with `code`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Violation {
    pub code: CloseCode,
    pub why: String,
}

/// The client closed the connection, or it dropped.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ClientGone;

/// The outbound queue overflowed: the client cannot keep up.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SlowConsumer;

/// This connection no longer gets a room's events (its user was removed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoomLeft {
    pub room_id: Uuid,
}

/// Close the connection on purpose (logout, ban) with `closing {reason}`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseSession {
    pub reason: String,
}

impl Handler<Inbound> for SessionActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Inbound, _: &mut Self::Context) -> Self::Result {
        self.last_heard = Instant::now();
        let (reference, frame) = parse_client_frame(&msg.text);
        if let Some(refused) = self.refuse_while_shutting_down(reference.clone()) {
            return refused;
        }
        let checked = frame.and_then(|f| self.app.check_frame_rate(self.user.id).map(|()| f));
        match checked {
            Ok(frame) => {
                self.shutdown.busy = true;
                Box::pin(
                    self.dispatch(reference, frame)
                        .map(|(), act, _| act.shutdown.busy = false),
                )
            }
            Err(e) => {
                self.send(&ServerFrame::error(reference, &e));
                Box::pin(actix::fut::ready(()))
            }
        }
    }
}

impl Handler<Control> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Control, _: &mut Self::Context) {
        self.last_heard = Instant::now();
        match msg {
            Control::Binary => {
                let e = AppError::bad_request_plain(
                    "binary frames are not supported; send JSON text frames",
                );
                self.send(&ServerFrame::error(None, &e));
            }
            Control::Ping(bytes) => self.outbox.push_control(Outgoing::Pong(bytes)),
            Control::Pong => {}
        }
    }
}

impl Handler<Violation> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Violation, ctx: &mut Self::Context) {
        if msg.code != CloseCode::Size {
            self.send(&ServerFrame::error(
                None,
                &AppError::bad_request_plain(msg.why.clone()),
            ));
        }
        self.close(ctx, msg.code, Some(&msg.why));
    }
}

impl Handler<ClientGone> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: ClientGone, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<SlowConsumer> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: SlowConsumer, ctx: &mut Self::Context) {
        self.app
            .metrics
            .slow_consumers_total
            .fetch_add(1, Ordering::Relaxed);
        log::info!(
            "session {} of user {} closed as a slow consumer",
            self.id,
            self.user.id
        );
        self.close(ctx, CloseCode::Again, Some("slow_consumer"));
    }
}

impl Handler<RoomLeft> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: RoomLeft, _: &mut Self::Context) {
        self.joined.remove(&msg.room_id);
    }
}

impl Handler<CloseSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: CloseSession, ctx: &mut Self::Context) {
        self.close(ctx, CloseCode::Policy, Some(&msg.reason));
    }
}

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
    pub fn run(self, app: web::Data<AppState>, user: AuthUser, reader: FrameReader) {
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
