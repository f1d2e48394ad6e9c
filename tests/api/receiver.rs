//! A webhook receiver for the tests: a real HTTP server on port 0 that keeps every request it
//! gets (headers and body) and answers 500 to the first `fail_first` of them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Got {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What it answered (200 or 500).
    pub answered: u16,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Verifies the request with the `standardwebhooks` crate and `secret` (`whsec_…`).
    pub fn verify(&self, secret: &str) -> Result<(), standardwebhooks::WebhookError> {
        let mut headers = http::HeaderMap::new();
        for (k, v) in [
            ("webhook-id", &self.id),
            ("webhook-timestamp", &self.timestamp),
            ("webhook-signature", &self.signature),
        ] {
            headers.insert(k, v.parse().expect("a header value"));
        }
        standardwebhooks::Webhook::new(secret)
            .expect("a whsec_ secret")
            .verify(self.body.as_bytes(), &headers)
    }
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Got>>,
    fail_first: AtomicUsize,
    /// Milliseconds to wait before answering (a slow receiver).
    delay_ms: AtomicUsize,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// A receiver that answers 500 to its first `fail_first` requests, then 200.
    pub async fn start(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, 0).await
    }

    /// A receiver that waits `delay_ms` before each answer.
    pub async fn slow(delay_ms: usize) -> Receiver {
        Self::start_with(0, delay_ms).await
    }

    async fn start_with(fail_first: usize, delay_ms: usize) -> Receiver {
        let shared = Arc::new(Shared::default());
        shared.fail_first.store(fail_first, Ordering::SeqCst);
        shared.delay_ms.store(delay_ms, Ordering::SeqCst);
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(take))
        })
        .workers(2)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind a receiver");
        let port = server.addrs()[0].port();
        // Stops with the test's runtime.
        actix_rt::spawn(server.run());
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            shared,
        }
    }

    /// Everything received so far.
    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().expect("lock").clone()
    }

    /// The requests answered 200, in arrival order.
    pub fn delivered(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| g.answered == 200)
            .collect()
    }

    /// Waits until `n` requests were answered 200 (panics after `secs`).
    pub async fn wait_delivered(&self, n: usize, secs: u64) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let d = self.delivered();
            if d.len() >= n {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} deliveries after {secs} s: {:?}",
                d.len(),
                self.got()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn take(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let fail = shared
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if fail { 500 } else { 200 };
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    shared.got.lock().expect("lock").push(Got {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    if fail {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::Ok().finish()
    }
}
