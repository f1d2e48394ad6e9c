//! What is measured: latency histograms, per-receiver delivery bookkeeping (each message once, in
//! order), and the server's CPU time and memory read from /proc.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A latency histogram in microseconds, 1 µs .. 10 min, 3 significant figures.
pub fn new_histogram() -> Result<Histogram<u64>, crate::Error> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

#[derive(Serialize, serde::Deserialize, Default, Clone)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencySummary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencySummary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// The payload every sent message carries: send time, sender, and the sender's counter.
pub fn payload(sent_nanos: u64, sender: u32, n: u64) -> String {
    format!("t={sent_nanos};s={sender};c={n}")
}

pub fn parse_payload(content: &str) -> Option<(u64, u32, u64)> {
    let mut t = None;
    let mut s = None;
    let mut c = None;
    for part in content.split(';') {
        let (k, v) = part.split_once('=')?;
        match k {
            "t" => t = v.parse().ok(),
            "s" => s = v.parse().ok(),
            "c" => c = v.parse().ok(),
            _ => {}
        }
    }
    Some((t?, s?, c?))
}

/// The messages of one sender seen by one receiver, as a bitset over the sender's counter.
#[derive(Default)]
struct Seen {
    bits: Vec<u64>,
    unique: u64,
    highest: Option<u64>,
}

/// What one receiving connection got, checked as it arrives.
#[derive(Default)]
pub struct Receipts {
    seen: HashMap<u32, Seen>,
    pub doubled: u64,
    pub out_of_order: u64,
    pub seq_regressions: u64,
    pub last_seq: u64,
}

pub enum Receipt {
    First,
    Duplicate,
}

impl Receipts {
    pub fn record(&mut self, sender: u32, n: u64, seq: Option<u64>) -> Receipt {
        if let Some(seq) = seq {
            if seq <= self.last_seq {
                // A replay after resume may repeat nothing: any seq at or below the last one seen
                // is a duplicate or a reordering, both errors.
                self.seq_regressions += 1;
            } else {
                self.last_seq = seq;
            }
        }
        let seen = self.seen.entry(sender).or_default();
        let word = (n / 64) as usize;
        let bit = 1u64 << (n % 64);
        if seen.bits.len() <= word {
            seen.bits.resize(word + 1, 0);
        }
        if seen.bits[word] & bit != 0 {
            self.doubled += 1;
            return Receipt::Duplicate;
        }
        seen.bits[word] |= bit;
        seen.unique += 1;
        match seen.highest {
            Some(h) if n < h => self.out_of_order += 1,
            _ => seen.highest = Some(n),
        }
        Receipt::First
    }

    /// Messages of `sender` received at least once.
    pub fn unique_from(&self, sender: u32) -> u64 {
        self.seen.get(&sender).map_or(0, |s| s.unique)
    }
}

/// CPU seconds and memory of the server's processes (several for a peer with helpers).
#[derive(Serialize, Default, Clone, Copy)]
pub struct ProcSample {
    pub cpu_s: f64,
    pub db_cpu_s: Option<f64>,
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// The fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is
/// the state, 1 the parent, 11 utime, 12 stime, 13 cutime, 14 cstime.
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(
        rest.split_whitespace()
            .map(|v| v.parse::<u64>().unwrap_or(0))
            .collect(),
    )
}

// USER_HZ is 100 on every Linux this runs on.
const TICKS_PER_SEC: f64 = 100.0;

fn ticks(f: &[u64], i: usize) -> u64 {
    f.get(i).copied().unwrap_or(0)
}

/// CPU seconds of a process tree one level deep (PostgreSQL: the postmaster and its backends),
/// counting backends that already exited through the parent's reaped-children times.
pub fn tree_cpu_s(root: u32) -> f64 {
    let Some(f) = stat_fields(root) else {
        return 0.0;
    };
    let mut total = (11..=14).map(|i| ticks(&f, i)).sum::<u64>();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(c) = stat_fields(pid).filter(|c| ticks(c, 1) == root as u64) {
                total += ticks(&c, 11) + ticks(&c, 12);
            }
        }
    }
    total as f64 / TICKS_PER_SEC
}

pub fn sample_procs(pids: &[u32]) -> ProcSample {
    let mut out = ProcSample::default();
    for &pid in pids {
        if let Some(f) = stat_fields(pid) {
            out.cpu_s += (ticks(&f, 11) + ticks(&f, 12)) as f64 / TICKS_PER_SEC;
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines() {
                let kib = || {
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                if line.starts_with("VmRSS:") {
                    out.rss_kib += kib();
                } else if line.starts_with("VmHWM:") {
                    out.hwm_kib += kib();
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        assert_eq!(parse_payload(&payload(12, 3, 45)), Some((12, 3, 45)));
        assert_eq!(parse_payload("hello"), None);
    }

    #[test]
    fn receipts_count_doubles_reorders_and_seq_regressions() {
        let mut r = Receipts::default();
        assert!(matches!(r.record(1, 0, Some(1)), Receipt::First));
        assert!(matches!(r.record(1, 2, Some(3)), Receipt::First));
        assert!(matches!(r.record(1, 1, Some(2)), Receipt::First));
        assert!(matches!(r.record(1, 2, Some(3)), Receipt::Duplicate));
        assert_eq!(r.unique_from(1), 3);
        assert_eq!(r.doubled, 1);
        assert_eq!(r.out_of_order, 1);
        assert_eq!(r.seq_regressions, 2);
    }

    #[test]
    fn own_tree_has_cpu_time() {
        let _busy: u64 = (0..2_000_000u64).map(|i| i.wrapping_mul(i)).sum();
        assert!(tree_cpu_s(std::process::id()) >= 0.0);
        assert_eq!(tree_cpu_s(u32::MAX), 0.0);
    }

    #[test]
    fn own_process_can_be_sampled() {
        let s = sample_procs(&[std::process::id()]);
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib);
    }
}
