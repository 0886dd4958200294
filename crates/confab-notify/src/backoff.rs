//! How long the worker waits before trying a failed delivery again: exponential backoff with
//! full jitter, so deliveries that failed together (a provider's outage) do not all come back
//! at the same instant.

use std::time::Duration;

/// The wait before retry number `attempt` (0 for the first retry): a uniformly random
/// duration between zero and `min(max, base · 2^attempt)` ("full jitter", as in AWS's
/// "Exponential Backoff And Jitter").
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    ceiling.mul_f64(unit_random())
}

/// A uniform value in [0, 1]. Should the OS's generator fail, waiting the whole ceiling is
/// still a correct (if unjittered) backoff.
fn unit_random() -> f64 {
    match getrandom::u64() {
        // The top 53 bits, as many as an f64 holds exactly.
        Ok(bits) => (bits >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(300);

    #[test]
    fn stays_under_the_doubling_ceiling() {
        for attempt in 0..12 {
            let ceiling = (BASE * 2u32.pow(attempt)).min(MAX);
            for _ in 0..200 {
                assert!(backoff(attempt, BASE, MAX) <= ceiling, "attempt {attempt}");
            }
        }
    }

    #[test]
    fn never_exceeds_max_however_many_attempts() {
        for attempt in [20, 31, 32, 64, u32::MAX] {
            assert!(backoff(attempt, BASE, MAX) <= MAX);
        }
    }

    #[test]
    fn is_jittered() {
        let waits: std::collections::HashSet<Duration> =
            (0..50).map(|_| backoff(8, BASE, MAX)).collect();
        assert!(waits.len() > 40, "{} distinct waits of 50", waits.len());
    }
}
