//! Keyed rate limits (per user, per client address) on governor's GCRA.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// A sustained rate (`count` per `per`) and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSpec {
    /// Allowance that comes back every `per`; 0 disables the limit.
    pub count: u32,
    pub per: Duration,
    pub burst: u32,
}

impl RateSpec {
    /// `n` per second sustained; `n == 0` disables the limit.
    pub fn per_second(n: u32, burst: u32) -> Self {
        Self {
            count: n,
            per: Duration::from_secs(1),
            burst,
        }
    }

    /// `n` per minute sustained; `n == 0` disables the limit.
    pub fn per_minute(n: u32, burst: u32) -> Self {
        Self {
            count: n,
            per: Duration::from_secs(60),
            burst,
        }
    }

    /// Time for one unit of allowance to come back; `None` when the limit is off.
    pub fn replenish_every(&self) -> Option<Duration> {
        (self.count > 0).then(|| self.per / self.count)
    }
}

pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    inner: Option<RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(spec: RateSpec) -> Self {
        let inner = spec
            .replenish_every()
            .and_then(Quota::with_period)
            .map(|quota| {
                let burst = NonZeroU32::new(spec.burst).unwrap_or(NonZeroU32::MIN);
                RateLimiter::keyed(quota.allow_burst(burst))
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
        let limiter = KeyedLimiter::new(RateSpec::per_second(1, 3));
        for _ in 0..3 {
            assert!(limiter.check(&"a").is_ok());
        }
        let wait = limiter.check(&"a").expect_err("over the burst");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check(&"b").is_ok(), "keys are independent");
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let limiter = KeyedLimiter::new(RateSpec::per_second(0, 0));
        assert!((0..10_000).all(|_| limiter.check(&1).is_ok()));
    }
}
