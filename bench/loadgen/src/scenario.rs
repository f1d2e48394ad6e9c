//! The five scenarios as plans (who connects, to which room, sending how), and the run that
//! carries a plan out and writes its result.

use crate::conn::{Dialer, Ws};
use crate::engine::{open, run_group, ConnSpec, Entry, GroupOut, Phase, SendMode, Shared};
use crate::proto::{webhooks_delivered, Adapter, Confab, Peer};
use crate::report::{Correctness, IdleUse, Outcome, ServerUse, StormUse};
use crate::stats::{
    new_histogram, sample_procs, tree_cpu_s, unix_nanos, LatencySummary, ProcSample,
};
use crate::{Error, RunArgs, ScenarioKind, Target};
use futures_util::{stream, StreamExt};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::sleep;
use uuid::Uuid;

struct Plan {
    conns: Vec<ConnSpec>,
    /// Members of each room as user indexes, creator first.
    rooms: Vec<Vec<usize>>,
    users: usize,
}

fn spec(user: usize, room: Option<usize>, send: SendMode, cuttable: bool) -> ConnSpec {
    ConnSpec {
        user,
        room,
        send,
        cuttable,
        node: 0,
        dialect: false,
    }
}

/// Room `r` of `size` members (users `r*size..`), the first of them sending at `rate`.
fn room_of(r: usize, size: usize, rate: f64) -> (Vec<usize>, Vec<ConnSpec>) {
    let members: Vec<usize> = (r * size..(r + 1) * size).collect();
    let conns = members
        .iter()
        .enumerate()
        .map(|(k, &u)| {
            let send = if k == 0 {
                SendMode::Rate(rate)
            } else {
                SendMode::None
            };
            spec(u, Some(r), send, false)
        })
        .collect();
    (members, conns)
}

fn plan(args: &RunArgs) -> Plan {
    let mut conns = Vec::new();
    let mut rooms = Vec::new();
    // Seed 004's socket is Confab's; the peers have only their own.
    let dialects = args.dialect_clients && args.target == Target::Confab;
    match args.scenario {
        ScenarioKind::Ingest => {
            for s in 0..args.senders {
                rooms.push(vec![s]);
                conns.push(spec(
                    s,
                    Some(s),
                    SendMode::Window(args.window.max(1)),
                    false,
                ));
            }
        }
        ScenarioKind::Fanout => {
            // User 0 sends; subscribers are users 1..=N.
            rooms.push((0..=args.subscribers).collect());
            conns.push(spec(0, Some(0), SendMode::Rate(args.rate), false));
            for u in 1..=args.subscribers {
                conns.push(spec(u, Some(0), SendMode::None, false));
            }
        }
        ScenarioKind::Rooms => {
            let size = args.room_size.max(1);
            let n_rooms = (args.connections / size).max(1);
            for r in 0..n_rooms {
                let (members, mut room) = room_of(r, size, args.rate / n_rooms as f64);
                if let Some(c) = room.get_mut(1) {
                    c.dialect = dialects;
                }
                conns.extend(room);
                rooms.push(members);
            }
        }
        ScenarioKind::Cluster => {
            // Each room: its sender on node A, the others on node B, and the first of them
            // on node A as well (one user on both nodes).
            let size = args.room_size.max(2);
            let n_rooms = (args.connections / size).max(1);
            for r in 0..n_rooms {
                let (members, mut room) = room_of(r, size, args.rate / n_rooms as f64);
                for c in room.iter_mut().skip(1) {
                    c.node = 1;
                }
                conns.extend(room);
                conns.push(spec(members[1], Some(r), SendMode::None, false));
                rooms.push(members);
            }
        }
        ScenarioKind::Idle => {
            for u in 0..args.connections {
                // Peers need a room in the path; Confab's idle connections join nothing.
                conns.push(spec(u, None, SendMode::None, false));
            }
        }
        ScenarioKind::Storm => {
            // Each room: one sender that stays connected, and `room_size` clients that are cut.
            let size = args.room_size.max(1);
            let n_rooms = (args.connections / size).max(1);
            let per_room = args.rate / n_rooms as f64;
            let mut user = 0;
            for r in 0..n_rooms {
                let mut members = vec![user];
                conns.push(spec(user, Some(r), SendMode::Rate(per_room), false));
                user += 1;
                for _ in 0..size {
                    members.push(user);
                    conns.push(spec(user, Some(r), SendMode::None, true));
                    user += 1;
                }
                rooms.push(members);
            }
        }
    }
    let users = conns.iter().map(|c| c.user + 1).max().unwrap_or(0);
    Plan {
        conns,
        rooms,
        users,
    }
}

