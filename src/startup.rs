//! `Application`: binds (port 0 in tests), migrates, builds the pool and state, wires the routes.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_http::{HttpService, KeepAlive, Response};
use actix_service::{boxed, map_config, ServiceFactoryExt};
use actix_web::body::MessageBody;
use actix_web::dev::{
    AppConfig, Server, ServerHandle, Service, ServiceFactory, ServiceRequest, ServiceResponse,
};
use actix_web::{guard, middleware, web, App};
use futures_util::FutureExt;

use std::sync::Arc;

use actix::Actor;

use crate::actors::inbound::NodeInbound;
use crate::actors::presence::PresenceActor;
use crate::actors::room::RoomDeps;
use crate::actors::supervisor::RoomSupervisor;
use crate::broker::redis::RedisBroker;
use crate::broker::{Broker, LocalBroker};
use crate::config::Settings;
use crate::db;
use crate::metrics::Metrics;
use crate::routes;
use crate::state::{AppState, Parts};
use crate::transport::upgrade;

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Migrates the database, binds `server.host:server.port` and prepares the server.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let applied = db::run_migrations(&settings.database.url).await?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
        let pool = db::pool::build(&settings.database)?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        };
        // Half the shutdown time for the sockets to say goodbye, half for the rest (see `shut_down`).
        let shutdown = settings.server.shutdown_timeout_secs.div_ceil(2);
        let state = start_node(Arc::new(settings), pool, workers).await?;
        let server = serve(listener, state.clone(), workers, shutdown)?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully (see `shut_down`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let state = self.state.clone();
        actix_web::rt::spawn(async move {
            match wait_for_signal().await {
                Ok(name) => log::info!("{name}: shutting down"),
                Err(e) => log::error!("cannot listen for signals: {e}"),
            }
            shut_down(state, handle).await;
        });
        self.server.await
    }
}

/// The App that answers every request (one instance per worker, which `transport::upgrade`
/// shares between the HTTP/1 dispatcher and upgrade requests).
fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics = state.metrics.clone();
    let static_dir = state.settings.server.static_dir.clone();
    let csp = state.settings.server.content_security_policy.clone();
    let cors = routes::cors::middleware(&state.settings.server.allowed_origins);
    App::new()
        .app_data(state)
        // Every path answers with or without a trailing slash.
        .wrap(middleware::NormalizePath::trim())
        // Before the trim: seed 004's slashed paths get 004's answers.
        .wrap(middleware::from_fn(
            crate::dialects::drf::slashed::remember_slash,
        ))
        .wrap(cors)
        .wrap(middleware::from_fn(
            routes::cors::refused_preflight_in_error_shape,
        ))
        // Answers that set their own (file downloads) keep theirs.
        .wrap(
            middleware::DefaultHeaders::new()
                .add(("Content-Security-Policy", csp))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "no-referrer"))
                .add(("Cache-Control", "no-cache")),
        )
        .wrap(
            // The path only: a query string may carry a token or ticket.
            middleware::Logger::new("%a \"%{method}xi %U\" %s %b %Dms")
                .custom_request_replace("method", |req| req.method().to_string()),
        )
        .wrap_fn(move |req, srv| {
            let started = Instant::now();
            let metrics = metrics.clone();
            let method = req.method().to_string();
            srv.call(req).map(move |res| {
                if let Ok(res) = &res {
                    let route = res
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".into());
                    metrics.observe_request(
                        &method,
                        &route,
                        res.status().as_u16(),
                        started.elapsed().as_secs_f64(),
                    );
                }
                res
            })
        })
        .configure(routes::configure)
        .service(
            actix_files::Files::new("/", static_dir)
                .index_file("index.html")
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .default_handler(web::to(routes::not_found)),
        )
        .default_service(web::to(routes::not_found))
}

