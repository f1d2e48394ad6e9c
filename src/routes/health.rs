//! Operators' endpoints: liveness, readiness (Postgres answers), Prometheus metrics.

use actix_web::{web, HttpResponse};
use diesel_async::RunQueryDsl;

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

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
    let body = serde_json::json!({
        "status": if postgres { "ready" } else { "unavailable" },
        "postgres": if postgres { "ok" } else { "down" },
        "redis": match redis { None => "not configured", Some(true) => "ok", Some(false) => "down" },
    });
    if postgres {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
