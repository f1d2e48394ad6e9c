//! Login throttling: failed attempts counted per account and per client address in a window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

/// Counts failures per key within a fixed window; past `max` failures the key must wait for the
/// window to end.
pub struct FailureWindow {
    max: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureWindow {
    pub fn new(max: u32, window: Duration) -> Self {
        FailureWindow {
            max,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `rate_limited` with the wait left when `key` has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((start, count)) = entries.get(key) {
            let end = *start + self.window;
            if *count >= self.max && end > now {
                return Err(AppError::RateLimited {
                    retry_after_ms: (end - now).as_millis().max(1) as u64,
                });
            }
        }
        Ok(())
    }

    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (start, _)| *start + window > now);
        }
        let entry = entries.entry(key.to_owned()).or_insert((now, 0));
        if entry.0 + self.window <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    pub fn clear(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The two windows a login passes: one per account, one per client address.
pub struct LoginThrottle {
    pub per_account: FailureWindow,
    pub per_ip: FailureWindow,
}

impl LoginThrottle {
    pub fn new(max_account: u32, max_ip: u32, window: Duration) -> Self {
        LoginThrottle {
            per_account: FailureWindow::new(max_account, window),
            per_ip: FailureWindow::new(max_ip, window),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_max_failures_and_others_are_not() {
        let w = FailureWindow::new(2, Duration::from_secs(60));
        w.fail("a");
        assert!(w.check("a").is_ok());
        w.fail("a");
        assert!(
            matches!(w.check("a"), Err(AppError::RateLimited { retry_after_ms }) if retry_after_ms > 0)
        );
        assert!(w.check("b").is_ok());
        w.clear("a");
        assert!(w.check("a").is_ok());
    }
}