pub async fn run(args: RunArgs) -> Result<(), Error> {
    if !args.addr.ip().is_loopback() || args.addr_b.is_some_and(|a| !a.ip().is_loopback()) {
        return Err("the load generator only targets loopback addresses".into());
    }
    if args.scenario == ScenarioKind::Cluster && args.addr_b.is_none() {
        return Err("the cluster scenario needs --addr-b, the second node".into());
    }
    let outcome = match args.target {
        Target::Confab => {
            if args.jwt_secret.len() < 32 {
                return Err("confab needs --jwt-secret (LOADGEN_JWT_SECRET) of >= 32 bytes".into());
            }
            let adapter = Confab {
                http_base: format!("http://{}", args.addr),
                jwt_secret: args.jwt_secret.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()?,
                webhook_url: args.webhook_url.clone(),
            };
            let (base, client) = (adapter.http_base.clone(), adapter.client.clone());
            let before = match args.webhook_url {
                Some(_) => webhooks_delivered(&client, &base).await?,
                None => 0,
            };
            let mut outcome = execute(adapter, &args).await?;
            if args.webhook_url.is_some() {
                let delivered = webhooks_delivered(&client, &base).await?;
                outcome.webhooks_delivered = Some(delivered.saturating_sub(before));
            }
            outcome
        }
        Target::Django => execute(Peer { name: "django" }, &args).await?,
        Target::Node => execute(Peer { name: "node" }, &args).await?,
    };
    let line = serde_json::to_string(&outcome)?;
    println!("{line}");
    if let Some(path) = &args.out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn sample(args: &RunArgs) -> ProcSample {
    let mut s = sample_procs(&args.server_pid);
    s.db_cpu_s = args.db_pid.map(tree_cpu_s);
    s
}

fn server_use(before: ProcSample, after: ProcSample, secs: f64) -> ServerUse {
    let cpu_s = (after.cpu_s - before.cpu_s).max(0.0);
    ServerUse {
        cpu_s,
        db_cpu_s: after
            .db_cpu_s
            .zip(before.db_cpu_s)
            .map(|(a, b)| (a - b).max(0.0)),
        cpu_pct_of_core: if secs > 0.0 {
            100.0 * cpu_s / secs
        } else {
            0.0
        },
        peak_rss_mib: after.hwm_kib as f64 / 1024.0,
        rss_before_mib: before.rss_kib as f64 / 1024.0,
        rss_after_mib: after.rss_kib as f64 / 1024.0,
    }
}

async fn execute<A: Adapter>(adapter: A, args: &RunArgs) -> Result<Outcome, Error> {
    let plan = plan(args);
    let started_unix = unix_nanos() / 1_000_000_000;
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let (mut shared, setup_secs) = set_up(adapter, args, &plan, phase_rx).await?;
    let before_connect = sample(args);
    let connected = connect_all(&mut shared, args).await;
    let mut outcome = Outcome::new(args, shared.adapter.name(), started_unix);
    outcome.connections = connected.conns.len() as u64;
    outcome.connect_failures = connected.failures;
    outcome.connect_secs = connected.secs;
    outcome.setup_secs = setup_secs;
    if args.scenario == ScenarioKind::Idle {
        hold_idle(&mut outcome, args, before_connect, connected).await;
        return Ok(outcome);
    }
    let mut error_samples = connected.error_samples;
    // Traffic scenarios: the measured window starts after the warm-up.
    shared.measure_from = unix_nanos() + (args.warmup * 1e9) as u64;
    let measured = Duration::from_secs_f64(args.duration);
    if args.scenario != ScenarioKind::Storm {
        shared.measure_to = shared.measure_from + measured.as_nanos() as u64;
    }
    let shared = Arc::new(shared);
    let before = sample(args);
    let run_start = Instant::now();
    let tasks = spawn_groups(&shared, connected.conns, args.conns_per_task);
    let mid_run = args.mid_run_command.clone().map(|cmd| {
        let at = Duration::from_secs_f64(args.warmup) + measured / 2;
        std::thread::spawn(move || mid_run_command(at, &cmd))
    });
    sleep(Duration::from_secs_f64(args.warmup) + measured).await;
    let mut send_secs = run_start.elapsed().as_secs_f64() - args.warmup;
    if args.scenario == ScenarioKind::Storm {
        outcome.storm = Some(cut_and_resume(&shared, &phase_tx, args).await?);
        send_secs = run_start.elapsed().as_secs_f64() - args.warmup;
    }
    phase_tx.send(Phase::Stop)?;
    wait_for_deliveries(&shared, Duration::from_secs_f64(args.grace)).await;
    let after = sample(args);
    let total_secs = run_start.elapsed().as_secs_f64();
    phase_tx.send(Phase::Finish)?;
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(t.await??);
    }
    let window = if args.scenario == ScenarioKind::Storm {
        send_secs.max(1e-9)
    } else {
        args.duration
    };
    fold(&mut outcome, &shared, outs, window, args.scenario)?;
    if let Some(Err(e)) = mid_run.map(|handle| {
        handle
            .join()
            .unwrap_or_else(|_| Err("the mid-run command's thread panicked".into()))
    }) {
        outcome.errors += 1;
        error_samples.push(e);
    }
    outcome.server = server_use(before, after, total_secs);
    outcome.error_samples.splice(0..0, error_samples);
    outcome.error_samples.truncate(8);
    Ok(outcome)
}

