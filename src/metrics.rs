//! Prometheus text-format metrics: request counts and latencies, connections, messages.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Open WebSocket connections on this node.
    pub ws_connections: AtomicI64,
    /// Messages committed by this node.
    pub messages_total: AtomicU64,
    /// Room events (of any kind) committed by this node.
    pub room_events_total: AtomicU64,
    /// Running room actors on this node.
    pub room_actors: AtomicI64,
    /// Connections closed because they could not keep up.
    pub slow_consumers_total: AtomicU64,
    /// Transactions started by the committer, the room batches and the writes they carried.
    pub commits_total: AtomicU64,
    /// Uploads removed because no message carried them (see `uploads::sweep`).
    pub uploads_swept_total: AtomicU64,
    pub commit_rooms_total: AtomicU64,
    pub commit_ops_total: AtomicU64,
    /// Shared transactions that failed and were retried one room at a time.
    pub commit_fallbacks_total: AtomicU64,
    // Issue 14: webhook delivery and notifications (rendered by `render_webhooks`).
    pub webhook_attempts_total: AtomicU64,
    pub webhook_attempt_micros_total: AtomicU64,
    pub webhook_delivered_total: AtomicU64,
    pub webhook_failures_total: AtomicU64,
    pub webhook_given_up_total: AtomicU64,
    pub webhook_notifications_total: AtomicU64,
    // Issue 20: malware scanning and previews (rendered by `render_media`).
    pub uploads_infected_total: AtomicU64,
    pub upload_scanner_down_total: AtomicU64,
    pub uploads_unscanned_total: AtomicU64,
    pub previews_failed_total: AtomicU64,
    pub link_previews_total: AtomicU64,
    pub link_previews_refused_total: AtomicU64,
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// One committer transaction with `rooms` room batches and `ops` writes.
    pub fn observe_commit(&self, rooms: usize, ops: usize) {
        self.commits_total.fetch_add(1, Ordering::Relaxed);
        self.commit_rooms_total
            .fetch_add(rooms as u64, Ordering::Relaxed);
        self.commit_ops_total
            .fetch_add(ops as u64, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP confab_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE confab_http_requests_total counter\n");
        let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        for ((m, r, s), series) in map.iter() {
            let _ = writeln!(
                out,
                "confab_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}",
                series.count
            );
        }
        out.push_str("# HELP confab_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE confab_http_request_duration_seconds histogram\n");
        for ((m, r, s), series) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{s}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "confab_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    series.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "confab_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                series.count
            );
            let _ = writeln!(
                out,
                "confab_http_request_duration_seconds_sum{{{labels}}} {}",
                series.sum
            );
            let _ = writeln!(
                out,
                "confab_http_request_duration_seconds_count{{{labels}}} {}",
                series.count
            );
        }
        drop(map);
        let gauges: [(&str, &str, &str, i64); 10] = [
            (
                "confab_ws_connections",
                "gauge",
                "Open WebSocket connections.",
                self.ws_connections.load(Ordering::Relaxed),
            ),
            (
                "confab_room_actors",
                "gauge",
                "Running room actors.",
                self.room_actors.load(Ordering::Relaxed),
            ),
            (
                "confab_messages_total",
                "counter",
                "Messages committed.",
                self.messages_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_room_events_total",
                "counter",
                "Room events committed.",
                self.room_events_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_slow_consumers_total",
                "counter",
                "Connections closed as slow consumers.",
                self.slow_consumers_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_uploads_swept_total",
                "counter",
                "Uploads removed (row and file) because no message carried them.",
                self.uploads_swept_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_commits_total",
                "counter",
                "Transactions of the committer (each carries the writes of one or more rooms).",
                self.commits_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_commit_rooms_total",
                "counter",
                "Room batches committed (a transaction carries one or more).",
                self.commit_rooms_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_commit_writes_total",
                "counter",
                "Writes handed to the committer.",
                self.commit_ops_total.load(Ordering::Relaxed) as i64,
            ),
            (
                "confab_commit_fallbacks_total",
                "counter",
                "Shared transactions that failed and were retried one room at a time.",
                self.commit_fallbacks_total.load(Ordering::Relaxed) as i64,
            ),
        ];
        for (name, kind, help, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        self.render_webhooks(&mut out);
        self.render_media(&mut out);
        out
    }

    /// Issue 14: the `confab_webhook_*` counters.
    fn render_webhooks(&self, out: &mut String) {
        let micros = self.webhook_attempt_micros_total.load(Ordering::Relaxed);
        let counters: [(&str, &str, u64); 5] = [
            (
                "confab_webhook_attempts_total",
                "Webhook delivery attempts (each POST to an endpoint).",
                self.webhook_attempts_total.load(Ordering::Relaxed),
            ),
            (
                "confab_webhook_delivered_total",
                "Webhook deliveries answered 2xx.",
                self.webhook_delivered_total.load(Ordering::Relaxed),
            ),
            (
                "confab_webhook_failures_total",
                "Webhook attempts that failed (non-2xx, timeout, refused); each is retried.",
                self.webhook_failures_total.load(Ordering::Relaxed),
            ),
            (
                "confab_webhook_given_up_total",
                "Webhook deliveries given up after the retry window (their endpoint is failing).",
                self.webhook_given_up_total.load(Ordering::Relaxed),
            ),
            (
                "confab_webhook_notifications_total",
                "Notification events written to the outbox.",
                self.webhook_notifications_total.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP confab_webhook_attempt_seconds_total Time spent in webhook attempts.\n\
             # TYPE confab_webhook_attempt_seconds_total counter\n\
             confab_webhook_attempt_seconds_total {}",
            micros as f64 / 1e6
        );
    }
}

impl Metrics {
    /// Issue 20: the scanner's and the previews' counters.
    fn render_media(&self, out: &mut String) {
        let counters: [(&str, &str, &AtomicU64); 6] = [
            (
                "confab_uploads_infected_total",
                "Uploads refused because the malware scanner found something.",
                &self.uploads_infected_total,
            ),
            (
                "confab_upload_scanner_down_total",
                "Uploads the malware scanner could not scan (down, slow or erroring).",
                &self.upload_scanner_down_total,
            ),
            (
                "confab_uploads_unscanned_total",
                "Uploads accepted unscanned because the scanner was down (uploads.scan_fail_open).",
                &self.uploads_unscanned_total,
            ),
            (
                "confab_file_previews_failed_total",
                "PDF pages and video frames that could not be made into a preview.",
                &self.previews_failed_total,
            ),
            (
                "confab_link_previews_total",
                "Link previews fetched and delivered.",
                &self.link_previews_total,
            ),
            (
                "confab_link_previews_refused_total",
                "Link previews not made (guarded address, too large, too slow, not HTML).",
                &self.link_previews_refused_total,
            ),
        ];
        for (name, help, v) in counters {
            let v = v.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
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
