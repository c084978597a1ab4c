//! Per-credential request budgets, as Hetzner meters them: `limit` requests per hour,
//! refilling by one every `3600 / limit` seconds, with bursts up to the full budget.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the caller may still do; every answer carries these as headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the budget is full again.
    pub reset_after: u64,
    /// Whether this request was allowed.
    pub allowed: bool,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `limit` requests per hour; 0 disables limiting.
    pub fn new(limit: u32) -> Self {
        RateLimiter { limit, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn enabled(&self) -> bool {
        self.limit > 0
    }

    /// Takes one request from `key`'s budget, if it has one.
    pub fn take(&self, key: i64) -> Budget {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: i64, now: Instant) -> Budget {
        let limit = f64::from(self.limit);
        let per_second = limit / 3600.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = buckets.entry(key).or_insert((limit, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_second).min(limit);
        *at = now;
        let allowed = *tokens >= 1.0;
        if allowed {
            *tokens -= 1.0;
        }
        let missing = limit - *tokens;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // both are in 0..=limit
        let remaining = tokens.floor() as u32;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let reset_after = Duration::from_secs_f64(missing / per_second).as_secs_f64().ceil() as u64;
        Budget { limit: self.limit, remaining, reset_after, allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_drains_and_refills_one_per_interval() {
        let rl = RateLimiter::new(3600);
        let t0 = Instant::now();
        let first = rl.take_at(1, t0);
        assert_eq!((first.allowed, first.remaining, first.reset_after), (true, 3599, 1));
        for _ in 0..3599 {
            assert!(rl.take_at(1, t0).allowed);
        }
        let denied = rl.take_at(1, t0);
        assert_eq!((denied.allowed, denied.remaining, denied.reset_after), (false, 0, 3600));
        // Other credentials are metered apart.
        assert!(rl.take_at(2, t0).allowed);
        // One second later, one request is allowed again.
        assert!(rl.take_at(1, t0 + Duration::from_secs(1)).allowed);
        assert!(!rl.take_at(1, t0 + Duration::from_secs(1)).allowed);
    }

    #[test]
    fn small_limits_refill_slowly() {
        let rl = RateLimiter::new(5);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(rl.take_at(1, t0).allowed);
        }
        assert!(!rl.take_at(1, t0).allowed);
        assert!(!rl.take_at(1, t0 + Duration::from_secs(700)).allowed);
        assert!(rl.take_at(1, t0 + Duration::from_secs(721)).allowed);
    }
}
