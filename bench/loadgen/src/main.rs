//! Confab's load generator: runs one benchmark scenario (ingest, fanout, rooms, idle, storm)
//! against Confab or one of its peers on loopback and prints one JSON result line; `report` turns
//! a run's lines into the JSON file and the markdown table of `make bench`; `receive` is the
//! bench's webhook endpoint.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::dbg_macro)
)]

mod conn;
mod engine;
mod proto;
mod receiver;
mod report;
mod retention;
mod scenario;
mod stats;

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(about = "Load generator for Confab and its benchmark peers (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and append its result as one JSON line to --out (and print it).
    Run(Box<RunArgs>),
    /// Turn the JSON lines of a bench run into one JSON file and a markdown table.
    Report(report::ReportArgs),
    /// Confab alone: write into a room while retention sweeps its old history; one markdown row.
    Retention(retention::RetentionArgs),
    /// The webhook endpoint of the bench: answers every POST at once with 204.
    Receive(receiver::ReceiveArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Target {
    Confab,
    Django,
    Node,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScenarioKind {
    /// Senders alone in their rooms, each sending as fast as its acks allow.
    Ingest,
    /// One room of many subscribers, one sender at a fixed rate.
    Fanout,
    /// Many small rooms, a fixed total rate.
    Rooms,
    /// Authenticated connections doing nothing: server memory and CPU per connection.
    Idle,
    /// Every client cut at once, reconnecting with jitter and `resume`.
    Storm,
    /// Two nodes joined by Redis: senders on node A (`--addr`), receivers on node B (`--addr-b`)
    /// and on both; latency is cross-node delivery.
    Cluster,
}

#[derive(Parser, Clone, Debug)]
pub struct RunArgs {
    #[arg(long, value_enum)]
    pub target: Target,
    #[arg(long, value_enum)]
    pub scenario: ScenarioKind,
    /// The server, on this machine's loopback only.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// cluster: the second node (same database, same Redis).
    #[arg(long)]
    pub addr_b: Option<SocketAddr>,
    /// ingest (Confab): subscribe an endpoint at this URL to `message.created` before the run,
    /// as the tenant's admin (the server must allow its host in `webhooks.allow_insecure_hosts`).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// rooms (Confab): one receiver in each room speaks seed 004's socket
    /// (`/ws/chat/{room_id}/?dialect=drf`, docs/DIALECTS.md) instead of the native protocol.
    #[arg(long)]
    pub dialect_clients: bool,
    /// HS256 secret to mint Confab tokens with (the server's CONFAB__AUTH__JWT_SECRET).
    #[arg(
        long,
        env = "LOADGEN_JWT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub jwt_secret: String,
    /// Server process ids whose CPU time and memory are reported (helpers such as Redis too).
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// PostgreSQL's postmaster pid: its CPU time and its backends' are reported as DB CPU.
    #[arg(long)]
    pub db_pid: Option<u32>,
    /// ingest: senders, each alone in its own room.
    #[arg(long, default_value_t = 100)]
    pub senders: usize,
    /// ingest: senders do not join their rooms, so they get acks but no copies of their messages.
    #[arg(long)]
    pub no_join: bool,
    /// ingest: sends awaiting their ack per sender.
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// fanout: subscribers of the one room.
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// rooms, idle, storm, cluster: connections (storm: clients, besides one sender per room;
    /// cluster: one more per room, the receiver on both nodes).
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// rooms, storm, cluster: connections per room.
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// fanout, rooms, storm, cluster: messages per second in total.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds measured (idle: seconds held; storm: seconds of traffic before the cut).
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Seconds of traffic before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds to wait for deliveries still in flight after the senders stop.
    #[arg(long, default_value_t = 10.0)]
    pub grace: f64,
    /// storm: reconnect delays are drawn uniformly from 0..jitter milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub jitter_ms: u64,
    /// storm: seconds to wait for all clients to be resumed.
    #[arg(long, default_value_t = 120.0)]
    pub resume_timeout: f64,
    /// storm: seconds of traffic after the last client is back, before the senders stop.
    #[arg(long, default_value_t = 3.0)]
    pub after_resume: f64,
    /// Connections driven by one task.
    #[arg(long, default_value_t = 128)]
    pub conns_per_task: usize,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// WebSocket read buffer per connection, bytes.
    #[arg(long, default_value_t = 4096)]
    pub read_buffer: usize,
    /// Source addresses 127.0.0.1..=N; 0 picks one per 25,000 connections.
    #[arg(long, default_value_t = 0)]
    pub source_ips: u8,
    /// A shell command run once, halfway through the measured window (cluster: restart Redis);
    /// the run goes on meanwhile, and a failure of the command is counted as an error.
    #[arg(long)]
    pub mid_run_command: Option<String>,
    /// Append the result line to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Free text stored with the result.
    #[arg(long)]
    pub label: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(Error::from)
            .and_then(|rt| rt.block_on(scenario::run(*args))),
        Command::Report(args) => report::write(&args),
        Command::Retention(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::from)
            .and_then(|rt| rt.block_on(retention::run(args))),
        Command::Receive(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::from)
            .and_then(|rt| rt.block_on(receiver::run(args))),
    };
    if let Err(e) = result {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}
