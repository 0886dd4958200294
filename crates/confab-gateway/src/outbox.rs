//! A socket's outbound queue and its kick: what hubs push frames into and the socket task
//! drains, and the one signal that tells the task to close (too slow, must reconnect, the
//! gateway is shutting down).
//!
//! Fan-out pushes one frame into every member socket's outbox, and each push is the start of a
//! wake-up of that socket's task, so both ends are kept small: one uncontended lock and a
//! wake only when the queue was empty; the task polls one thing for "frames or kick", where a
//! channel and a cancellation token cost a semaphore, two locks and a list node per wake-up and
//! about 1.5 KiB per idle socket before any frame was sent.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;

use crate::lock;

/// The kick value of an outbox whose socket task has ended: pushes are dropped.
const CLOSED: u8 = u8::MAX;

/// A drained queue holding room for more frames than this gives it back: a burst (a busy
/// channel, a catch-up) must not leave every socket that saw one holding its high-water mark.
const KEEP_CAPACITY: usize = 64;

/// Why a socket must close. When several apply, the larger wins: a client asked to reconnect
/// must hear so whatever else happened, and a shutdown is not the client's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Kick {
    /// The outbox overflowed: the client does not read fast enough.
    SlowConsumer = 1,
    /// The gateway is shutting down.
    Shutdown = 2,
    /// The gateway may have missed a change to the user's channel list.
    Reconnect = 3,
    /// The session that opened the socket was signed out or revoked: close for good.
    Revoked = 4,
}

impl Kick {
    fn from_u8(v: u8) -> Option<Kick> {
        match v {
            1 => Some(Kick::SlowConsumer),
            2 => Some(Kick::Shutdown),
            3 => Some(Kick::Reconnect),
            4 => Some(Kick::Revoked),
            _ => None,
        }
    }
}

/// What the socket task should do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Frames were moved into the caller's batch: write them.
    Frames,
    /// Close the socket.
    Kick(Kick),
}

