//! One scenario's result (the JSON line `run` prints), and the run report: the JSON file and
//! markdown table of `make bench`, with the machine they were measured on.

use crate::stats::LatencySummary;
use crate::{Error, RunArgs, ScenarioKind};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct ServerUse {
    pub cpu_s: f64,
    /// PostgreSQL's CPU seconds over the same time (all databases of the cluster).
    pub db_cpu_s: Option<f64>,
    pub cpu_pct_of_core: f64,
    pub peak_rss_mib: f64,
    pub rss_before_mib: f64,
    pub rss_after_mib: f64,
}

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct IdleUse {
    pub rss_per_conn_kib: f64,
    pub cpu_pct_of_core: f64,
    pub rss_before_connect_mib: f64,
    pub rss_connected_mib: f64,
}

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct StormUse {
    pub clients_cut: u64,
    pub resumed: u64,
    pub all_resumed_s: Option<f64>,
    pub reconnect_failures: u64,
    pub resync_required: u64,
    pub resume_supported: bool,
}

#[derive(Serialize, Deserialize, Default, Clone)]
#[serde(default)]
pub struct Correctness {
    pub checked: bool,
    pub ok: bool,
    /// Deliveries owed: for every receiver, every message its room's senders sent.
    pub expected: u64,
    pub unique: u64,
    pub lost: u64,
    pub doubled: u64,
    pub out_of_order: u64,
    pub seq_regressions: u64,
    pub unacked: u64,
    /// Sends the server answered with an error (not committed, so owed to no one).
    pub refused: u64,
    pub note: String,
}

// Defaults let `report` read the lines of older runs that lack newer fields.
#[derive(Serialize, Deserialize, Default, Clone)]
#[serde(default)]
pub struct Outcome {
    pub target: String,
    pub scenario: String,
    pub label: Option<String>,
    pub started_unix: u64,
    /// /proc/loadavg when the scenario started: other work on the machine skews every figure.
    pub loadavg_at_start: String,
    pub params: serde_json::Value,
    pub connections: u64,
    pub connect_failures: u64,
    pub connect_secs: f64,
    pub setup_secs: f64,
    pub duration_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub deliveries: u64,
    pub send_rate: f64,
    pub throughput: f64,
    pub throughput_unit: String,
    pub latency_kind: String,
    pub latency: LatencySummary,
    pub ack_latency: LatencySummary,
    pub delivery_latency: LatencySummary,
    pub server: ServerUse,
    pub idle: Option<IdleUse>,
    pub storm: Option<StormUse>,
    /// cluster: delivery latency to the connections on node B alone.
    pub cross_node_latency: Option<LatencySummary>,
    /// ingest+webhook: the deliveries the node made to the endpoint during the run.
    pub webhooks_delivered: Option<u64>,
    pub correctness: Correctness,
    pub errors: u64,
    pub unexpected_closes: u64,
    pub error_samples: Vec<String>,
}

impl Outcome {
    pub fn new(args: &RunArgs, target: &str, started_unix: u64) -> Self {
        let params = match args.scenario {
            ScenarioKind::Ingest => {
                serde_json::json!({"senders": args.senders, "window": args.window, "joined": !args.no_join, "duration_s": args.duration})
            }
            ScenarioKind::Fanout => {
                serde_json::json!({"subscribers": args.subscribers, "rate": args.rate, "duration_s": args.duration})
            }
            ScenarioKind::Rooms => {
                serde_json::json!({"connections": args.connections, "room_size": args.room_size, "rate": args.rate, "duration_s": args.duration, "dialect_clients": args.dialect_clients && args.target == crate::Target::Confab})
            }
            ScenarioKind::Cluster => {
                serde_json::json!({"connections": args.connections, "room_size": args.room_size, "rate": args.rate, "duration_s": args.duration})
            }
            ScenarioKind::Idle => {
                serde_json::json!({"connections": args.connections, "hold_s": args.duration})
            }
            ScenarioKind::Storm => {
                serde_json::json!({"clients": args.connections, "room_size": args.room_size, "rate": args.rate, "jitter_ms": args.jitter_ms, "before_cut_s": args.duration})
            }
        };
        let mut scenario = format!("{:?}", args.scenario).to_lowercase();
        if args.scenario == ScenarioKind::Ingest && args.webhook_url.is_some() {
            scenario.push_str("+webhook");
        }
        Outcome {
            target: target.to_string(),
            scenario,
            label: args.label.clone(),
            started_unix,
            loadavg_at_start: std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            params,
            ..Outcome::default()
        }
    }
}

#[derive(clap::Args, Clone, Debug)]
pub struct ReportArgs {
    /// JSON lines written by `loadgen run --out`.
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub json: PathBuf,
    #[arg(long)]
    pub markdown: PathBuf,
    /// The command that made this run, shown above the table.
    #[arg(long, default_value = "make bench")]
    pub command: String,
    /// When the run was made (UTC), shown above the table.
    #[arg(long, default_value = "")]
    pub date: String,
}

