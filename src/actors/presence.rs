//! `PresenceActor`: who is connected (all devices together), their chosen status, the grace before
//! offline, and the registry of connections that mentions, bans and logouts reach.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::session::{CloseSession, ShutDown};
use super::Outbox;
use crate::broker::Broker;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};
use crate::protocol::frames::frame_text;
use crate::protocol::frames::ServerFrame;
use crate::protocol::views::PresenceView;

struct Connection {
    outbox: Outbox,
    /// The login (refresh-token family) the connection's token came from.
    login: Option<Uuid>,
    connected_at: DateTime<Utc>,
}

struct UserPresence {
    tenant_id: Uuid,
    sessions: HashMap<Uuid, Connection>,
    manual: Option<String>,
    current_room: Option<Uuid>,
    /// What the user's room mates were last told: online (true) or offline.
    online: bool,
    grace: Option<SpawnHandle>,
}

pub struct PresenceActor {
    settings: Arc<Settings>,
    pool: DbPool,
    broker: Arc<dyn Broker>,
    users: HashMap<Uuid, UserPresence>,
}

impl PresenceActor {
    pub fn new(settings: Arc<Settings>, pool: DbPool, broker: Arc<dyn Broker>) -> Self {
        PresenceActor {
            settings,
            pool,
            broker,
            users: HashMap::new(),
        }
    }

    /// Tells the other nodes which users hold a connection here.
    fn publish_local_users(&self) {
        let ids = self
            .users
            .iter()
            .filter(|(_, u)| u.online)
            .map(|(id, _)| *id)
            .collect();
        self.broker.set_local_users(ids);
    }

    fn view(&self, user_id: Uuid) -> Option<PresenceView> {
        let u = self.users.get(&user_id)?;
        Some(PresenceView {
            user_id,
            status: if u.online {
                u.manual.clone().unwrap_or_else(|| "online".into())
            } else {
                "offline".into()
            },
            last_seen: Some(Utc::now()),
            current_room: if u.online { u.current_room } else { None },
        })
    }

    /// Tells everyone who shares a room with `user_id` (their connections here) the user's status.
    fn broadcast(&mut self, user_id: Uuid, ctx: &mut Context<Self>) {
        if let Some(view) = self.view(user_id) {
            self.broadcast_view(user_id, view, ctx);
        }
    }

    /// Users whose node died (its word expired): offline to their room mates, here and on the
    /// other nodes. One node announces each (see `Broker::expired_elsewhere`).
    fn announce_dead_nodes_users(&mut self, ctx: &mut Context<Self>) {
        let find = self.broker.expired_elsewhere();
        ctx.spawn(find.into_actor(self).map(|users, act, ctx| {
            for user_id in users {
                if act.users.get(&user_id).is_some_and(|u| u.online) {
                    continue;
                }
                let view = PresenceView {
                    user_id,
                    status: "offline".into(),
                    last_seen: Some(Utc::now()),
                    current_room: None,
                };
                act.broadcast_view(user_id, view, ctx);
            }
        }));
    }

    fn broadcast_view(&mut self, user_id: Uuid, view: PresenceView, ctx: &mut Context<Self>) {
        let text = frame_text(&ServerFrame::PresenceUpdate { presence: view });
        let pool = self.pool.clone();
        let lookup = async move {
            let mut conn = pool.get().await?;
            Ok::<_, AppError>(db::rooms::users_sharing_rooms(&mut conn, user_id).await?)
        };
        ctx.spawn(lookup.into_actor(self).map(move |res, act, _| match res {
            Ok(ids) => {
                act.push_to(&ids, &text, true);
                act.broker.notify_users(&ids, &text, true);
            }
            Err(e) => log::error!("presence broadcast for {user_id}: {e}"),
        }));
    }

    fn push_to(&self, user_ids: &[Uuid], text: &ByteString, ephemeral: bool) {
        for id in user_ids {
            if let Some(u) = self.users.get(id) {
                for c in u.sessions.values() {
                    c.outbox.push(text, ephemeral);
                }
            }
        }
    }

    fn persist_last_seen(&self, user_id: Uuid) {
        let pool = self.pool.clone();
        actix::spawn(async move {
            if let Ok(mut conn) = pool.get().await {
                if let Err(e) = db::presence::touch(&mut conn, user_id, Utc::now()).await {
                    log::error!("presence last_seen for {user_id}: {e}");
                }
            }
        });
    }

    fn maybe_offline(&mut self, user_id: Uuid, ctx: &mut Context<Self>) {
        let Some(u) = self.users.get_mut(&user_id) else {
            return;
        };
        u.grace = None;
        if !u.sessions.is_empty() {
            return;
        }
        u.online = false;
        self.broadcast(user_id, ctx);
        self.persist_last_seen(user_id);
        self.users.remove(&user_id);
    }
}