pub(crate) struct Outbox {
    frames: Mutex<VecDeque<Utf8Bytes>>,
    capacity: usize,
    /// 0, or the largest `Kick` so far.
    kick: AtomicU8,
    waker: AtomicWaker,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            frames: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            kick: AtomicU8::new(0),
            waker: AtomicWaker::new(),
        }
    }

    /// Queues a frame. A full outbox kicks the socket as a slow consumer rather than wait or
    /// grow, and returns false (only for the push whose kick was the socket's first); frames
    /// pushed to a kicked or closed socket are dropped, as it is going away.
    pub(crate) fn push(&self, frame: &Utf8Bytes) -> bool {
        if self.kick.load(Ordering::Acquire) != 0 {
            return true;
        }
        let mut frames = lock(&self.frames);
        if frames.len() >= self.capacity {
            drop(frames);
            // false (report it) only if this kick was the first.
            return self.raise(Kick::SlowConsumer);
        }
        frames.push_back(frame.clone());
        let was_empty = frames.len() == 1;
        drop(frames);
        // The task only waits once it has found the queue empty, so a push behind others
        // will be found without a wake-up of its own.
        if was_empty {
            self.waker.wake();
        }
        true
    }

    pub(crate) fn kick(&self, why: Kick) {
        self.raise(why);
    }

    /// Kicks; true if the socket had been kicked (or closed) before.
    fn raise(&self, why: Kick) -> bool {
        let before = self.kick.fetch_max(why as u8, Ordering::AcqRel);
        self.waker.wake();
        before != 0
    }

    /// For when the socket task has ended: later pushes (from a hub that still holds the
    /// socket for a moment) are dropped, and what is queued is freed.
    pub(crate) fn close(&self) {
        self.kick.store(CLOSED, Ordering::Release);
        *lock(&self.frames) = VecDeque::new();
    }

    fn kicked(&self) -> Option<Kick> {
        Kick::from_u8(self.kick.load(Ordering::Acquire))
    }

    /// A kick first, else up to `max` frames moved into `batch`, else pending until a push or
    /// a kick wakes the task. For one task only (the socket's).
    fn poll_next(
        &self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Utf8Bytes>,
        max: usize,
    ) -> Poll<Next> {
        // Registered before looking, so a push or kick after the look wakes us.
        self.waker.register(cx.waker());
        if let Some(why) = self.kicked() {
            return Poll::Ready(Next::Kick(why));
        }
        let mut frames = lock(&self.frames);
        if frames.is_empty() {
            return Poll::Pending;
        }
        let n = frames.len().min(max);
        batch.extend(frames.drain(..n));
        if frames.is_empty() && frames.capacity() > KEEP_CAPACITY {
            *frames = VecDeque::new();
        }
        Poll::Ready(Next::Frames)
    }

    /// Pending until the socket is kicked.
    fn poll_kicked(&self, cx: &mut Context<'_>) -> Poll<Kick> {
        self.waker.register(cx.waker());
        match self.kicked() {
            Some(why) => Poll::Ready(why),
            None => Poll::Pending,
        }
    }

    pub(crate) async fn next(&self, batch: &mut Vec<Utf8Bytes>, max: usize) -> Next {
        std::future::poll_fn(|cx| self.poll_next(cx, batch, max)).await
    }

    pub(crate) async fn kicked_wait(&self) -> Kick {
        std::future::poll_fn(|cx| self.poll_kicked(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    use super::*;

    /// Counts its wake-ups.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn frame(s: &'static str) -> Utf8Bytes {
        Utf8Bytes::from_static(s)
    }

    #[test]
    fn frames_come_out_in_order_in_batches_of_at_most_max() {
        let outbox = Outbox::new(10);
        let (_, w) = waker();
        let mut cx = Context::from_waker(&w);
        for f in ["a", "b", "c"] {
            assert!(outbox.push(&frame(f)));
        }
        let mut batch = Vec::new();
        assert_eq!(
            outbox.poll_next(&mut cx, &mut batch, 2),
            Poll::Ready(Next::Frames)
        );
        assert_eq!(batch, vec![frame("a"), frame("b")]);
        batch.clear();
        assert_eq!(
            outbox.poll_next(&mut cx, &mut batch, 2),
            Poll::Ready(Next::Frames)
        );
        assert_eq!(batch, vec![frame("c")]);
        batch.clear();
        assert_eq!(outbox.poll_next(&mut cx, &mut batch, 2), Poll::Pending);
    }

    #[test]
    fn a_waiting_task_is_woken_by_the_push_that_ends_the_wait_and_only_by_it() {
        let outbox = Outbox::new(10);
        let (wakes, w) = waker();
        let mut cx = Context::from_waker(&w);
        let mut batch = Vec::new();
        assert_eq!(outbox.poll_next(&mut cx, &mut batch, 16), Poll::Pending);
        outbox.push(&frame("a"));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        // The task registers again on its way (it polls the kick first), and a frame behind
        // one not yet taken is found by the poll the first wake-up leads to.
        assert_eq!(outbox.poll_kicked(&mut cx), Poll::Pending);
        outbox.push(&frame("b"));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            outbox.poll_next(&mut cx, &mut batch, 16),
            Poll::Ready(Next::Frames)
        );
        assert_eq!(batch.len(), 2);
        batch.clear();
        assert_eq!(outbox.poll_next(&mut cx, &mut batch, 16), Poll::Pending);
        outbox.push(&frame("c"));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn overflowing_kicks_the_socket_as_a_slow_consumer_and_wakes_it() {
        let outbox = Outbox::new(2);
        let (wakes, w) = waker();
        let mut cx = Context::from_waker(&w);
        let mut batch = Vec::new();
        assert!(outbox.push(&frame("a")));
        assert!(outbox.push(&frame("b")));
        assert_eq!(outbox.poll_kicked(&mut cx), Poll::Pending);
        let before = wakes.0.load(Ordering::SeqCst);
        assert!(!outbox.push(&frame("c")), "the overflowing push reports it");
        assert!(wakes.0.load(Ordering::SeqCst) > before);
        // The kick comes before the frames still queued.
        assert_eq!(
            outbox.poll_next(&mut cx, &mut batch, 16),
            Poll::Ready(Next::Kick(Kick::SlowConsumer))
        );
        assert!(batch.is_empty());
        // A kicked socket takes no more frames, and reports no second overflow.
        assert!(outbox.push(&frame("d")));
    }

    #[test]
    fn a_closed_outbox_drops_what_it_held_and_everything_pushed_after() {
        let outbox = Outbox::new(2);
        outbox.push(&frame("a"));
        outbox.close();
        assert!(lock(&outbox.frames).is_empty());
        for _ in 0..3 {
            assert!(
                outbox.push(&frame("b")),
                "a closed socket is no slow consumer"
            );
        }
        assert!(lock(&outbox.frames).is_empty());
    }

    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let outbox = Outbox::new(1000);
        let (_, w) = waker();
        let mut cx = Context::from_waker(&w);
        for _ in 0..500 {
            outbox.push(&frame("x"));
        }
        assert!(lock(&outbox.frames).capacity() >= 500);
        let mut batch = Vec::new();
        while outbox.poll_next(&mut cx, &mut batch, 16).is_ready() {
            batch.clear();
        }
        assert!(lock(&outbox.frames).capacity() <= KEEP_CAPACITY);
    }

    #[test]
    fn the_strongest_reason_to_close_wins_whatever_the_order() {
        let outbox = Outbox::new(1);
        outbox.kick(Kick::Reconnect);
        outbox.kick(Kick::SlowConsumer);
        outbox.kick(Kick::Shutdown);
        assert_eq!(outbox.kicked(), Some(Kick::Reconnect));

        let outbox = Outbox::new(1);
        outbox.kick(Kick::SlowConsumer);
        outbox.kick(Kick::Shutdown);
        assert_eq!(outbox.kicked(), Some(Kick::Shutdown));
    }
}
