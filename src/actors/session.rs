//! `SessionActor`: one per WebSocket. Decodes frames, checks rate limits, routes typed messages to
//! rooms and presence, answers with `ack`/`error`, runs the heartbeat, and closes itself when its
//! outbound queue overflows. A reader task feeds frames in one at a time; the socket's response
//! body drains the bounded outbound queue (see `transport`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_http::ws::{CloseCode, CloseReason};
use actix_web::web;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::presence::PresenceActor;
use super::presence::{Disconnect, SetStatus};
use super::room::{RoomActor, SetTyping, Subscribe, Unsubscribe};
use super::supervisor;
use super::supervisor::RoomSupervisor;
use super::{Outbox, Outgoing};
use crate::auth::AuthUser;
use crate::commands::RateLimits;
use crate::commands::{
    Caller, Command, DeleteMessage, Draft, EditMessage, MarkRead, PinMessage, React, SendMessage,
};
use crate::config::Settings;
use crate::db;
use crate::db::DbPool;
use crate::domain::ids::{TenantId, UserId};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::protocol::frames::{
    frame_text, parse_client_frame, AckBody, ClientFrame, ResumeRoom, ServerFrame,
};
use crate::protocol::views::RoomView;

/// What handling a frame comes to: a future on the session (frames are handled one at a time).
type Reply = ResponseActFuture<SessionActor, ()>;

/// The most rooms one `resume` frame may name.
const MAX_RESUME_ROOMS: usize = 200;

pub use crate::transport::CloseRequest;

/// What every session shares, handed in by the WebSocket route (as rooms get `RoomDeps`).
pub struct SessionDeps {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub metrics: Arc<Metrics>,
    pub rates: Arc<RateLimits>,
    pub supervisor: Addr<RoomSupervisor>,
    pub presence: Addr<PresenceActor>,
}
// Graceful shutdown (issue 15): `ShutDown` and the session's side of it.
mod shutdown;
mod socket;
// Issue 14: `set_notify`.
mod notify;
pub use shutdown::ShutDown;
use shutdown::ShutdownState;
pub use socket::{read_loop, Prepared};

pub struct SessionActor {
    id: Uuid,
    user: AuthUser,
    app: Arc<SessionDeps>,
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
        app: Arc<SessionDeps>,
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
        app: &SessionDeps,
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

    /// The seq of a message of the room (not found when it is not the room's).
    async fn seq_of(app: &SessionDeps, room_id: Uuid, message_id: Uuid) -> AppResult<i64> {
        let mut conn = app.pool.get().await?;
        db::messages::find_in_room(&mut conn, room_id, message_id)
            .await?
            .map(|m| m.seq)
            .ok_or(AppError::NotFound)
    }

    /// Handles one frame to the end (the reader waits, so a connection's frames keep their order).
    fn dispatch(&mut self, reference: Option<String>, frame: ClientFrame) -> Reply {
        match frame {
            ClientFrame::Ping => {
                self.send(&ServerFrame::Pong);
                Box::pin(actix::fut::ready(()))
            }
            ClientFrame::JoinRoom { room_id } => self.join(reference, room_id),
            ClientFrame::LeaveRoom { room_id } => self.leave(reference, room_id),
            ClientFrame::Resume { rooms } => self.resume(reference, rooms),
            ClientFrame::StartTyping { room_id } => self.typing(reference, room_id, true),
            ClientFrame::StopTyping { room_id } => self.typing(reference, room_id, false),
            ClientFrame::UpdatePresence {
                status,
                current_room,
            } => self.presence(reference, status, current_room),
            ClientFrame::SetNotify {
                room_id,
                notify,
                muted,
                muted_until,
            } => self.set_notify(reference, room_id, notify, muted, muted_until),
            write => self.write(reference, write),
        }
    }

    /// Runs `work`, then answers `ack` with what it returns, or `error`.
    fn answer(
        &self,
        work: impl Future<Output = AppResult<AckBody>> + 'static,
        r: Option<String>,
    ) -> Reply {
        Box::pin(work.into_actor(self).map(move |res, act, _| {
            act.send(&match res {
                Ok(body) => ServerFrame::ack(r, body),
                Err(e) => ServerFrame::error(r, &e),
            })
        }))
    }

