//! The scenario engine: opens the connections of a plan, drives them many to a task through the
//! phases (run, cut, stop, finish), and folds what each task saw into one result.

use crate::conn::{Dialer, Ws};
use crate::proto::{parse_frame, Adapter, Event};
use crate::stats::{new_histogram, parse_payload, payload, unix_nanos, Receipt, Receipts};
use crate::Error;
use futures_util::stream::{self, BoxStream, FuturesUnordered, SelectAll};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rand::Rng;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{interval, sleep, timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

type Sink = futures_util::stream::SplitSink<Ws, Message>;

/// How a connection sends.
#[derive(Clone, Copy, Debug)]
pub enum SendMode {
    None,
    /// As fast as acks allow, with this many sends awaiting their ack.
    Window(usize),
    /// At a fixed rate, messages per second.
    Rate(f64),
}

#[derive(Clone, Debug)]
pub struct ConnSpec {
    pub user: usize,
    pub room: Option<usize>,
    pub send: SendMode,
    /// Cut and reconnected with `resume` in the storm.
    pub cuttable: bool,
    /// The node it connects to: 0 (`--addr`) or 1 (`--addr-b`, cluster).
    pub node: usize,
    /// Speaks a seed dialect's room socket (receives only; subscribed on connect).
    pub dialect: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Run,
    Cut,
    Stop,
    Finish,
}

pub struct Shared<A> {
    pub adapter: A,
    pub dialer: Dialer,
    pub specs: Vec<ConnSpec>,
    pub tokens: Vec<Option<String>>,
    pub room_ids: Vec<String>,
    /// Connections open in each room: what one send should be delivered to.
    pub room_conns: Vec<u64>,
    pub phase: watch::Receiver<Phase>,
    /// Only messages sent in [measure_from, measure_to) count for latency and throughput.
    pub measure_from: u64,
    pub measure_to: u64,
    pub jitter: Duration,
    pub expected: AtomicU64,
    pub delivered: AtomicU64,
    pub resumed: AtomicU64,
    /// Whether connections receive their room's messages (false: `--no-join` on Confab).
    pub subscribed: bool,
}

struct Sender {
    mode: SendMode,
    next_n: u64,
    pending: VecDeque<(u64, u64)>,
    interval: Duration,
    next_due: Instant,
    sent: u64,
    acked: u64,
    refused: u64,
}

struct Slot {
    idx: usize,
    sink: Option<Sink>,
    receipts: Receipts,
    sender: Option<Sender>,
}

/// What one task saw.
pub struct GroupOut {
    pub delivery: Histogram<u64>,
    /// Deliveries to connections on node B (cluster): sent through node A and Redis.
    pub cross_node: Histogram<u64>,
    pub ack: Histogram<u64>,
    pub receipts: Vec<(usize, Receipts)>,
    /// (connection index, sent, acked, refused) of every sender.
    pub sent: Vec<(usize, u64, u64, u64)>,
    pub deliveries: u64,
    pub deliveries_in_window: u64,
    pub acks_in_window: u64,
    pub sent_in_window: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub unexpected_closes: u64,
    pub reconnect_failures: u64,
    pub resync_required: u64,
}

enum Input {
    Frame(usize, Message),
    Closed(usize, Option<String>),
}

fn tag(i: usize, ws: futures_util::stream::SplitStream<Ws>) -> BoxStream<'static, Input> {
    ws.map(move |r| match r {
        Ok(m) => Input::Frame(i, m),
        Err(e) => Input::Closed(i, Some(e.to_string())),
    })
    .chain(stream::once(async move { Input::Closed(i, None) }))
    .boxed()
}

/// How a connection is brought into the room after the WebSocket opens.
pub enum Entry {
    Join,
    /// Open only: the connection sends to its room without subscribing (Confab).
    Connect,
    Resume(u64),
}

/// Opens connection `idx`: dial, wait for `connection_established`, then join (waiting for the
/// ack) or send `resume`.
pub async fn open<A: Adapter>(shared: &Shared<A>, idx: usize, entry: Entry) -> Result<Ws, Error> {
    let spec = &shared.specs[idx];
    let room = spec.room.map(|r| shared.room_ids[r].as_str());
    let token = shared.tokens.get(spec.user).and_then(|t| t.as_deref());
    if let Some(path) = room
        .filter(|_| spec.dialect)
        .and_then(|r| shared.adapter.dialect_path(r))
    {
        return open_dialect(shared, spec.node, &path, token).await;
    }
    let path = shared.adapter.ws_path(room);
    let mut ws = shared.dialer.connect(spec.node, &path, token).await?;
    wait_for(&mut ws, |ev| matches!(ev, Event::Established)).await?;
    if let Some(room) = room {
        match entry {
            Entry::Join => {
                if let Some(frame) = shared.adapter.join_frame(room, "j") {
                    ws.send(Message::text(frame)).await?;
                    wait_for(&mut ws, |ev| {
                        matches!(ev, Event::Ack { reference } if reference.as_deref() == Some("j"))
                    })
                    .await?;
                }
            }
            Entry::Connect => {}
            Entry::Resume(after) => {
                if let Some(frame) = shared.adapter.resume_frame(room, after) {
                    ws.send(Message::text(frame)).await?;
                }
            }
        }
    }
    Ok(ws)
}