impl Actor for PresenceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Other nodes trust this node's word for a while; it renews it well before that ends.
        let every = Duration::from_secs((self.settings.broker.presence_ttl_secs / 3).max(1));
        ctx.run_interval(every, |act, ctx| {
            act.publish_local_users();
            act.announce_dead_nodes_users(ctx);
        });
    }
}

/// A connection opened; refused past `max_connections_per_user`.
#[derive(Message)]
#[rtype(result = "AppResult<()>")]
pub struct Connect {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub login: Option<Uuid>,
    pub outbox: Outbox,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// A user chose a status (`online` clears a manual `away`/`busy`).
#[derive(Message)]
#[rtype(result = "AppResult<PresenceView>")]
pub struct SetStatus {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub status: String,
    pub current_room: Option<Uuid>,
}

/// The live status of users this node holds connections (or a grace period) for.
#[derive(Message)]
#[rtype(result = "HashMap<Uuid, PresenceView>")]
pub struct LiveStatus {
    pub tenant_id: Uuid,
    pub user_ids: Option<Vec<Uuid>>,
}

/// Send a frame to every connection of these users (mentions reach them in any room).
#[derive(Message)]
#[rtype(result = "()")]
pub struct NotifyUsers {
    pub user_ids: Vec<Uuid>,
    pub frame: ByteString,
    /// Typing and presence frames may be dropped for a lagging connection.
    pub ephemeral: bool,
    /// Also to the users' connections on other nodes.
    pub relay: bool,
}

/// Close a user's connections (all, or those of one login) with a reason.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct KickUser {
    pub user_id: Uuid,
    pub login: Option<Uuid>,
    pub reason: String,
    /// Also on other nodes.
    pub relay: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub session_id: Uuid,
    pub user_id: Uuid,
    #[serde(with = "crate::domain::time::millis")]
    pub connected_at: DateTime<Utc>,
    pub queued_frames: usize,
}

/// The open connections of a tenant (optionally of one user).
#[derive(Message)]
#[rtype(result = "Vec<SessionInfo>")]
pub struct ListSessions {
    pub tenant_id: Uuid,
    pub user_id: Option<Uuid>,
}

impl Handler<Connect> for PresenceActor {
    type Result = AppResult<()>;

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) -> Self::Result {
        let cap = self.settings.limits.max_connections_per_user;
        let entry = self
            .users
            .entry(msg.user_id)
            .or_insert_with(|| UserPresence {
                tenant_id: msg.tenant_id,
                sessions: HashMap::new(),
                manual: None,
                current_room: None,
                online: false,
                grace: None,
            });
        if entry.sessions.len() >= cap {
            return Err(AppError::RateLimited {
                retry_after_ms: 5000,
            });
        }
        entry.sessions.insert(
            msg.outbox.session_id,
            Connection {
                outbox: msg.outbox,
                login: msg.login,
                connected_at: Utc::now(),
            },
        );
        if let Some(handle) = entry.grace.take() {
            ctx.cancel_future(handle);
        }
        if !entry.online {
            entry.online = true;
            let user_id = msg.user_id;
            let pool = self.pool.clone();
            // The status chosen earlier (on any device, any node) holds until changed.
            let load = async move {
                let mut conn = pool.get().await?;
                db::presence::touch(&mut conn, user_id, Utc::now()).await?;
                Ok::<_, AppError>(db::presence::load(&mut conn, &[user_id]).await?)
            };
            ctx.spawn(load.into_actor(self).map(move |res, act, ctx| {
                if let (Ok(rows), Some(u)) = (res, act.users.get_mut(&user_id)) {
                    if let Some((_, manual, room, _)) = rows.into_iter().next() {
                        u.manual = manual;
                        u.current_room = room;
                    }
                }
                act.broadcast(user_id, ctx);
            }));
            self.broker.vouch(user_id);
        }
        Ok(())
    }
}

impl Handler<Disconnect> for PresenceActor {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, ctx: &mut Self::Context) {
        let grace = Duration::from_secs(self.settings.realtime.presence_grace_secs);
        let Some(u) = self.users.get_mut(&msg.user_id) else {
            return;
        };
        if u.sessions.remove(&msg.session_id).is_none() || !u.sessions.is_empty() {
            return;
        }
        // A reload reconnects within the grace and nobody sees the user flap.
        let user_id = msg.user_id;
        u.grace = Some(ctx.run_later(grace, move |act, ctx| act.maybe_offline(user_id, ctx)));
        self.persist_last_seen(user_id);
    }
}

