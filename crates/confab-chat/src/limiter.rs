//! Keyed rate limits (per user, per client address) on governor's GCRA.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// A sustained rate and the burst allowed above it. `per_second == 0` disables the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSpec {
    pub per_second: u32,
    pub burst: u32,
}

pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    inner: Option<RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(spec: RateSpec) -> Self {
        let inner = NonZeroU32::new(spec.per_second).map(|rate| {
            let burst = NonZeroU32::new(spec.burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            inner,
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the key is over its rate.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        match &self.inner {
            None => Ok(()),
            Some(limiter) => limiter
                .check_key(key)
                .map_err(|not_until| not_until.wait_time_from(self.clock.now())),
        }
    }

    pub fn sweep(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses_with_a_wait() {
        let limiter = KeyedLimiter::new(RateSpec {
            per_second: 1,
            burst: 3,
        });
        for _ in 0..3 {
            assert!(limiter.check(&"a").is_ok());
        }
        let wait = limiter.check(&"a").expect_err("over the burst");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check(&"b").is_ok(), "keys are independent");
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let limiter = KeyedLimiter::new(RateSpec {
            per_second: 0,
            burst: 0,
        });
        assert!((0..10_000).all(|_| limiter.check(&1).is_ok()));
    }
}