/// A dialect's room socket subscribes on connect and says nothing: a frame it does not know is
/// answered with an error only after the subscription (the session takes frames in order), so
/// that answer says the connection is in the room.
async fn open_dialect<A: Adapter>(
    shared: &Shared<A>,
    node: usize,
    path: &str,
    token: Option<&str>,
) -> Result<Ws, Error> {
    let mut ws = shared.dialer.connect(node, path, token).await?;
    ws.send(Message::text(r#"{"type":"bench_probe"}"#)).await?;
    timeout(Duration::from_secs(15), async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg? {
                if matches!(parse_frame(text.as_str()), Event::Error { .. }) {
                    return Ok(());
                }
            }
        }
        Err(Error::from("dialect socket closed during setup"))
    })
    .await??;
    Ok(ws)
}

async fn wait_for(ws: &mut Ws, want: impl Fn(&Event) -> bool) -> Result<(), Error> {
    let deadline = Duration::from_secs(15);
    timeout(deadline, async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg? {
                match parse_frame(text.as_str()) {
                    Event::Error { text, .. } => {
                        return Err(Error::from(format!("server said: {text}")))
                    }
                    ev if want(&ev) => return Ok(()),
                    _ => {}
                }
            }
        }
        Err(Error::from("connection closed during setup"))
    })
    .await?
}

struct Group<A: Adapter> {
    shared: Arc<Shared<A>>,
    slots: Vec<Slot>,
    out: GroupOut,
    sending: bool,
}

impl<A: Adapter> Group<A> {
    fn error(&mut self, what: String) {
        self.out.errors += 1;
        if self.out.error_samples.len() < 5 {
            self.out.error_samples.push(what);
        }
    }

    async fn send_next(&mut self, i: usize) {
        let shared = self.shared.clone();
        let slot = &mut self.slots[i];
        let (Some(sender), Some(sink), Some(room)) = (
            slot.sender.as_mut(),
            slot.sink.as_mut(),
            shared.specs[slot.idx].room,
        ) else {
            return;
        };
        let n = sender.next_n;
        let t = unix_nanos();
        let sid = slot.idx as u32;
        let frame = shared.adapter.send_frame(
            &shared.room_ids[room],
            &payload(t, sid, n),
            &format!("{sid}-{n}"),
            &format!("m{n}"),
        );
        if let Err(e) = sink.send(Message::text(frame)).await {
            self.error(format!("send failed: {e}"));
            return;
        }
        sender.next_n += 1;
        sender.sent += 1;
        sender.pending.push_back((n, t));
        if t >= shared.measure_from && t < shared.measure_to {
            self.out.sent_in_window += 1;
        }
        shared
            .expected
            .fetch_add(shared.room_conns[room], Ordering::Relaxed);
    }

    async fn fill_window(&mut self, i: usize) {
        while self.sending {
            match &self.slots[i].sender {
                Some(s) => match s.mode {
                    SendMode::Window(w) if s.pending.len() < w => {}
                    _ => return,
                },
                None => return,
            }
            let before = self.slots[i].sender.as_ref().map_or(0, |s| s.sent);
            self.send_next(i).await;
            if self.slots[i].sender.as_ref().map_or(0, |s| s.sent) == before {
                return;
            }
        }
    }

    /// The send numbered `n` of slot `i` is acknowledged (by an ack, or its own echo).
    async fn acked(&mut self, i: usize, n: u64) {
        let now = unix_nanos();
        let (from, to) = (self.shared.measure_from, self.shared.measure_to);
        let Some(sender) = self.slots[i].sender.as_mut() else {
            return;
        };
        while let Some(&(pn, t)) = sender.pending.front() {
            if pn > n {
                break;
            }
            sender.pending.pop_front();
            if pn == n {
                sender.acked += 1;
                if t >= from && t < to {
                    self.out.acks_in_window += 1;
                    let _ = self.out.ack.record(now.saturating_sub(t) / 1000);
                }
            }
        }
        self.fill_window(i).await;
    }