#[derive(Serialize)]
struct Machine {
    cores: usize,
    memory_gib: f64,
    cpu: String,
    kernel: String,
}

fn machine() -> Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let mem_kib = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_string()))
        .unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_gib: mem_kib / 1024.0 / 1024.0,
        cpu,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
    }
}

fn size_of(o: &Outcome) -> String {
    let p = |k: &str| o.params.get(k).map(|v| v.to_string()).unwrap_or_default();
    match o.scenario.as_str() {
        "ingest" => format!("{} senders, window {}", p("senders"), p("window")),
        "ingest+webhook" => format!(
            "{} senders, window {}, 1 endpoint on message.created",
            p("senders"),
            p("window")
        ),
        "fanout" => format!("1 room × {} subs, {} msg/s", p("subscribers"), p("rate")),
        "rooms" => format!(
            "{} conns, rooms of {}, {} msg/s{}",
            p("connections"),
            p("room_size"),
            p("rate"),
            if p("dialect_clients") == "true" {
                ", 1 per room on seed 004's socket"
            } else {
                ""
            }
        ),
        "cluster" => format!(
            "2 nodes; {} conns, rooms of {} (sender on A, the rest on B, one also on A), {} msg/s",
            p("connections"),
            p("room_size"),
            p("rate")
        ),
        "idle" => format!("{} conns, {} s", p("connections"), p("hold_s")),
        "storm" => format!(
            "{} clients, rooms of {}, jitter {} ms",
            p("clients"),
            p("room_size"),
            p("jitter_ms")
        ),
        _ => String::new(),
    }
}

fn verdict(o: &Outcome) -> String {
    let c = &o.correctness;
    let mut s = if c.ok {
        if c.expected > 0 {
            format!("ok: {} deliveries checked, 0 lost, 0 doubled", c.expected)
        } else {
            "ok".to_string()
        }
    } else {
        let mut bad = Vec::new();
        for (n, what) in [
            (c.lost, "lost"),
            (c.doubled, "doubled"),
            (c.out_of_order, "out of order"),
            (c.seq_regressions, "seq regressions"),
            (c.unacked, "unacked"),
            (c.refused, "sends refused by the server"),
            (o.connect_failures, "connect failures"),
            (o.unexpected_closes, "closed by server"),
        ] {
            if n > 0 {
                bad.push(format!("{n} {what}"));
            }
        }
        format!("**FAIL**: {} (of {})", bad.join(", "), c.expected)
    };
    if !c.note.is_empty() {
        let _ = write!(s, "; {}", c.note);
    }
    s
}

fn extra(o: &Outcome) -> String {
    if let Some(i) = &o.idle {
        return format!(
            "{:.1} KiB RSS per connection; {:.2}% of a core while idle",
            i.rss_per_conn_kib, i.cpu_pct_of_core
        );
    }
    if let Some(s) = &o.storm {
        let when = s.all_resumed_s.map_or("not all back".to_string(), |t| {
            format!("all back in {t:.2} s")
        });
        return format!(
            "{when} ({}/{} {}); {} reconnect failures",
            s.resumed,
            s.clients_cut,
            if s.resume_supported {
                "resumed"
            } else {
                "reconnected"
            },
            s.reconnect_failures
        );
    }
    let mut s = format!("sent {:.0} msg/s", o.send_rate);
    if let Some(n) = o.webhooks_delivered {
        let _ = write!(s, "; {n} webhook deliveries during the run");
    }
    if o.cross_node_latency.is_some() {
        let d = &o.delivery_latency;
        let _ = write!(
            s,
            "; all deliveries (both nodes) p50 {:.2} / p99 {:.2} ms",
            d.p50_ms, d.p99_ms
        );
    }
    s
}

/// Issue 14's guard: ingest with a webhook subscribed against plain ingest of the same run. When
/// the run made pairs for it (rows labelled `guard …`: plain, then with the endpoint, one pair
/// after another, so drift in the machine falls on both sides), the sums of the pairs; else the
/// first row of each.
fn webhook_ratio(results: &[Outcome]) -> Option<String> {
    let confab = |name: &'static str| {
        results
            .iter()
            .filter(move |o| o.target == "confab" && o.scenario == name && o.throughput > 0.0)
    };
    let guard = |o: &&Outcome| o.label.as_deref().is_some_and(|l| l.starts_with("guard"));
    let plain: Vec<f64> = confab("ingest")
        .filter(guard)
        .map(|o| o.throughput)
        .collect();
    let hooked: Vec<f64> = confab("ingest+webhook")
        .filter(guard)
        .map(|o| o.throughput)
        .collect();
    let (plain, hooked) = if plain.is_empty() || hooked.is_empty() {
        (
            vec![confab("ingest").next()?.throughput],
            vec![confab("ingest+webhook").next()?.throughput],
        )
    } else {
        (plain, hooked)
    };
    let (p, h): (f64, f64) = (plain.iter().sum(), hooked.iter().sum());
    let ratio = h / p;
    let pairs = if plain.len() > 1 {
        let each: Vec<String> = plain
            .iter()
            .zip(&hooked)
            .map(|(p, h)| format!("{:.2}×", h / p))
            .collect();
        format!(
            " over {} pairs (each: {})",
            plain.len().min(hooked.len()),
            each.join(", ")
        )
    } else {
        String::new()
    };
    Some(format!(
        "\nIngest with a webhook endpoint subscribed: {h:.0} / {p:.0} acked msg/s{pairs} = \
         {ratio:.2}× plain ingest (issue 14 requires ≥ 0.9×){}.\n",
        if ratio >= 0.9 { "" } else { ": **below**" }
    ))
}