    /// Subscribes this connection to a room of which the user is a member.
    fn subscribe(
        &self,
        room_id: Uuid,
        after_seq: Option<i64>,
    ) -> impl Future<Output = AppResult<(Addr<RoomActor>, RoomView)>> + 'static {
        let app = self.app.clone();
        let (tenant_id, user_id) = (TenantId(self.user.tenant_id), UserId(self.user.id));
        let outbox = self.outbox.clone();
        async move {
            let addr = supervisor::room(&app.supervisor, room_id.into()).await?;
            let view = addr
                .send(Subscribe {
                    tenant_id,
                    user_id,
                    outbox,
                    after_seq,
                })
                .await
                .map_err(AppError::internal)??;
            Ok((addr, view))
        }
    }

    fn join(&mut self, r: Option<String>, room_id: Uuid) -> Reply {
        let work = self.subscribe(room_id, None);
        Box::pin(work.into_actor(self).map(move |res, act, _| {
            let frame = match res {
                Ok((addr, view)) => {
                    act.joined.insert(room_id, addr);
                    let body = AckBody {
                        room_id: Some(room_id),
                        room: Some(view),
                        ..Default::default()
                    };
                    ServerFrame::ack(r, body)
                }
                Err(e) => ServerFrame::error(r, &e),
            };
            act.send(&frame);
        }))
    }

    fn leave(&mut self, r: Option<String>, room_id: Uuid) -> Reply {
        if let Some(addr) = self.joined.remove(&room_id) {
            addr.do_send(Unsubscribe {
                session_id: self.id,
            });
        }
        let body = AckBody {
            room_id: Some(room_id),
            ..Default::default()
        };
        self.send(&ServerFrame::ack(r, body));
        Box::pin(actix::fut::ready(()))
    }

    /// Subscribes to each room after the seq the client holds: what it missed comes first.
    fn resume(&mut self, r: Option<String>, rooms: Vec<ResumeRoom>) -> Reply {
        if rooms.len() > MAX_RESUME_ROOMS {
            let e = AppError::bad_request(
                "rooms",
                format!("resume names at most {MAX_RESUME_ROOMS} rooms"),
            );
            self.send(&ServerFrame::error(r, &e));
            return Box::pin(actix::fut::ready(()));
        }
        let each: Vec<_> = rooms
            .iter()
            .map(|room| {
                (
                    room.room_id,
                    self.subscribe(room.room_id, Some(room.after_seq)),
                )
            })
            .collect();
        let work = async move {
            let mut out = Vec::with_capacity(each.len());
            for (room_id, sub) in each {
                out.push((room_id, sub.await.map(|(addr, _)| addr)));
            }
            out
        };
        Box::pin(work.into_actor(self).map(move |results, act, _| {
            let mut failed = false;
            for (room_id, res) in results {
                match res {
                    Ok(addr) => act.rejoined(room_id, addr),
                    Err(e) => {
                        act.send(&ServerFrame::error(r.clone(), &e));
                        failed = true;
                    }
                }
            }
            if !failed {
                act.send(&ServerFrame::ack(r, AckBody::default()));
            }
        }))
    }

    /// Keeps the room's actor after a resume (unsubscribing from the one it replaced).
    fn rejoined(&mut self, room_id: Uuid, addr: Addr<RoomActor>) {
        if let Some(old) = self.joined.insert(room_id, addr.clone()) {
            if old != addr {
                old.do_send(Unsubscribe {
                    session_id: self.id,
                });
            }
        }
    }

    fn typing(&mut self, r: Option<String>, room_id: Uuid, is_typing: bool) -> Reply {
        let app = self.app.clone();
        let (tenant_id, user_id) = (TenantId(self.user.tenant_id), UserId(self.user.id));
        let work = async move {
            let addr = supervisor::room(&app.supervisor, room_id.into()).await?;
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
            Ok(()) if r.is_none() => {}
            Ok(()) => act.send(&ServerFrame::ack(
                r,
                AckBody {
                    room_id: Some(room_id),
                    ..Default::default()
                },
            )),
            Err(e) => act.send(&ServerFrame::error(r, &e)),
        }))
    }

    fn presence(&mut self, r: Option<String>, status: String, current_room: Option<Uuid>) -> Reply {
        let app = self.app.clone();
        let (tenant_id, user_id) = (self.user.tenant_id, self.user.id);
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
        self.answer(work, r)
    }

    /// A change to a room: built into its command and applied through the room's actor (the one
    /// this connection already holds when it joined the room: one supervisor hop less).
    fn write(&mut self, r: Option<String>, frame: ClientFrame) -> Reply {
        let app = self.app.clone();
        let caller = Caller::from_auth(&self.user);
        let (tenant_id, user_id) = (self.user.tenant_id, self.user.id);
        let known = frame.room_id().and_then(|id| self.joined.get(&id).cloned());
        let work = async move {
            let (room_id, command) = Self::write_op(&app, tenant_id, user_id, frame).await?;
            let out =
                supervisor::apply_via(&app.supervisor, known, room_id.into(), caller, command)
                    .await?;
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
        self.answer(work, r)
    }

    /// The room and the command a write frame asks for.
    async fn write_op(
        app: &SessionDeps,
        tenant_id: Uuid,
        user_id: Uuid,
        frame: ClientFrame,
    ) -> AppResult<(Uuid, Command)> {
        let s = &app.settings;
        let room_of = |message_id, named| Self::room_of_message(app, tenant_id, message_id, named);
        Ok(match frame {
            ClientFrame::SendMessage(f) => {
                let draft = Draft {
                    content: &f.content,
                    message_type: f.message_type.as_deref(),
                    reply_to: f.reply_to,
                    attachment_id: f.attachment_id,
                    metadata: f.metadata.as_ref(),
                    client_id: f.client_id.as_deref(),
                };
                let post = SendMessage::accept(s, &app.rates, user_id, &draft)?;
                (f.room_id, Command::Send(post))
            }
            ClientFrame::EditMessage {
                message_id,
                content,
                room_id,
            } => {
                let edit = EditMessage::parse(s, message_id.into(), &content)?;
                (room_of(message_id, room_id).await?, Command::Edit(edit))
            }
            ClientFrame::DeleteMessage {
                message_id,
                room_id,
            } => (
                room_of(message_id, room_id).await?,
                Command::Delete(DeleteMessage {
                    message_id: message_id.into(),
                }),
            ),
            ClientFrame::AddReaction {
                message_id,
                emoji,
                room_id,
                toggle,
            } => {
                let react = if toggle {
                    React::toggle(message_id.into(), &emoji)?
                } else {
                    React::parse(message_id.into(), &emoji, true)?
                };
                (room_of(message_id, room_id).await?, Command::React(react))
            }
            ClientFrame::RemoveReaction {
                message_id,
                emoji,
                room_id,
            } => {
                let react = React::parse(message_id.into(), &emoji, false)?;
                (room_of(message_id, room_id).await?, Command::React(react))
            }
            ClientFrame::MarkRead {
                room_id,
                message_ids: Some(message_ids),
                ..
            } => (
                room_id,
                Command::MarkRead(MarkRead::of_messages("message_ids", message_ids)?),
            ),
            ClientFrame::MarkRead {
                room_id,
                seq,
                message_id,
                ..
            } => {
                // A message named instead of a seq (dialects): read up to its seq.
                let seq = match (seq, message_id) {
                    (None, Some(m)) => Some(Self::seq_of(app, room_id, m).await?),
                    (seq, _) => seq,
                };
                (room_id, Command::MarkRead(MarkRead::parse(seq)?))
            }
            // moderation (issue 17)
            ClientFrame::PinMessage {
                message_id,
                room_id,
            } => (
                room_of(message_id, room_id).await?,
                Command::Pin(PinMessage {
                    message_id: message_id.into(),
                    pin: true,
                }),
            ),
            ClientFrame::UnpinMessage {
                message_id,
                room_id,
            } => (
                room_of(message_id, room_id).await?,
                Command::Pin(PinMessage {
                    message_id: message_id.into(),
                    pin: false,
                }),
            ),
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
        let checked = frame.and_then(|f| self.app.rates.check_frame(self.user.id).map(|()| f));
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