    /// The server answered send `n` of slot `i` with an error: it was never committed, so no
    /// one is owed it.
    async fn refused(&mut self, i: usize, n: u64) {
        let shared = self.shared.clone();
        let Some(sender) = self.slots[i].sender.as_mut() else {
            return;
        };
        if let Some(pos) = sender.pending.iter().position(|&(pn, _)| pn == n) {
            sender.pending.remove(pos);
            sender.refused += 1;
            if let Some(room) = shared.specs[self.slots[i].idx].room {
                shared
                    .expected
                    .fetch_sub(shared.room_conns[room], Ordering::Relaxed);
            }
        }
        self.fill_window(i).await;
    }

    async fn on_frame(&mut self, i: usize, text: &str) {
        match parse_frame(text) {
            Event::Delivery { seq, content } => {
                let now = unix_nanos();
                let Some((t, sid, n)) = parse_payload(&content) else {
                    self.error(format!("delivery without a bench payload: {content:.80}"));
                    return;
                };
                self.out.deliveries += 1;
                if t >= self.shared.measure_from && t < self.shared.measure_to {
                    self.out.deliveries_in_window += 1;
                    let us = now.saturating_sub(t) / 1000;
                    let _ = self.out.delivery.record(us);
                    if self.shared.specs[self.slots[i].idx].node > 0 {
                        let _ = self.out.cross_node.record(us);
                    }
                }
                let first = matches!(self.slots[i].receipts.record(sid, n, seq), Receipt::First);
                if first {
                    self.shared.delivered.fetch_add(1, Ordering::Relaxed);
                    if !self.shared.adapter.explicit_acks() && sid as usize == self.slots[i].idx {
                        self.acked(i, n).await;
                    }
                }
            }
            Event::Ack { reference } => {
                if let Some(n) = reference
                    .as_deref()
                    .and_then(|r| r.strip_prefix('m'))
                    .and_then(|n| n.parse().ok())
                {
                    self.acked(i, n).await;
                }
            }
            Event::Resumed => {
                self.shared.resumed.fetch_add(1, Ordering::Relaxed);
            }
            Event::ResyncRequired => self.out.resync_required += 1,
            Event::Error { reference, text } => {
                let n = reference
                    .as_deref()
                    .and_then(|r| r.strip_prefix('m'))
                    .and_then(|n| n.parse().ok());
                self.error(text);
                if let Some(n) = n {
                    self.refused(i, n).await;
                }
            }
            Event::Established | Event::Other => {}
        }
    }

    async fn send_due(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            while let Some(s) = self.slots[i].sender.as_mut() {
                if !matches!(s.mode, SendMode::Rate(_)) || s.next_due > now {
                    break;
                }
                // A load generator too far behind skips sends rather than bursting them.
                if now.duration_since(s.next_due) > Duration::from_secs(1) {
                    s.next_due = now;
                }
                s.next_due += s.interval;
                self.send_next(i).await;
            }
        }
    }

    /// The storm: drop every connection at once and dial each again after a random delay,
    /// resuming after the last seq it saw.
    fn cut(
        &mut self,
        streams: &mut SelectAll<BoxStream<'static, Input>>,
        reconnects: &mut FuturesUnordered<BoxReconnect>,
    ) {
        *streams = SelectAll::new();
        let mut rng = rand::thread_rng();
        let jitter_ms = self.shared.jitter.as_millis() as u64;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            slot.sink = None;
            let delay = Duration::from_millis(rng.gen_range(0..=jitter_ms));
            let after = slot.receipts.last_seq;
            let shared = self.shared.clone();
            let idx = slot.idx;
            reconnects.push(Box::pin(async move {
                sleep(delay).await;
                let mut last = Err(Error::from("no attempt"));
                for attempt in 0..8u64 {
                    last = open(&shared, idx, Entry::Resume(after)).await;
                    if last.is_ok() {
                        break;
                    }
                    sleep(Duration::from_millis(250 * (attempt + 1))).await;
                }
                (i, last)
            }));
        }
    }
}

type BoxReconnect =
    std::pin::Pin<Box<dyn std::future::Future<Output = (usize, Result<Ws, Error>)> + Send>>;

