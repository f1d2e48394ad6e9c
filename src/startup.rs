//! `Application`: binds (port 0 in tests), migrates, builds the pool and state, wires the routes.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::{guard, middleware, web, App, HttpServer};
use futures_util::FutureExt;

use std::sync::Arc;

use actix::Actor;

use crate::actors::presence::PresenceActor;
use crate::actors::room::RoomDeps;
use crate::actors::supervisor::RoomSupervisor;
use crate::broker::redis::RedisBroker;
use crate::broker::{Broker, Inbound, LocalBroker};
use crate::config::Settings;
use crate::db;
use crate::metrics::Metrics;
use crate::routes;
use crate::state::{AppState, Parts};

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
        let shutdown = settings.server.shutdown_timeout_secs;
        let settings = Arc::new(settings);
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
        let deps = RoomDeps {
            settings: settings.clone(),
            pool: pool.clone(),
            metrics: metrics.clone(),
            broker: broker.clone(),
            presence: presence.clone(),
        };
        let supervisor = RoomSupervisor::new(deps, workers)?.start();
        broker.attach(Inbound {
            supervisor: supervisor.clone(),
            presence: presence.clone(),
        });
        actix_web::rt::spawn(report_stats(broker.clone(), metrics.clone()));
        let parts = Parts {
            pool,
            metrics,
            broker,
            supervisor,
            presence,
        };
        let state = web::Data::new(AppState::new(settings, parts)?);
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let state = app_state.clone();
            let metrics = state.metrics.clone();
            let static_dir = state.settings.server.static_dir.clone();
            let csp = state.settings.server.content_security_policy.clone();
            let cors = routes::cors::middleware(&state.settings.server.allowed_origins);
            App::new()
                .app_data(state)
                // Every path answers with or without a trailing slash.
                .wrap(middleware::NormalizePath::trim())
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
        })
        // Chat frames are small and latency matters: no Nagle delay on acks and events.
        .tcp_nodelay(true)
        .workers(workers)
        .shutdown_timeout(shutdown)
        .listen(listener)?
        .run();
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// This node's counters, as the admin API shows them per node.
pub fn node_stats(node_id: uuid::Uuid, m: &Metrics) -> serde_json::Value {
    use std::sync::atomic::Ordering;
    serde_json::json!({
        "node_id": node_id,
        "connections": m.ws_connections.load(Ordering::Relaxed),
        "room_actors": m.room_actors.load(Ordering::Relaxed),
        "messages_committed": m.messages_total.load(Ordering::Relaxed),
        "room_events_committed": m.room_events_total.load(Ordering::Relaxed),
        "slow_consumers_closed": m.slow_consumers_total.load(Ordering::Relaxed),
    })
}

/// Publishes this node's stats for the cluster view every few seconds (a no-op on one node).
async fn report_stats(broker: Arc<dyn Broker>, metrics: Arc<Metrics>) {
    loop {
        broker.publish_stats(node_stats(broker.node_id(), &metrics));
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
