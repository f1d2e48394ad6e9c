//! Rate limits per user, shared by every way in: frames per second on the WebSocket, and messages
//! per minute over WebSocket and REST together.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::config::RateLimitSettings;
use crate::error::{AppError, AppResult};

pub struct RateLimits {
    /// Frames per user across all their sockets.
    frames: DefaultKeyedRateLimiter<Uuid>,
    /// Messages per user, WebSocket and REST together.
    messages: DefaultKeyedRateLimiter<Uuid>,
}

fn nonzero(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    pub fn new(r: &RateLimitSettings) -> Self {
        let frames = Quota::per_second(nonzero(r.ws_frames_per_sec))
            .allow_burst(nonzero(r.ws_burst.max(r.ws_frames_per_sec)));
        let messages = Quota::per_minute(nonzero(r.messages_per_minute));
        RateLimits {
            frames: RateLimiter::keyed(frames),
            messages: RateLimiter::keyed(messages),
        }
    }

    fn check(limiter: &DefaultKeyedRateLimiter<Uuid>, user_id: Uuid) -> AppResult<()> {
        limiter
            .check_key(&user_id)
            .map_err(|not_until| AppError::RateLimited {
                retry_after_ms: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_millis()
                    .max(1) as u64,
            })
    }

    pub fn check_frame(&self, user_id: Uuid) -> AppResult<()> {
        Self::check(&self.frames, user_id)
    }

    pub fn check_message(&self, user_id: Uuid) -> AppResult<()> {
        Self::check(&self.messages, user_id)
    }
}