impl Handler<SetStatus> for PresenceActor {
    type Result = ResponseActFuture<Self, AppResult<PresenceView>>;

    fn handle(&mut self, msg: SetStatus, _: &mut Self::Context) -> Self::Result {
        let manual = match msg.status.as_str() {
            "online" => None,
            "away" | "busy" => Some(msg.status.clone()),
            _ => {
                return Box::pin(actix::fut::ready(Err(AppError::bad_request(
                    "status",
                    "status must be online, away or busy",
                ))))
            }
        };
        let pool = self.pool.clone();
        let (user_id, room) = (msg.user_id, msg.current_room);
        let m = manual.clone();
        let save = async move {
            let mut conn = pool.get().await?;
            db::presence::set_manual(&mut conn, user_id, m.as_deref(), room).await?;
            Ok::<_, AppError>(())
        };
        Box::pin(save.into_actor(self).map(move |res, act, ctx| {
            res?;
            match act.users.get_mut(&user_id) {
                Some(u) if u.tenant_id == msg.tenant_id => {
                    u.manual = manual;
                    u.current_room = room;
                    act.broadcast(user_id, ctx);
                    act.view(user_id).ok_or(AppError::NotFound)
                }
                // Not connected here: the choice is stored for when they are.
                _ => Ok(PresenceView {
                    user_id,
                    status: "offline".into(),
                    last_seen: None,
                    current_room: None,
                }),
            }
        }))
    }
}

impl Handler<LiveStatus> for PresenceActor {
    type Result = MessageResult<LiveStatus>;

    fn handle(&mut self, msg: LiveStatus, _: &mut Self::Context) -> Self::Result {
        let ids: Vec<Uuid> = match msg.user_ids {
            Some(ids) => ids,
            None => self.users.keys().copied().collect(),
        };
        MessageResult(
            ids.into_iter()
                .filter(|id| {
                    self.users
                        .get(id)
                        .is_some_and(|u| u.tenant_id == msg.tenant_id && u.online)
                })
                .filter_map(|id| self.view(id).map(|v| (id, v)))
                .collect(),
        )
    }
}

impl Handler<NotifyUsers> for PresenceActor {
    type Result = ();

    fn handle(&mut self, msg: NotifyUsers, _: &mut Self::Context) {
        self.push_to(&msg.user_ids, &msg.frame, msg.ephemeral);
        if msg.relay {
            self.broker
                .notify_users(&msg.user_ids, &msg.frame, msg.ephemeral);
        }
    }
}

impl Handler<KickUser> for PresenceActor {
    type Result = usize;

    fn handle(&mut self, msg: KickUser, _: &mut Self::Context) -> usize {
        let Some(u) = self.users.get(&msg.user_id) else {
            return 0;
        };
        let mut n = 0;
        for c in u.sessions.values() {
            if msg.login.is_none() || c.login == msg.login {
                c.outbox.session().do_send(CloseSession {
                    reason: msg.reason.clone(),
                });
                n += 1;
            }
        }
        n
    }
}

/// The node is shutting down: every connection here is told so and closed (see `ShutDown`).
/// Answers how many were told.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct ShutDownAll {
    /// Each connection is told to retry after this plus up to as much again (spread, so the
    /// clients do not all reconnect at once).
    pub retry_after_ms: u64,
}

impl Handler<ShutDownAll> for PresenceActor {
    type Result = usize;

    fn handle(&mut self, msg: ShutDownAll, _: &mut Self::Context) -> usize {
        let mut n = 0;
        for (id, c) in self.users.values().flat_map(|u| u.sessions.iter()) {
            let spread = (id.as_u128() % u128::from(msg.retry_after_ms.max(1))) as u64;
            c.outbox.session().do_send(ShutDown {
                retry_after_ms: msg.retry_after_ms + spread,
            });
            n += 1;
        }
        n
    }
}

impl Handler<ListSessions> for PresenceActor {
    type Result = MessageResult<ListSessions>;

    fn handle(&mut self, msg: ListSessions, _: &mut Self::Context) -> Self::Result {
        let mut out = Vec::new();
        for (user_id, u) in &self.users {
            if u.tenant_id != msg.tenant_id || msg.user_id.is_some_and(|w| w != *user_id) {
                continue;
            }
            for (sid, c) in &u.sessions {
                out.push(SessionInfo {
                    session_id: *sid,
                    user_id: *user_id,
                    connected_at: c.connected_at,
                    queued_frames: c.outbox.queued(),
                });
            }
        }
        out.sort_by_key(|s| s.connected_at);
        MessageResult(out)
    }
}
