//! `RedisBroker`: nodes share one Redis pub/sub channel for room events, typing, notifications
//! and kicks, and Redis hashes for who is connected where (expiring, so a dead node's users go
//! offline) and for cluster stats. Redis being down never stops a node: publications are dropped
//! (the others recover room events from the event log by seq), and the subscription reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytestring::ByteString;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Broker, Inbound};

const CHANNEL: &str = "confab:bus";
const NODES: &str = "confab:nodes";
/// Publications waiting for Redis; past this, they are dropped (and recovered by seq).
const QUEUE: usize = 65_536;
/// Publications sent in one pipeline at most.
const PUBLISH_BATCH: usize = 256;
/// Users per pipeline when renewing or checking presence words: Redis runs one command at a
/// time, so a pipeline of every user (tens of thousands of commands) would hold up the room
/// events published behind it for tens of milliseconds.
const PRESENCE_CHUNK: usize = 500;

fn presence_key(user: Uuid) -> String {
    format!("confab:presence:{user}")
}

/// Every user's presence hash (SCAN, so Redis is never blocked; empty when it does not answer).
async fn presence_keys(shared: &Shared) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg("confab:presence:*")
            .arg("COUNT")
            .arg(1000);
        let Some((next, batch)) = shared.run::<(u64, Vec<String>)>(cmd).await else {
            return keys;
        };
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Envelope {
    Event {
        node: Uuid,
        room_id: Uuid,
        seq: i64,
        frame: String,
    },
    Ephemeral {
        node: Uuid,
        room_id: Uuid,
        frame: String,
    },
    Notify {
        node: Uuid,
        user_ids: Vec<Uuid>,
        frame: String,
        ephemeral: bool,
    },
    Kick {
        node: Uuid,
        user_id: Uuid,
        login: Option<Uuid>,
        reason: String,
    },
    /// Issue 14: a tenant's webhook endpoints changed (nodes forget what they cached of them).
    HooksChanged { node: Uuid, tenant: Uuid },
}

/// A lazily (re)connected Redis connection shared by the broker's calls.
#[derive(Clone)]
struct Shared {
    client: redis::Client,
    conn: Arc<tokio::sync::Mutex<Option<ConnectionManager>>>,
}

impl Shared {
    async fn conn(&self) -> Option<ConnectionManager> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            let connect =
                tokio::time::timeout(Duration::from_secs(2), self.client.get_connection_manager());
            match connect.await {
                Ok(Ok(c)) => *slot = Some(c),
                Ok(Err(e)) => log::warn!("redis: {e}"),
                Err(_) => log::warn!("redis: connect timed out"),
            }
        }
        slot.clone()
    }

    /// Runs a command with a time limit; None when Redis does not answer.
    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let mut conn = self.conn().await?;
        match tokio::time::timeout(Duration::from_secs(2), cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                log::debug!("redis: {e}");
                None
            }
            Err(_) => None,
        }
    }

    async fn pipe<T: redis::FromRedisValue>(&self, pipe: redis::Pipeline) -> Option<T> {
        let mut conn = self.conn().await?;
        match tokio::time::timeout(Duration::from_secs(2), pipe.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            _ => None,
        }
    }
}

pub struct RedisBroker {
    node: Uuid,
    shared: Shared,
    out: mpsc::Sender<String>,
    out_rx: Mutex<Option<mpsc::Receiver<String>>>,
    presence_ttl_secs: i64,
    local_users: Arc<Mutex<HashSet<Uuid>>>,
}

/// This node's word on who is connected here, written in pipelines of at most
/// `PRESENCE_CHUNK` users.
struct Words {
    shared: Shared,
    node: String,
    ttl_secs: i64,
}

impl Words {
    async fn vouch(&self, users: &[Uuid]) {
        let until = now_secs() + self.ttl_secs;
        let mut pipe = redis::pipe();
        for user in users {
            pipe.hset(presence_key(*user), &self.node, until).ignore();
            pipe.expire(presence_key(*user), self.ttl_secs * 2).ignore();
        }
        self.shared.pipe::<()>(pipe).await;
    }

    async fn withdraw(&self, users: &[Uuid]) {
        let mut pipe = redis::pipe();
        for user in users {
            pipe.hdel(presence_key(*user), &self.node).ignore();
        }
        self.shared.pipe::<()>(pipe).await;
    }
}

/// Each key's presence hash (node → until), `PRESENCE_CHUNK` keys per pipeline; None when Redis
/// did not answer one of them.
async fn presence_words(shared: &Shared, keys: &[String]) -> Option<Vec<HashMap<String, i64>>> {
    let mut all = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(PRESENCE_CHUNK) {
        let mut pipe = redis::pipe();
        for key in chunk {
            pipe.hgetall(key);
        }
        all.extend(shared.pipe::<Vec<HashMap<String, i64>>>(pipe).await?);
    }
    Some(all)
}

