//! A job that runs at most once at a time: asked for again while it runs, it runs once more
//! afterwards, however often it was asked meanwhile. A burst of bus resyncs then costs two
//! passes over the gateway's users, not one overlapping pass per resync.

use std::sync::atomic::{AtomicU8, Ordering};

const IDLE: u8 = 0;
const RUNNING: u8 = 1;
/// Running, and asked for again since it started.
const AGAIN: u8 = 2;

#[derive(Default)]
pub(crate) struct Coalesced(AtomicU8);

impl Coalesced {
    /// Asks for a run; `true` when the caller must start it (none was running).
    pub(crate) fn request(&self) -> bool {
        loop {
            let (from, to) = match self.0.load(Ordering::Acquire) {
                IDLE => (IDLE, RUNNING),
                RUNNING => (RUNNING, AGAIN),
                _ => return false,
            };
            if self
                .0
                .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return from == IDLE;
            }
        }
    }

    /// Back to idle whatever the state: for a runner that ends without `finished` saying so
    /// (it panicked, or the gateway is stopping), so that the next request starts a run.
    pub(crate) fn reset(&self) {
        self.0.store(IDLE, Ordering::Release);
    }

    /// The runner's call after each run: `true` when it must run once more.
    pub(crate) fn finished(&self) -> bool {
        loop {
            let (from, to) = match self.0.load(Ordering::Acquire) {
                AGAIN => (AGAIN, RUNNING),
                _ => (RUNNING, IDLE),
            };
            if self
                .0
                .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return from == AGAIN;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_requests_while_running_makes_one_more_run() {
        let job = Coalesced::default();
        assert!(job.request(), "the first request starts it");
        for _ in 0..100 {
            assert!(!job.request(), "a run is under way");
        }
        assert!(job.finished(), "asked for meanwhile: once more");
        assert!(!job.finished(), "not asked for during the second run: done");
        assert!(job.request(), "idle again: the next request starts it");
        assert!(!job.finished());
        assert!(job.request());
        job.reset();
        assert!(job.request(), "a runner that died gave the job back");
    }
}
