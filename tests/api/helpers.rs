//! The test harness: a server on port 0 against a fresh database cloned from a migrated template,
//! and HTTP helpers that talk to it as a client would.
#![allow(dead_code)] // The harness serves every test module; not each uses every helper.

use std::path::{Path, PathBuf};
use std::time::Duration;

use awc::http::StatusCode;
use confab::auth::{Claims, JwtKeys, Role};
use confab::config::Settings;
use confab::startup::Application;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const DEFAULT_TENANT: Uuid = Uuid::from_u128(1);

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The server the tests may create databases on (`make test` provides it).
pub fn base_database_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL is not set: run the tests with `make test`, which starts a private PostgreSQL",
    )
}

/// `url` with its database name replaced.
pub fn url_for_db(url: &str, db: &str) -> String {
    let (head, tail) = url
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}/{db}{query}")
}

async fn admin_conn() -> AsyncPgConnection {
    AsyncPgConnection::establish(&url_for_db(&base_database_url(), "postgres"))
        .await
        .expect("connect to the postgres database")
}

/// The migrated template's name: it changes whenever a migration does.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let mut entries: Vec<PathBuf> = walk(&manifest_dir().join("migrations"));
    entries.sort();
    for path in entries {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&path).expect("read migration"));
    }
    format!("confab_tpl_{}", &hex::encode(hasher.finalize())[..16])
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Creates the migrated template once (across test processes too, under an advisory lock).
async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = admin_conn().await;
            diesel::sql_query("SELECT pg_advisory_lock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory lock");
            if !database_exists(&mut conn, &name).await {
                let building = format!("{name}_building");
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                ))
                .execute(&mut conn)
                .await
                .expect("drop stale template");
                diesel::sql_query(format!("CREATE DATABASE \"{building}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create template");
                confab::db::run_migrations(&url_for_db(&base_database_url(), &building))
                    .await
                    .expect("migrate template");
                diesel::sql_query(format!(
                    "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                ))
                .execute(&mut conn)
                .await
                .expect("publish template");
            }
            diesel::sql_query("SELECT pg_advisory_unlock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory unlock");
            name
        })
        .await
        .clone()
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let c: Count = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(conn)
        .await
        .expect("query pg_database");
    c.n > 0
}

/// A fresh, migrated, empty database of its own; dropped when the guard goes.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let tpl = template().await;
        let name = format!("confab_test_{}", Uuid::new_v4().simple());
        let mut conn = admin_conn().await;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        TestDb {
            url: url_for_db(&base_database_url(), &name),
            name,
        }
    }

    /// An empty database with no migrations applied.
    pub async fn empty() -> TestDb {
        let name = format!("confab_test_{}", Uuid::new_v4().simple());
        let mut conn = admin_conn().await;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        TestDb {
            url: url_for_db(&base_database_url(), &name),
            name,
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to test db")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await: a thread with its own runtime removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut conn) =
                        AsyncPgConnection::establish(&url_for_db(&base_database_url(), "postgres"))
                            .await
                    {
                        let _ = diesel::sql_query(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    }
                });
            }
        })
        .join();
    }
}

/// A client of one server (node): its address and the HTTP/WebSocket helpers.
pub struct Http {
    pub port: u16,
    pub base: String,
    pub client: awc::Client,
}

impl Http {
    pub fn new(port: u16) -> Http {
        Http {
            port,
            base: format!("http://127.0.0.1:{port}"),
            // A pooled connection is dropped after 2 s idle, before the server's keep-alive (5 s)
            // closes it: otherwise a request after a long pause (a test building a video) may
            // be written to a connection the server is closing (`Connect(Disconnected)`).
            client: awc::Client::builder()
                .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(2)))
                .timeout(Duration::from_secs(60))
                .finish(),
        }
    }
}

pub struct TestApp {
    pub http: Http,
    pub settings: Settings,
    pub handle: actix_web::dev::ServerHandle,
    pub state: actix_web::web::Data<confab::state::AppState>,
    // Last: the server stops before its database is dropped.
    pub db: std::sync::Arc<TestDb>,
}