impl RedisBroker {
    pub fn new(url: &str, presence_ttl_secs: u64) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("`broker.redis_url`: {e}"))?;
        let (out, rx) = mpsc::channel(QUEUE);
        Ok(RedisBroker {
            node: Uuid::new_v4(),
            shared: Shared {
                client,
                conn: Arc::new(tokio::sync::Mutex::new(None)),
            },
            out,
            out_rx: Mutex::new(Some(rx)),
            presence_ttl_secs: presence_ttl_secs as i64,
            local_users: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    fn words(&self) -> Words {
        Words {
            shared: self.shared.clone(),
            node: self.node.to_string(),
            ttl_secs: self.presence_ttl_secs,
        }
    }

    fn send(&self, envelope: &Envelope) {
        if let Ok(text) = serde_json::to_string(envelope) {
            if self.out.try_send(text).is_err() {
                log::warn!("redis: publication queue full; others will recover by seq");
            }
        }
    }

    fn spawn<F: std::future::Future<Output = ()> + 'static>(f: F) {
        actix::spawn(f);
    }
}

/// Publishes in the order events were handed over (one connection, one task): whatever queued
/// while the last batch was on its way goes as the next pipeline, so a burst costs one round trip.
async fn publish_loop(shared: Shared, mut rx: mpsc::Receiver<String>) {
    while let Some(first) = rx.recv().await {
        let mut pipe = redis::pipe();
        pipe.cmd("PUBLISH").arg(CHANNEL).arg(&first).ignore();
        let mut n = 1;
        while n < PUBLISH_BATCH {
            let Ok(payload) = rx.try_recv() else { break };
            pipe.cmd("PUBLISH").arg(CHANNEL).arg(&payload).ignore();
            n += 1;
        }
        if shared.pipe::<()>(pipe).await.is_none() {
            log::debug!("redis: {n} publications were dropped");
        }
    }
}

/// Subscribes (again and again), feeding other nodes' traffic to this node's actors; after every
/// (re)connect, the room actors check the event log for what they may have missed meanwhile.
async fn subscribe_loop(client: redis::Client, node: Uuid, inbound: Arc<dyn Inbound>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    log::info!("redis: subscribed to {CHANNEL}");
                    inbound.catch_up();
                    let mut stream = pubsub.into_on_message();
                    while let Some(msg) = stream.next().await {
                        deliver(node, inbound.as_ref(), msg.get_payload_bytes());
                    }
                    log::warn!("redis: subscription lost; reconnecting");
                }
                Err(e) => log::warn!("redis: subscribe: {e}"),
            },
            Err(e) => log::debug!("redis: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn deliver(node: Uuid, inbound: &dyn Inbound, payload: &[u8]) {
    let envelope: Envelope = match serde_json::from_slice(payload) {
        Ok(e) => e,
        Err(e) => {
            log::warn!("redis: unreadable publication: {e}");
            return;
        }
    };
    match envelope {
        Envelope::Event {
            node: from,
            room_id,
            seq,
            frame,
        } if from != node => {
            inbound.event(room_id, seq, ByteString::from(frame));
        }
        Envelope::Ephemeral {
            node: from,
            room_id,
            frame,
        } if from != node => {
            inbound.ephemeral(room_id, ByteString::from(frame));
        }
        Envelope::Notify {
            node: from,
            user_ids,
            frame,
            ephemeral,
        } if from != node => {
            inbound.notify(user_ids, ByteString::from(frame), ephemeral);
        }
        Envelope::Kick {
            node: from,
            user_id,
            login,
            reason,
        } if from != node => {
            inbound.kick(user_id, login, reason);
        }
        Envelope::HooksChanged { node: from, tenant } if from != node => {
            inbound.hooks_changed(tenant);
        }
        _ => {}
    }
}

impl Broker for RedisBroker {
    fn node_id(&self) -> Uuid {
        self.node
    }

    fn attach(&self, inbound: Arc<dyn Inbound>) {
        let rx = self.out_rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(rx) = rx {
            Self::spawn(publish_loop(self.shared.clone(), rx));
            Self::spawn(subscribe_loop(
                self.shared.client.clone(),
                self.node,
                inbound,
            ));
        }
    }

    fn publish_event(&self, room_id: Uuid, seq: i64, frame: &ByteString) {
        self.send(&Envelope::Event {
            node: self.node,
            room_id,
            seq,
            frame: frame.to_string(),
        });
    }

    fn publish_ephemeral(&self, room_id: Uuid, frame: &ByteString) {
        self.send(&Envelope::Ephemeral {
            node: self.node,
            room_id,
            frame: frame.to_string(),
        });
    }

    fn notify_users(&self, user_ids: &[Uuid], frame: &ByteString, ephemeral: bool) {
        self.send(&Envelope::Notify {
            node: self.node,
            user_ids: user_ids.to_vec(),
            frame: frame.to_string(),
            ephemeral,
        });
    }

