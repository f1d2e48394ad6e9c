//! The import's progress bar: redrawn in place on stderr, only when stderr is a terminal (a
//! redirected run prints its summary and nothing else).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};

const WIDTH: u64 = 30;

pub struct Bar {
    on: bool,
    /// The tenths of a percent last drawn (redraws only when it changes).
    drawn: AtomicU64,
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            on: std::io::stderr().is_terminal(),
            drawn: AtomicU64::new(u64::MAX),
        }
    }

    /// Redraws the bar when the tenth of a percent changed.
    pub fn show(&self, phase: &str, done: u64, total: u64, unit: &str) {
        if !self.on {
            return;
        }
        let total = total.max(1);
        let permille = (done.min(total) * 1000) / total;
        if self.drawn.swap(permille, Ordering::Relaxed) == permille {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{}", line(phase, done, total, unit));
        let _ = err.flush();
    }

    /// Draws the phase complete and ends its line.
    pub fn done(&self, phase: &str, total: u64, unit: &str) {
        self.show(phase, total, total, unit);
        if self.on {
            eprintln!();
        }
        self.drawn.store(u64::MAX, Ordering::Relaxed);
    }
}

/// One state of the bar: `phase    [#####-----]  45.0%  done/total unit`.
fn line(phase: &str, done: u64, total: u64, unit: &str) -> String {
    let total = total.max(1);
    let permille = (done.min(total) * 1000) / total;
    let filled = permille * WIDTH / 1000;
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '-' })
        .collect();
    let pct = permille as f64 / 10.0;
    format!("{phase:<8} [{bar}] {pct:5.1}%  {done}/{total} {unit}  ")
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn the_bar_fills_with_the_share_done() {
        assert_eq!(
            line("moving", 500, 1000, "messages"),
            format!(
                "moving   [{}{}]  50.0%  500/1000 messages  ",
                "#".repeat(15),
                "-".repeat(15)
            )
        );
        assert!(line("reading", 0, 384, "MiB").contains("[------------------------------]   0.0%"));
        assert!(line("reading", 384, 384, "MiB").contains(&format!("[{}] 100.0%", "#".repeat(30))));
        // An empty file is done at once, not a division by zero.
        assert!(line("reading", 0, 0, "MiB").contains("0/1 MiB"));
    }
}