/// Users, their tokens and the rooms, made through the adapter; the state every connection
/// shares, and how long the set-up took.
async fn set_up<A: Adapter>(
    adapter: A,
    args: &RunArgs,
    plan: &Plan,
    phase: watch::Receiver<Phase>,
) -> Result<(Shared<A>, f64), Error> {
    let users: Vec<Uuid> = (0..plan.users).map(|_| Uuid::new_v4()).collect();
    let tokens = users
        .iter()
        .map(|&u| adapter.token(u))
        .collect::<Result<Vec<_>, _>>()?;
    let setup_start = Instant::now();
    let room_ids = adapter.setup(&users, &tokens, &plan.rooms).await?;
    let setup_secs = setup_start.elapsed().as_secs_f64();
    eprintln!(
        "loadgen: {} {:?}: {} users, {} rooms set up in {setup_secs:.1}s; opening {} connections",
        adapter.name(),
        args.scenario,
        users.len(),
        room_ids.len(),
        plan.conns.len()
    );
    let source_ips = if args.source_ips == 0 {
        (plan.conns.len() / 25_000 + 1).min(250) as u8
    } else {
        args.source_ips
    };
    let shared = Shared {
        adapter,
        dialer: Dialer::new(
            std::iter::once(args.addr).chain(args.addr_b).collect(),
            source_ips,
            args.read_buffer,
        ),
        specs: plan.conns.clone(),
        tokens,
        room_ids,
        room_conns: vec![0; plan.rooms.len()],
        phase,
        measure_from: 0,
        measure_to: u64::MAX,
        jitter: Duration::from_millis(args.jitter_ms),
        expected: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        resumed: AtomicU64::new(0),
        subscribed: true,
    };
    Ok((shared, setup_secs))
}