    fn kick(&self, user_id: Uuid, login: Option<Uuid>, reason: &str) {
        self.send(&Envelope::Kick {
            node: self.node,
            user_id,
            login,
            reason: reason.to_owned(),
        });
    }

    fn hooks_changed(&self, tenant: Uuid) {
        self.send(&Envelope::HooksChanged {
            node: self.node,
            tenant,
        });
    }

    /// Each user's hash holds, per node, until when that node vouches for a connection.
    fn set_local_users(&self, user_ids: Vec<Uuid>) {
        let now: HashSet<Uuid> = user_ids.into_iter().collect();
        let gone: Vec<Uuid> = {
            let mut local = self.local_users.lock().unwrap_or_else(|p| p.into_inner());
            let gone = local.difference(&now).copied().collect();
            *local = now.clone();
            gone
        };
        let words = self.words();
        Self::spawn(async move {
            let now: Vec<Uuid> = now.into_iter().collect();
            for users in now.chunks(PRESENCE_CHUNK) {
                words.vouch(users).await;
            }
            for users in gone.chunks(PRESENCE_CHUNK) {
                words.withdraw(users).await;
            }
            log::debug!("redis: vouched for {} users here", now.len());
        });
    }

    fn vouch(&self, user_id: Uuid) {
        let mut local = self.local_users.lock().unwrap_or_else(|p| p.into_inner());
        local.insert(user_id);
        drop(local);
        let words = self.words();
        Self::spawn(async move { words.vouch(&[user_id]).await });
    }

    fn online_elsewhere(&self, user_ids: Vec<Uuid>) -> BoxFuture<'static, HashSet<Uuid>> {
        let shared = self.shared.clone();
        let me = self.node.to_string();
        Box::pin(async move {
            if user_ids.is_empty() {
                return HashSet::new();
            }
            let keys: Vec<String> = user_ids.iter().map(|u| presence_key(*u)).collect();
            let maps = presence_words(&shared, &keys).await.unwrap_or_default();
            let now = now_secs();
            user_ids
                .into_iter()
                .zip(maps)
                .filter(|(_, nodes)| nodes.iter().any(|(n, until)| *n != me && *until > now))
                .map(|(u, _)| u)
                .collect()
        })
    }

    fn expired_elsewhere(&self) -> BoxFuture<'static, Vec<Uuid>> {
        let shared = self.shared.clone();
        let me = self.node.to_string();
        Box::pin(async move {
            let keys = presence_keys(&shared).await;
            if keys.is_empty() {
                return Vec::new();
            }
            let maps = presence_words(&shared, &keys).await.unwrap_or_default();
            let now = now_secs();
            // (user, expired words of other nodes) for users nobody vouches for now.
            let stale: Vec<(Uuid, &String, Vec<&String>)> = keys
                .iter()
                .zip(&maps)
                .filter(|(_, nodes)| nodes.values().all(|until| *until <= now))
                .filter_map(|(key, nodes)| {
                    let user = key.strip_prefix("confab:presence:")?.parse().ok()?;
                    let dead: Vec<&String> = nodes.keys().filter(|n| **n != me).collect();
                    (!dead.is_empty()).then_some((user, key, dead))
                })
                .collect();
            let mut announced = Vec::new();
            for chunk in stale.chunks(PRESENCE_CHUNK) {
                let mut pipe = redis::pipe();
                for (_, key, dead) in chunk {
                    pipe.hdel(*key, dead.as_slice());
                }
                // Whoever removes the expired word announces the user; the others remove nothing.
                let removed: Vec<i64> = shared.pipe(pipe).await.unwrap_or_default();
                let cleared = chunk.iter().zip(removed).filter(|(_, n)| *n > 0);
                announced.extend(cleared.map(|((user, _, _), _)| *user));
            }
            announced
        })
    }

    fn healthy(&self) -> BoxFuture<'static, Option<bool>> {
        let shared = self.shared.clone();
        Box::pin(async move { Some(shared.run::<String>(redis::cmd("PING")).await.is_some()) })
    }

    fn cluster_stats(&self) -> BoxFuture<'static, Vec<serde_json::Value>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let mut cmd = redis::cmd("HGETALL");
            cmd.arg(NODES);
            let all: std::collections::HashMap<String, String> =
                shared.run(cmd).await.unwrap_or_default();
            let fresh_after = now_secs() - 30;
            all.values()
                .filter_map(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                .filter(|v| v["reported_at"].as_i64().is_some_and(|t| t > fresh_after))
                .collect()
        })
    }

    fn publish_stats(&self, mut stats: serde_json::Value) {
        stats["reported_at"] = serde_json::json!(now_secs());
        let shared = self.shared.clone();
        let node = self.node.to_string();
        Self::spawn(async move {
            let mut cmd = redis::cmd("HSET");
            cmd.arg(NODES).arg(node).arg(stats.to_string());
            let _: Option<i64> = shared.run(cmd).await;
        });
    }
}
