//! Operators' endpoints: liveness, readiness (Postgres answers), Prometheus metrics.

use actix_web::{web, HttpResponse};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use super::endpoint::Endpoint;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/healthz").get(healthz).build())
        .service(Endpoint::new("/readyz").get(readyz).build())
        .service(Endpoint::new("/metrics").get(metrics).build());
}

/// What `/healthz` answers.
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// What `/readyz` answers, with 200 or 503.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(pattern = "^(ready|unavailable)$")]
    pub status: &'static str,
    /// `ok` or `down`.
    #[schema(pattern = "^(ok|down)$")]
    pub postgres: &'static str,
    /// `ok`, `down`, or `not configured` (one node).
    #[schema(pattern = "^(ok|down|not configured)$")]
    pub redis: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health_healthz",
    tag = "health",
    responses((status = 200, description = "Alive", body = Liveness))
)]
async fn healthz() -> web::Json<Liveness> {
    web::Json(Liveness { status: "ok" })
}

/// Readiness: Postgres answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "health_readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Postgres is down", body = Readiness)
    )
)]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let postgres = match state.pool.get().await {
        Ok(mut conn) => diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .is_ok(),
        Err(_) => false,
    };
    // Redis, when configured, is reported; a node without it still serves its own clients.
    let redis = state.broker.healthy().await;
    let body = Readiness {
        status: if postgres { "ready" } else { "unavailable" },
        postgres: if postgres { "ok" } else { "down" },
        redis: match redis {
            None => "not configured",
            Some(true) => "ok",
            Some(false) => "down",
        },
    };
    if postgres {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics of this node.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "health_metrics",
    tag = "health",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain; version=0.0.4"))
)]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