pub fn markdown(results: &[Outcome], command: &str, date: &str) -> String {
    let m = machine();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Command: `{command}` · {date} · {} cores ({}), {:.1} GiB memory, Linux {} · load generator \
         and servers on the same machine, over loopback\n",
        m.cores, m.cpu, m.memory_gib, m.kernel
    );
    s.push_str(
        "| scenario | server | size | throughput | p50 ms | p90 ms | p99 ms | p99.9 ms | server CPU s | \
         DB CPU s | peak RSS MiB | correctness | notes |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for o in results {
        let l = &o.latency;
        let ms = |v: f64| {
            if l.count == 0 {
                "–".to_string()
            } else {
                format!("{v:.2}")
            }
        };
        let throughput = if o.throughput_unit.is_empty() {
            "–".to_string()
        } else {
            format!("{:.0} {}", o.throughput, o.throughput_unit)
        };
        let _ = writeln!(
            s,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {:.0} | {} | {} |",
            o.scenario,
            o.label
                .as_deref()
                .map_or(String::new(), |l| format!(" ({l})")),
            o.target,
            size_of(o),
            throughput,
            ms(l.p50_ms),
            ms(l.p90_ms),
            ms(l.p99_ms),
            ms(l.p999_ms),
            o.server.cpu_s,
            o.server
                .db_cpu_s
                .map_or("–".to_string(), |v| format!("{v:.1}")),
            o.server.peak_rss_mib,
            verdict(o),
            extra(o),
        );
    }
    if let Some(line) = webhook_ratio(results) {
        s.push_str(&line);
    }
    let loads: Vec<&str> = results
        .iter()
        .map(|o| o.loadavg_at_start.as_str())
        .collect();
    let _ = writeln!(
        s,
        "\nLoad average (1, 5, 15 min) as each scenario started, in table order: {}. The \
         bench itself adds about 2 at its busiest; more means other work shared the two cores.",
        loads.join(" · ")
    );
    s.push_str(
        "\nLatency is ack latency (send to ack) for ingest, cross-node delivery latency (send on \
         node A to receipt on node B) for cluster, and delivery latency (send to receipt, per \
         receiver) otherwise. Server CPU and RSS cover the server's own processes (daphne and \
         Redis for Django), not the load generator; DB CPU is PostgreSQL's (postmaster and backends) \
         over the same time.\n",
    );
    s
}

pub fn write(args: &ReportArgs) -> Result<(), Error> {
    let text = std::fs::read_to_string(&args.input)?;
    let results = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str::<Outcome>)
        .collect::<Result<Vec<_>, _>>()?;
    let doc = serde_json::json!({
        "date": args.date,
        "command": args.command,
        "machine": machine(),
        "results": results,
    });
    std::fs::write(&args.json, serde_json::to_string_pretty(&doc)?)?;
    std::fs::write(
        &args.markdown,
        markdown(&results, &args.command, &args.date),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(scenario: &str, throughput: f64) -> Outcome {
        Outcome {
            target: "confab".into(),
            scenario: scenario.into(),
            throughput,
            ..Outcome::default()
        }
    }

    #[test]
    fn webhook_ratio_compares_with_plain_ingest_of_the_run() {
        let line = webhook_ratio(&[ingest("ingest", 1000.0), ingest("ingest+webhook", 950.0)]);
        assert!(line
            .as_deref()
            .is_some_and(|l| l.contains("0.95×") && !l.contains("below")));
        let low = webhook_ratio(&[ingest("ingest", 1000.0), ingest("ingest+webhook", 500.0)]);
        assert!(low
            .as_deref()
            .is_some_and(|l| l.contains("0.50×") && l.contains("below")));
        assert!(webhook_ratio(&[ingest("ingest", 1000.0)]).is_none());
    }

    #[test]
    fn webhook_ratio_sums_the_guard_pairs_when_there_are_some() {
        let guard = |scenario: &str, throughput: f64| Outcome {
            label: Some("guard 1".into()),
            ..ingest(scenario, throughput)
        };
        let rows = [
            ingest("ingest", 5000.0),
            guard("ingest", 1000.0),
            guard("ingest+webhook", 900.0),
            guard("ingest", 1000.0),
            guard("ingest+webhook", 1100.0),
        ];
        let line = webhook_ratio(&rows).unwrap_or_default();
        assert!(line.contains("2000 / 2000"), "{line}");
        assert!(
            line.contains("0.90×, 1.10×") && line.contains("= 1.00×"),
            "{line}"
        );
    }
}