impl std::ops::Deref for TestApp {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

pub fn test_settings(db_url: &str, secret: &str) -> Settings {
    let static_dir = manifest_dir().join("static");
    Settings::load_with(
        &manifest_dir().join("config"),
        &[
            ("server.port", "0"),
            ("server.workers", "1"),
            (
                "server.static_dir",
                static_dir.to_str().expect("utf-8 path"),
            ),
            ("database.url", db_url),
            ("database.pool_size", "6"),
            ("auth.jwt_secret", secret),
            // Tests register many users: cheaper hashing, same code path.
            ("auth.argon2_memory_kib", "1024"),
            ("auth.argon2_iterations", "1"),
            // The tests share two cores with each other: a webhook worker in the idle class
            // could wait for a quiet moment for long. `webhook_priority.rs` tests that class.
            ("webhooks.idle_priority", "false"),
        ],
    )
    .expect("test settings load")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server with its own database, its settings adjusted by `adjust` before it starts.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let secret = format!("test-secret-{}", Uuid::new_v4());
    let mut settings = test_settings(&db.url, &secret);
    adjust(&mut settings);
    start(settings, std::sync::Arc::new(db)).await
}

/// Starts a server on `settings` (whose database is `db`).
pub async fn start(settings: Settings, db: std::sync::Arc<TestDb>) -> TestApp {
    // Errors the server logs show up in a failing test's output.
    let _ = env_logger::builder()
        .is_test(true)
        .filter_level(log::LevelFilter::Error)
        .try_init();
    let app = Application::build(settings.clone())
        .await
        .expect("server builds");
    let port = app.port();
    let handle = app.handle();
    let state = app.state();
    actix_rt::spawn(app.run_until_stopped());
    TestApp {
        http: Http::new(port),
        settings,
        handle,
        state,
        db,
    }
}

/// A JSON answer: status and body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: awc::http::header::HeaderMap,
    /// The body's bytes as they came off the wire.
    pub raw: String,
}