/// The connections a run opened, and what it cost.
struct Connected {
    conns: Vec<(usize, Ws)>,
    failures: u64,
    error_samples: Vec<String>,
    secs: f64,
}

/// Opens every connection, a bounded number of handshakes at a time, and counts the open ones
/// of each room (what one send should be delivered to).
async fn connect_all<A: Adapter>(shared: &mut Shared<A>, args: &RunArgs) -> Connected {
    let connect_start = Instant::now();
    let entry = |no_join: bool| if no_join { Entry::Connect } else { Entry::Join };
    let opened: Vec<_> = {
        let shared = &*shared;
        stream::iter(0..shared.specs.len())
            .map(|idx| async move { (idx, open(shared, idx, entry(args.no_join)).await) })
            .buffer_unordered(args.connect_concurrency.max(1))
            .collect()
            .await
    };
    let secs = connect_start.elapsed().as_secs_f64();
    let mut out = Connected {
        conns: Vec::new(),
        failures: 0,
        error_samples: Vec::new(),
        secs,
    };
    for (idx, result) in opened {
        match result {
            Ok(ws) => out.conns.push((idx, ws)),
            Err(e) => {
                out.failures += 1;
                if out.error_samples.len() < 5 {
                    out.error_samples.push(format!("connect {idx}: {e}"));
                }
            }
        }
    }
    eprintln!(
        "loadgen: {} connections open in {secs:.1}s ({} failed)",
        out.conns.len(),
        out.failures
    );
    // Without joining, Confab's senders get acks only; the peers' path joins them regardless.
    shared.subscribed = !(args.no_join && shared.adapter.explicit_acks());
    for (idx, _) in &out.conns {
        if let Some(r) = shared.specs[*idx].room.filter(|_| shared.subscribed) {
            shared.room_conns[r] += 1;
        }
    }
    out
}

/// The idle scenario: let the server settle, then hold: memory per connection and CPU while
/// nothing happens.
async fn hold_idle(
    outcome: &mut Outcome,
    args: &RunArgs,
    before_connect: ProcSample,
    connected: Connected,
) {
    sleep(Duration::from_secs(2)).await;
    let held = sample(args);
    let t0 = Instant::now();
    sleep(Duration::from_secs_f64(args.duration)).await;
    let after = sample(args);
    let secs = t0.elapsed().as_secs_f64();
    let n = connected.conns.len().max(1) as f64;
    outcome.duration_s = secs;
    outcome.server = server_use(held, after, secs);
    outcome.idle = Some(IdleUse {
        rss_per_conn_kib: (held.rss_kib as f64 - before_connect.rss_kib as f64) / n,
        cpu_pct_of_core: outcome.server.cpu_pct_of_core,
        rss_before_connect_mib: before_connect.rss_kib as f64 / 1024.0,
        rss_connected_mib: held.rss_kib as f64 / 1024.0,
    });
    outcome.correctness.note = "no messages in this scenario".into();
    outcome.correctness.ok = connected.failures == 0;
    outcome.error_samples = connected.error_samples;
}

/// Many connections per task; the storm's cut clients never share a task with its senders.
fn spawn_groups<A: Adapter>(
    shared: &Arc<Shared<A>>,
    conns: Vec<(usize, Ws)>,
    per_task: usize,
) -> Vec<tokio::task::JoinHandle<Result<GroupOut, Error>>> {
    let (cut, keep): (Vec<_>, Vec<_>) = conns
        .into_iter()
        .partition(|(idx, _)| shared.specs[*idx].cuttable);
    let mut tasks = Vec::new();
    for side in [keep, cut] {
        let mut side = side.into_iter().peekable();
        while side.peek().is_some() {
            let chunk: Vec<_> = side.by_ref().take(per_task.max(1)).collect();
            tasks.push(tokio::spawn(run_group(shared.clone(), chunk)));
        }
    }
    tasks
}

