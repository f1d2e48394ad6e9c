//! The `retention` scenario (Confab alone, issue 17): one writer sends into a room while the
//! retention sweeper removes the room's old history under it. Answers the writer's ack latency
//! before and during the sweep, how long the sweep took, and whether any seq was skipped.

use crate::conn::{Dialer, Ws};
use crate::proto::{mint_token, Confab};
use crate::stats::{new_histogram, LatencySummary};
use crate::Error;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

#[derive(clap::Args, Clone, Debug)]
pub struct RetentionArgs {
    /// The server, on this machine's loopback only (started with a short sweep interval).
    #[arg(long)]
    pub addr: SocketAddr,
    /// HS256 secret to mint Confab tokens with (the server's CONFAB__AUTH__JWT_SECRET).
    #[arg(long, env = "LOADGEN_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// Messages written before the sweep, all of which it removes.
    #[arg(long, default_value_t = 10_000)]
    pub old: u64,
    /// The room's cap by count set to start the sweep (only the newest this many are kept).
    #[arg(long, default_value_t = 100)]
    pub keep: u64,
    /// Writes measured before the sweep starts.
    #[arg(long, default_value_t = 300)]
    pub baseline: u64,
    /// The sweep must be done within this many seconds.
    #[arg(long, default_value_t = 300.0)]
    pub timeout: f64,
}

/// Ack latency of the writer's sends, one at a time.
struct Writer {
    ws: Ws,
    room: String,
    next_ref: u64,
    seqs: Vec<u64>,
}

impl Writer {
    /// Sends one message and waits for its ack: the time it took.
    async fn timed(&mut self) -> Result<Duration, Error> {
        let started = Instant::now();
        let r = self.send().await?;
        self.ack(&r).await?;
        Ok(started.elapsed())
    }

    async fn send(&mut self) -> Result<String, Error> {
        self.next_ref += 1;
        let r = format!("r{}", self.next_ref);
        let frame = json!({"type": "send_message", "room_id": self.room,
                           "content": format!("retention bench {}", self.next_ref), "ref": r});
        self.ws.send(Message::text(frame.to_string())).await?;
        Ok(r)
    }

    /// Reads until the ack of `r` (keeping its seq); an error frame or a close is an error.
    async fn ack(&mut self, r: &str) -> Result<(), Error> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await?
                .ok_or("the connection closed")??;
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text)?;
            match v["type"].as_str() {
                Some("ack") if v["ref"] == r => {
                    self.seqs
                        .push(v["seq"].as_u64().ok_or("an ack without seq")?);
                    return Ok(());
                }
                Some("error") if v["ref"] == r => return Err(format!("error frame: {v}").into()),
                _ => {}
            }
        }
    }

    /// Writes `n` messages with up to `window` unacknowledged (acks come in send order).
    async fn fill(&mut self, n: u64, window: u64) -> Result<(), Error> {
        let mut refs = std::collections::VecDeque::new();
        for _ in 0..n {
            refs.push_back(self.send().await?);
            if refs.len() as u64 >= window {
                let r = refs.pop_front().ok_or("no ref")?;
                self.ack(&r).await?;
            }
        }
        while let Some(r) = refs.pop_front() {
            self.ack(&r).await?;
        }
        Ok(())
    }

    /// Seqs missing between 1 and the highest acked (one writer: every seq is one of its acks).
    fn gaps(&self) -> u64 {
        let mut s = self.seqs.clone();
        s.sort_unstable();
        s.dedup();
        let top = s.last().copied().unwrap_or(0);
        top - s.len() as u64
    }
}

#[derive(Deserialize)]
struct Retained {
    retained_from_seq: u64,
}

/// Where the sweep has got to: the room's first retained seq.
async fn retained_from(api: &Confab, admin: &str, room: &str) -> Result<u64, Error> {
    let path = format!("/api/admin/rooms/{room}/retention");
    let r: Retained = api
        .call(reqwest::Method::GET, &path, admin, None)
        .await?
        .json()
        .await?;
    Ok(r.retained_from_seq)
}

pub async fn run(args: RetentionArgs) -> Result<(), Error> {
    if !args.addr.ip().is_loopback() {
        return Err("the load generator only targets loopback addresses".into());
    }
    let api = Confab {
        http_base: format!("http://{}", args.addr),
        jwt_secret: args.jwt_secret.clone(),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        webhook_url: None,
    };
    let (writer, admin) = (Uuid::new_v4(), Uuid::new_v4());
    let token = mint_token(&args.jwt_secret, writer, "user")?;
    let admin = mint_token(&args.jwt_secret, admin, "admin")?;
    api.provision(&token).await?;
    let room = api
        .create_room(&token, "retention bench".into(), Vec::new())
        .await?;
    let ws = Dialer::new(vec![args.addr], 0, 65_536)
        .connect(0, "/ws/chat/", Some(&token))
        .await?;
    let mut w = Writer {
        ws,
        room: room.clone(),
        next_ref: 0,
        seqs: Vec::new(),
    };
    w.fill(args.old, 64).await?;
    let mut before = new_histogram()?;
    for _ in 0..args.baseline {
        record(&mut before, w.timed().await?)?;
    }
    let cap = json!({"max_messages": args.keep});
    let path = format!("/api/admin/rooms/{room}/retention");
    api.call(reqwest::Method::PUT, &path, &admin, Some(&cap))
        .await?;
    let started = Instant::now();
    let mut during = new_histogram()?;
    while retained_from(&api, &admin, &room).await? <= args.old {
        if started.elapsed().as_secs_f64() > args.timeout {
            return Err(format!("the sweep did not finish within {} s", args.timeout).into());
        }
        for _ in 0..20 {
            record(&mut during, w.timed().await?)?;
        }
    }
    let swept = started.elapsed().as_secs_f64();
    println!("{}", line(&args, swept, &before, &during, w.gaps()));
    Ok(())
}

fn record(h: &mut Histogram<u64>, took: Duration) -> Result<(), Error> {
    h.record(took.as_micros().max(1) as u64)?;
    Ok(())
}

/// One markdown row: the sweep's size and time, ack latency before and during it, seq gaps.
fn line(
    args: &RetentionArgs,
    swept: f64,
    before: &Histogram<u64>,
    during: &Histogram<u64>,
    gaps: u64,
) -> String {
    let (b, d) = (LatencySummary::of(before), LatencySummary::of(during));
    let verdict = if d.p99_ms <= 50.0 { "met" } else { "NOT met" };
    format!(
        "| retention sweep of {} messages (cap {}) | swept in {swept:.1} s | {} writes during: p50 {:.1} ms, p99 **{:.1} ms**, max {:.1} ms (target p99 ≤ 50 ms: {verdict}) | {} writes before: p50 {:.1} ms, p99 {:.1} ms | seq gaps: {gaps} |",
        args.old, args.keep, d.count, d.p50_ms, d.p99_ms, d.max_ms, b.count, b.p50_ms, b.p99_ms
    )
}