impl Answer {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Http {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(m, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = resp
            .body()
            .limit(50 * 1024 * 1024)
            .await
            .expect("body read");
        Answer {
            status: resp.status(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers: resp.headers().clone(),
            raw: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("POST", path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("PATCH", path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("PUT", path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send("DELETE", path, Some(token), None).await
    }

    /// Sends a request with extra headers and an optional raw body (CORS, odd bodies).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(m, self.url(path));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut resp = match body {
            Some(b) => req.send_body(b.to_vec()).await,
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = resp.body().limit(1024 * 1024).await.unwrap_or_default();
        Answer {
            status: resp.status(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers: resp.headers().clone(),
            raw: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Posts raw bytes with a content type (for malformed or oversized bodies).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        self.send_raw("POST", path, &[("Content-Type", content_type)], Some(&body))
            .await
    }

    /// Registers `username` (password "correct horse battery") and answers the register body.
    pub async fn register(&self, username: &str) -> User {
        let a = self
            .send(
                "POST",
                "/api/auth/register",
                None,
                Some(json!({"username": username, "password": "correct horse battery", "display_name": username})),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::CREATED,
            "register {username}: {:?}",
            a.body
        );
        User::from_pair(&a.body)
    }
}

impl TestApp {
    pub fn keys(&self) -> JwtKeys {
        JwtKeys::from_settings(&self.settings.auth).expect("keys")
    }

    /// A token as a host platform would mint it with the shared secret.
    pub fn platform_token(&self, user_id: Uuid, tenant: Uuid, name: &str, role: Role) -> String {
        let claims: Claims = JwtKeys::claims_for(user_id, tenant, name, role, 600, None);
        self.keys().mint(claims).expect("mint")
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub username: String,
    pub token: String,
    pub refresh: String,
}

impl User {
    pub fn from_pair(body: &Value) -> User {
        User {
            id: body["user"]["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("user id"),
            tenant_id: body["user"]["tenant_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("tenant id"),
            username: body["user"]["username"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            token: body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }
}

// ---- WebSocket client ---------------------------------------------------------------------

use std::collections::VecDeque;

use actix_codec::Framed;
use awc::ws;
use awc::BoxedSocket;
use futures_util::{SinkExt, StreamExt};

/// A WebSocket client that answers pings and keeps frames that arrive while it waits for an ack.
pub struct Ws {
    framed: Framed<BoxedSocket, ws::Codec>,
    pending: VecDeque<Value>,
    next_ref: u64,
    pub hello: Value,
    /// Every text frame received, as the bytes came off the wire.
    pub raw: Vec<String>,
}

/// How a connection ended, as the client saw it.
#[derive(Debug)]
pub enum Closed {
    Code(u16, Option<String>),
    Dropped,
}

impl Http {
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// Opens a WebSocket with a Bearer token and reads `connection_established`.
    pub async fn ws(&self, token: &str) -> Ws {
        self.ws_try("/ws/chat/", Some(token), None)
            .await
            .expect("websocket opens")
    }

    /// Opens a WebSocket; Err(status) when the handshake is refused.
    pub async fn ws_try(
        &self,
        path: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Ws, u16> {
        let mut req = self
            .client
            .ws(self.ws_url(path))
            .max_frame_size(1024 * 1024);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(o) = origin {
            req = req.origin(o);
        }
        match req.connect().await {
            Ok((_, framed)) => {
                let mut ws = Ws {
                    framed,
                    pending: VecDeque::new(),
                    next_ref: 0,
                    hello: Value::Null,
                    raw: Vec::new(),
                };
                let hello = ws.recv().await;
                assert_eq!(hello["type"], "connection_established", "{hello}");
                ws.hello = hello;
                Ok(ws)
            }
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }
}

impl Ws {
    pub async fn send_raw(&mut self, text: String) {
        self.framed
            .send(ws::Message::Text(text.into()))
            .await
            .expect("frame sent");
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_raw(frame.to_string()).await;
    }

    /// Sends one WebSocket message of any kind (continuations, binary, bad bytes).
    pub async fn send_ws(&mut self, msg: ws::Message) {
        self.framed.send(msg).await.expect("frame sent");
    }

    /// The next frame off the wire (pings answered), or None when the connection ended.
    async fn read_frame(&mut self, wait: Duration) -> Result<Option<Value>, Closed> {
        loop {
            let next = tokio::time::timeout(wait, self.framed.next()).await;
            let item = match next {
                Err(_) => return Ok(None),
                Ok(None) => return Err(Closed::Dropped),
                Ok(Some(Err(_))) => return Err(Closed::Dropped),
                Ok(Some(Ok(f))) => f,
            };
            match item {
                ws::Frame::Text(bytes) => {
                    self.raw.push(String::from_utf8_lossy(&bytes).into_owned());
                    return Ok(Some(
                        serde_json::from_slice(&bytes).expect("server frames are JSON"),
                    ));
                }
                ws::Frame::Ping(p) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                ws::Frame::Close(reason) => {
                    return Err(match reason {
                        Some(r) => Closed::Code(u16::from(r.code), r.description),
                        None => Closed::Code(1005, None),
                    })
                }
                _ => {}
            }
        }
    }

    /// The next frame within `ms` (held ones first); Ok(None): none came; Err: it closed.
    pub async fn next_frame(&mut self, ms: u64) -> Result<Option<Value>, Closed> {
        if let Some(v) = self.pending.pop_front() {
            return Ok(Some(v));
        }
        self.read_frame(Duration::from_millis(ms)).await
    }

    /// Sends a frame; false when the connection is already gone.
    pub async fn try_send(&mut self, frame: Value) -> bool {
        let text = ws::Message::Text(frame.to_string().into());
        self.framed.send(text).await.is_ok()
    }

    /// The next frame (held ones first); panics after 10 s.
    pub async fn recv(&mut self) -> Value {
        if let Some(v) = self.pending.pop_front() {
            return v;
        }
        match self.read_frame(Duration::from_secs(10)).await {
            Ok(Some(v)) => v,
            Ok(None) => panic!("no frame within 10 s"),
            Err(c) => panic!("connection closed while waiting: {c:?}"),
        }
    }

    /// The next frame of type `ty`, skipping (and dropping) others.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// Sends a text message to a room and answers the server's `ack` (or `error`).
    pub async fn send_message(&mut self, room: Uuid, content: &str) -> Value {
        self.request(send_frame(room, content)).await
    }

    /// Sends `frame` with a fresh ref and answers the matching `ack` or `error`; other frames that
    /// arrive meanwhile stay queued for `recv`.
    pub async fn request(&mut self, mut frame: Value) -> Value {
        self.next_ref += 1;
        let r = format!("r{}", self.next_ref);
        frame["ref"] = Value::String(r.clone());
        self.send(frame).await;
        let mut held = VecDeque::new();
        loop {
            let v = match self.read_frame(Duration::from_secs(10)).await {
                Ok(Some(v)) => v,
                Ok(None) => panic!("no answer to {r} within 10 s"),
                Err(c) => panic!("connection closed while waiting for {r}: {c:?}"),
            };
            if v["ref"] == r.as_str() && (v["type"] == "ack" || v["type"] == "error") {
                self.pending.extend(held);
                return v;
            }
            held.push_back(v);
        }
    }

    /// Frames that arrive within `ms` (none expected: answers what came).
    pub async fn drain(&mut self, ms: u64) -> Vec<Value> {
        let mut out: Vec<Value> = self.pending.drain(..).collect();
        while let Ok(Some(v)) = self.read_frame(Duration::from_millis(ms)).await {
            out.push(v);
        }
        out
    }

    /// Reads until the server closes; answers the frames before the close and how it closed.
    pub async fn until_closed(&mut self) -> (Vec<Value>, Closed) {
        let mut out: Vec<Value> = self.pending.drain(..).collect();
        loop {
            match self.read_frame(Duration::from_secs(20)).await {
                Ok(Some(v)) => out.push(v),
                Ok(None) => panic!("connection still open after 20 s"),
                Err(c) => return (out, c),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.framed.send(ws::Message::Close(None)).await;
    }
}

impl Http {
    /// Creates a room over REST as `owner` with `members`; answers its id.
    pub async fn room(&self, owner: &User, room_type: &str, members: &[&User]) -> Uuid {
        let ids: Vec<String> = members.iter().map(|u| u.id.to_string()).collect();
        let a = self
            .post("/api/chat/rooms", &owner.token, json!({"name": format!("{room_type} room"), "room_type": room_type, "participant_ids": ids}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        a.body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("room id")
    }
}

impl TestApp {
    /// Stops this server and starts another on the same database and settings.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            settings,
            handle,
            db,
            ..
        } = self;
        handle.stop(true).await;
        start(settings, db).await
    }
}

/// Percent-encodes what a URL path segment cannot carry as is (emoji, spaces…).
pub fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A message's (or an event's) `seq`.
pub fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {v}"))
}

/// The REST path of a room's messages.
pub fn messages_path(room: impl std::fmt::Display) -> String {
    format!("/api/chat/rooms/{room}/messages")
}

/// A `send_message` frame; more fields with `with`.
pub fn send_frame(room: impl serde::Serialize, content: impl Into<Value>) -> Value {
    serde_json::json!({"type": "send_message", "room_id": room, "content": content.into()})
}

/// `v` with `key` set to `value`.
pub fn with(mut v: Value, key: &str, value: impl Into<Value>) -> Value {
    v[key] = value.into();
    v
}

impl TestApp {
    /// Posts a message over REST (`body` as the API takes it).
    pub async fn post_message(
        &self,
        room: impl std::fmt::Display,
        token: &str,
        body: Value,
    ) -> Answer {
        self.post(&messages_path(room), token, body).await
    }
}

impl Http {
    /// Opens a dialect's WebSocket at `path` (which sends no `connection_established`);
    /// Err(status) when the handshake is refused.
    pub async fn ws_dialect(&self, path: &str, token: Option<&str>) -> Result<Ws, u16> {
        let mut req = self.client.ws(self.ws_url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.connect().await {
            Ok((_, framed)) => Ok(Ws {
                framed,
                pending: VecDeque::new(),
                next_ref: 0,
                hello: Value::Null,
                raw: Vec::new(),
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }
}