/// The storm: cut the cuttable clients, wait (up to the resume timeout) for all to be back,
/// and keep the traffic going a little after the last one.
async fn cut_and_resume<A: Adapter>(
    shared: &Shared<A>,
    phase_tx: &watch::Sender<Phase>,
    args: &RunArgs,
) -> Result<StormUse, Error> {
    let clients = shared.specs.iter().filter(|s| s.cuttable).count() as u64;
    let cut_at = Instant::now();
    phase_tx.send(Phase::Cut)?;
    let deadline = cut_at + Duration::from_secs_f64(args.resume_timeout);
    while shared.resumed.load(Ordering::Relaxed) < clients && Instant::now() < deadline {
        sleep(Duration::from_millis(20)).await;
    }
    let resumed = shared.resumed.load(Ordering::Relaxed);
    let all_resumed_s = (resumed >= clients).then(|| cut_at.elapsed().as_secs_f64());
    sleep(Duration::from_secs_f64(args.after_resume)).await;
    Ok(StormUse {
        clients_cut: clients,
        resumed,
        all_resumed_s,
        reconnect_failures: 0,
        resync_required: 0,
        resume_supported: shared.adapter.supports_resume(),
    })
}

/// Waits up to `grace` for every expected delivery, then a little more for the last acks.
async fn wait_for_deliveries<A: Adapter>(shared: &Shared<A>, grace: Duration) {
    let stopped = Instant::now();
    while shared.delivered.load(Ordering::Relaxed) < shared.expected.load(Ordering::Relaxed)
        && stopped.elapsed() < grace
    {
        sleep(Duration::from_millis(20)).await;
    }
    sleep(Duration::from_millis(200)).await;
}

/// Runs `cmd` with `sh -c` after `at`.
fn mid_run_command(at: Duration, cmd: &str) -> Result<(), String> {
    std::thread::sleep(at);
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .status()
        .map_err(|e| format!("`{cmd}` did not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{cmd}` exited with {status}"))
    }
}