/// The HTTP server as actix-web's `HttpServer` builds it (its defaults: keep-alive 5 s, 5 s for a
/// request's head, 1 s to close), plus the upgrade service that takes WebSockets out of the
/// HTTP/1 dispatcher (`transport::upgrade`).
fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    workers: usize,
    shutdown_secs: u64,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    // What `HttpServer` gives the App: the bound address as host and local address. (The
    // constructor is public but hidden from the docs; `AppConfig::default()` would name
    // localhost:8080 for requests without a Host header.)
    let config = move |_: ()| AppConfig::__priv_test_new(false, addr.to_string(), addr);
    Ok(builder
        .workers(workers)
        .shutdown_timeout(shutdown_secs)
        // SIGTERM and SIGINT are handled by `run_until_stopped` (sockets are told first).
        .disable_signals()
        .listen("confab", listener, move || {
            let graceful = graceful.clone();
            let (http, upgrade) = upgrade::shared(boxed::factory(
                map_config(app(state.clone()), config)
                    .map(|res| Response::from(res.map_into_boxed_body())),
            ));
            HttpService::build()
                .graceful_shutdown_signal(move || {
                    let graceful = graceful.clone();
                    async move { graceful.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(upgrade::LINGER)
                .h1_allow_half_closed(true)
                // Chat frames are small and latency matters: no Nagle delay on acks and events.
                .tcp_nodelay(true)
                .local_addr(addr)
                .upgrade(upgrade)
                .finish(http)
                .tcp()
        })?
        .run())
}

async fn wait_for_signal() -> std::io::Result<&'static str> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// Stops accepting connections; tells every socket `closing {reason: "shutdown"}` once its
/// frame in hand is committed and acked, and closes it with 1001; waits up to half of
/// `server.shutdown_timeout_secs` for the sockets, then stops the server (in-flight requests get
/// the other half).
pub async fn shut_down(state: web::Data<AppState>, handle: ServerHandle) {
    use std::sync::atomic::Ordering;
    handle.pause().await;
    let half = std::time::Duration::from_millis(state.settings.server.shutdown_timeout_secs * 500);
    let told = state
        .presence
        .send(crate::actors::presence::ShutDownAll {
            retry_after_ms: SHUTDOWN_RETRY_AFTER_MS,
        })
        .await
        .unwrap_or(0);
    log::info!("shutdown: told {told} connection(s) to reconnect");
    let deadline = Instant::now() + half;
    while state.metrics.ws_connections.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    handle.stop(true).await;
}

/// How long a client told `closing {reason: "shutdown"}` waits before reconnecting (at least;
/// each gets up to as much again so they spread out).
const SHUTDOWN_RETRY_AFTER_MS: u64 = 1000;

/// Removes uploads no message carried in time, every `uploads.sweep_interval_secs`.
async fn sweep_uploads(state: web::Data<AppState>) {
    use std::sync::atomic::Ordering;
    let every = std::time::Duration::from_secs(state.settings.uploads.sweep_interval_secs);
    loop {
        tokio::time::sleep(every).await;
        match state.uploads.sweep_unattached(&state.pool).await {
            Ok(0) => {}
            Ok(n) => {
                log::info!("removed {n} upload(s) no message carried");
                state
                    .metrics
                    .uploads_swept_total
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => log::warn!("sweeping unattached uploads: {e}"),
        }
    }
}

/// Publishes this node's stats for the cluster view every few seconds (a no-op on one node).
async fn report_stats(broker: Arc<dyn Broker>, metrics: Arc<Metrics>) {
    loop {
        broker.publish_stats(crate::metrics::node_stats(broker.node_id(), &metrics));
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}

// ---- moderation (issue 17) ----

/// Removes messages past their room's retention every `retention.sweep_interval_secs`, then the
/// files no message carries any more.
async fn sweep_retention(state: web::Data<AppState>) {
    let every = std::time::Duration::from_secs(state.settings.retention.sweep_interval_secs.max(1));
    loop {
        tokio::time::sleep(every).await;
        match crate::actors::retention::sweep(&state.pool, state.settings.retention.batch).await {
            Ok(0) => {}
            Ok(n) => {
                log::info!("retention removed {n} message(s)");
                if let Err(e) = state.uploads.sweep_unattached(&state.pool).await {
                    log::warn!("sweeping the files of removed messages: {e}");
                }
            }
            Err(e) => log::warn!("retention sweep: {e}"),
        }
    }
}

/// The node's actors and workers (presence, webhooks, rooms, broker, sweeps) and the state the
/// handlers share.
async fn start_node(
    settings: Arc<Settings>,
    pool: db::DbPool,
    workers: usize,
) -> Result<web::Data<AppState>, StartupError> {
    let metrics = Arc::new(Metrics::default());
    let broker: Arc<dyn Broker> = if settings.broker.redis_url.is_empty() {
        Arc::new(LocalBroker::new())
    } else {
        Arc::new(RedisBroker::new(
            &settings.broker.redis_url,
            settings.broker.presence_ttl_secs,
        )?)
    };
    let presence = PresenceActor::new(settings.clone(), pool.clone(), broker.clone()).start();
    // Issue 14: the webhook subscriptions cache, and the node's delivery worker.
    let hooks = Arc::new(crate::db::webhooks::HookGate::new(
        std::time::Duration::from_secs(settings.webhooks.subscription_cache_secs),
    ));
    // The worker's thread has a pool of its own (as each committer has): a connection's I/O runs
    // on the thread that opened it, and the others' should not wait for a lower priority.
    let hook_pool = db::pool::build_for_commits(&settings.database, 4)?;
    let webhook_thread = crate::actors::webhooks::WebhookWorker::new(
        hook_pool,
        settings.clone(),
        metrics.clone(),
        hooks.clone(),
    )?
    .start_in_background();
    let deps = RoomDeps {
        settings: settings.clone(),
        pool: pool.clone(),
        metrics: metrics.clone(),
        broker: broker.clone(),
        presence: presence.clone(),
        hooks: hooks.clone(),
        link_previews: crate::actors::link_previews::LinkPreviews::new(
            settings.clone(),
            pool.clone(),
            metrics.clone(),
        )?,
    };
    let supervisor = RoomSupervisor::new(deps, workers)?.start();
    let relay = broker.clone();
    hooks.relay_with(move |tenant| relay.hooks_changed(tenant));
    broker.attach(Arc::new(NodeInbound {
        supervisor: supervisor.clone(),
        presence: presence.clone(),
        hooks: hooks.clone(),
    }));
    actix_web::rt::spawn(report_stats(broker.clone(), metrics.clone()));
    let parts = Parts {
        pool,
        metrics,
        broker,
        supervisor,
        presence,
        hooks,
        webhook_thread,
    };
    let state = web::Data::new(AppState::new(settings, parts)?);
    actix_web::rt::spawn(sweep_uploads(state.clone()));
    actix_web::rt::spawn(sweep_retention(state.clone()));
    Ok(state)
}