pub async fn run_group<A: Adapter>(
    shared: Arc<Shared<A>>,
    members: Vec<(usize, Ws)>,
) -> Result<GroupOut, Error> {
    let mut streams = SelectAll::new();
    let mut slots = Vec::with_capacity(members.len());
    let start = Instant::now();
    let offsets: Vec<f64> = {
        let mut rng = rand::thread_rng();
        (0..members.len()).map(|_| rng.gen::<f64>()).collect()
    };
    for (i, (idx, ws)) in members.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        streams.push(tag(i, stream));
        // Spread the first sends of many senders over one interval.
        slots.push(Slot {
            idx,
            sink: Some(sink),
            receipts: Receipts::default(),
            sender: Sender::new(shared.specs[idx].send, start, offsets[i]),
        });
    }
    let has_rate = slots
        .iter()
        .any(|s| matches!(s.sender.as_ref().map(|s| s.mode), Some(SendMode::Rate(_))));
    let cuttable = slots.iter().all(|s| shared.specs[s.idx].cuttable) && !slots.is_empty();
    let mut group = Group {
        shared: shared.clone(),
        slots,
        out: GroupOut::new()?,
        sending: true,
    };
    let mut phase_rx = shared.phase.clone();
    let mut ticker = interval(Duration::from_millis(2));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut reconnects: FuturesUnordered<BoxReconnect> = FuturesUnordered::new();
    let mut cut_done = false;
    for i in 0..group.slots.len() {
        group.fill_window(i).await;
    }
    loop {
        tokio::select! {
            changed = phase_rx.changed() => {
                if changed.is_err() {
                    break;
                }
                let phase = *phase_rx.borrow_and_update();
                match phase {
                    Phase::Run => {}
                    Phase::Cut if cuttable && !cut_done => {
                        cut_done = true;
                        group.cut(&mut streams, &mut reconnects);
                    }
                    Phase::Cut => {}
                    Phase::Stop => group.sending = false,
                    Phase::Finish => break,
                }
            }
            Some(input) = streams.next() => match input {
                Input::Frame(i, Message::Text(text)) => group.on_frame(i, text.as_str()).await,
                Input::Frame(_, _) => {}
                Input::Closed(i, reason) => group.on_closed(i, reason),
            },
            Some((i, result)) = reconnects.next() => group.on_reconnected(i, result, &mut streams),
            _ = ticker.tick(), if has_rate && group.sending => group.send_due().await,
        }
    }
    Ok(group.finish())
}

impl Sender {
    /// The sender state of a connection that sends (`None` for one that only receives); its
    /// first send is due `offset` (0..1) of an interval after `start`.
    fn new(mode: SendMode, start: Instant, offset: f64) -> Option<Sender> {
        let interval = match mode {
            SendMode::None => return None,
            SendMode::Rate(r) if r > 0.0 => Duration::from_secs_f64(1.0 / r),
            _ => Duration::from_secs(3600),
        };
        Some(Sender {
            mode,
            next_n: 0,
            pending: VecDeque::new(),
            interval,
            next_due: start + interval.mul_f64(offset),
            sent: 0,
            acked: 0,
            refused: 0,
        })
    }
}

impl GroupOut {
    fn new() -> Result<GroupOut, Error> {
        Ok(GroupOut {
            delivery: new_histogram()?,
            cross_node: new_histogram()?,
            ack: new_histogram()?,
            receipts: Vec::new(),
            sent: Vec::new(),
            deliveries: 0,
            deliveries_in_window: 0,
            acks_in_window: 0,
            sent_in_window: 0,
            errors: 0,
            error_samples: Vec::new(),
            unexpected_closes: 0,
            reconnect_failures: 0,
            resync_required: 0,
        })
    }
}

impl<A: Adapter> Group<A> {
    /// A connection the server closed (not one the storm cut: its sink is gone already).
    fn on_closed(&mut self, i: usize, reason: Option<String>) {
        if self.slots[i].sink.take().is_some() {
            self.out.unexpected_closes += 1;
            let reason = reason.unwrap_or_else(|| "by the server".into());
            self.error(format!("connection {} closed: {reason}", self.slots[i].idx));
        }
    }

    /// A cut connection is back (or could not come back).
    fn on_reconnected(
        &mut self,
        i: usize,
        result: Result<Ws, Error>,
        streams: &mut SelectAll<BoxStream<'static, Input>>,
    ) {
        match result {
            Ok(ws) => {
                let (sink, stream) = ws.split();
                self.slots[i].sink = Some(sink);
                streams.push(tag(i, stream));
                if !self.shared.adapter.supports_resume() {
                    // Nothing to replay: being back is all a peer offers.
                    self.shared.resumed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                self.out.reconnect_failures += 1;
                self.error(format!("reconnect failed: {e}"));
            }
        }
    }

    /// The group's figures, with each sender's counts and each connection's receipts.
    fn finish(self) -> GroupOut {
        let mut out = self.out;
        for slot in self.slots {
            if let Some(s) = &slot.sender {
                out.sent.push((slot.idx, s.sent, s.acked, s.refused));
            }
            out.receipts.push((slot.idx, slot.receipts));
        }
        out
    }
}