/// Merges what the tasks saw and checks every delivery: each receiver in a room should have
/// each message every sender of that room sent, exactly once, in order.
fn fold<A: Adapter>(
    outcome: &mut Outcome,
    shared: &Shared<A>,
    outs: Vec<GroupOut>,
    window: f64,
    scenario: ScenarioKind,
) -> Result<(), Error> {
    let mut delivery = new_histogram()?;
    let mut cross_node = new_histogram()?;
    let mut ack = new_histogram()?;
    let mut sent_by: HashMap<usize, u64> = HashMap::new();
    let mut senders_of_room: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut receipts = Vec::new();
    let (mut sent_win, mut acks_win, mut deliv_win) = (0u64, 0u64, 0u64);
    let mut c = Correctness::default();
    for out in outs {
        delivery.add(&out.delivery)?;
        cross_node.add(&out.cross_node)?;
        ack.add(&out.ack)?;
        for (idx, sent, acked, refused) in out.sent {
            // A refused send was never committed: no one is owed it.
            sent_by.insert(idx, sent - refused);
            outcome.sent += sent;
            outcome.acked += acked;
            c.refused += refused;
            if let Some(r) = shared.specs[idx].room {
                senders_of_room.entry(r).or_default().push(idx);
            }
        }
        receipts.extend(out.receipts);
        outcome.deliveries += out.deliveries;
        sent_win += out.sent_in_window;
        acks_win += out.acks_in_window;
        deliv_win += out.deliveries_in_window;
        outcome.errors += out.errors;
        outcome.unexpected_closes += out.unexpected_closes;
        outcome.error_samples.extend(out.error_samples);
        if let Some(storm) = outcome.storm.as_mut() {
            storm.reconnect_failures += out.reconnect_failures;
            storm.resync_required += out.resync_required;
        }
    }
    for (idx, r) in receipts.iter().filter(|_| shared.subscribed) {
        let Some(room) = shared.specs[*idx].room else {
            continue;
        };
        for sid in senders_of_room.get(&room).into_iter().flatten() {
            let sent = sent_by.get(sid).copied().unwrap_or(0);
            let got = r.unique_from(*sid as u32);
            c.expected += sent;
            c.unique += got.min(sent);
            c.lost += sent.saturating_sub(got);
        }
        c.doubled += r.doubled;
        c.out_of_order += r.out_of_order;
        c.seq_regressions += r.seq_regressions;
    }
    c.unacked = outcome.sent.saturating_sub(outcome.acked + c.refused);
    c.checked = true;
    c.ok = c.lost == 0
        && c.doubled == 0
        && c.out_of_order == 0
        && c.seq_regressions == 0
        && c.unacked == 0
        && c.refused == 0
        && outcome.connect_failures == 0
        && outcome.unexpected_closes == 0;
    if !shared.adapter.explicit_acks() {
        c.note = "no server acks: a sender's own copy stands for its ack".into();
    }
    if scenario == ScenarioKind::Storm && !shared.adapter.supports_resume() {
        c.note = "no resume in this server: messages sent while a client was away are lost".into();
    }
    outcome.correctness = c;
    outcome.duration_s = window;
    outcome.send_rate = sent_win as f64 / window;
    outcome.ack_latency = LatencySummary::of(&ack);
    outcome.delivery_latency = LatencySummary::of(&delivery);
    match scenario {
        ScenarioKind::Ingest => {
            outcome.throughput = acks_win as f64 / window;
            outcome.throughput_unit = "acked msg/s".into();
            outcome.latency_kind = "ack".into();
            outcome.latency = outcome.ack_latency.clone();
        }
        ScenarioKind::Cluster => {
            outcome.throughput = deliv_win as f64 / window;
            outcome.throughput_unit = "deliveries/s".into();
            outcome.latency_kind = "cross-node delivery".into();
            outcome.latency = LatencySummary::of(&cross_node);
            outcome.cross_node_latency = Some(outcome.latency.clone());
        }
        _ => {
            outcome.throughput = deliv_win as f64 / window;
            outcome.throughput_unit = "deliveries/s".into();
            outcome.latency_kind = "delivery".into();
            outcome.latency = outcome.delivery_latency.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["loadgen"];
        argv.extend_from_slice(extra);
        RunArgs::parse_from(argv)
    }

    #[test]
    fn cluster_rooms_send_on_a_and_receive_on_b_and_on_both() {
        let p = plan(&args(&[
            "--target",
            "confab",
            "--scenario",
            "cluster",
            "--connections",
            "20",
            "--room-size",
            "5",
        ]));
        assert_eq!(p.rooms.len(), 4);
        assert_eq!(p.conns.len(), 4 * 6);
        for (r, members) in p.rooms.iter().enumerate() {
            let conns: Vec<_> = p.conns.iter().filter(|c| c.room == Some(r)).collect();
            let senders: Vec<_> = conns
                .iter()
                .filter(|c| matches!(c.send, SendMode::Rate(_)))
                .collect();
            assert_eq!(senders.len(), 1);
            assert_eq!((senders[0].user, senders[0].node), (members[0], 0));
            let on_a: Vec<_> = conns
                .iter()
                .filter(|c| c.node == 0)
                .map(|c| c.user)
                .collect();
            assert_eq!(on_a, vec![members[0], members[1]]);
            assert_eq!(conns.iter().filter(|c| c.node == 1).count(), 4);
        }
    }

    #[test]
    fn dialect_clients_are_confab_only_one_receiver_per_room() {
        let rooms = [
            "--scenario",
            "rooms",
            "--connections",
            "30",
            "--dialect-clients",
        ];
        let confab = plan(&args(&[&["--target", "confab"][..], &rooms[..]].concat()));
        let dialect: Vec<_> = confab.conns.iter().filter(|c| c.dialect).collect();
        assert_eq!(dialect.len(), 3);
        assert!(dialect.iter().all(|c| matches!(c.send, SendMode::None)));
        let node = plan(&args(&[&["--target", "node"][..], &rooms[..]].concat()));
        assert!(node.conns.iter().all(|c| !c.dialect));
    }
}
