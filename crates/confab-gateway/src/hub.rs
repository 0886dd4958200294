//! One channel's fan-out on this gateway: its bus subscription, its position in the channel's
//! sequence, the sockets it delivers to.
//!
//! Events are delivered strictly in sequence order with no holes: an event ahead of the next
//! expected one waits up to `reorder_wait` for the missing ones, then the hub reads them from
//! the store. Duplicates (a republished retry, a filled event arriving late) are dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_core::{BusMessage, Change, ChannelEvent, ChannelId, Topic, UserId};
use confab_protocol::ws::{EventFrame, ServerFrame};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::socket::{SocketHandle, encode};
use crate::{Inner, lock};

/// Events queued for one hub before it stops queueing and catches up from the store instead.
const HUB_QUEUE: usize = 4096;
/// Changes read from the store per round trip while filling.
const FILL_BATCH: u32 = 500;
/// Back-off after the store failed to answer a fill.
const FILL_RETRY: Duration = Duration::from_secs(1);

pub(crate) struct Hub {
    channel_id: ChannelId,
    input: mpsc::Sender<Arc<BusMessage>>,
    /// Set when an event could not be queued or the bus lost messages: fill from the store.
    resync: AtomicBool,
    wake: tokio::sync::Notify,
    /// The highest sequence number delivered; -1 until the hub knows where it starts.
    delivered: AtomicI64,
    sockets: Mutex<HashMap<u64, SocketHandle>>,
    /// True once the hub knows its position: from then on every later change is delivered.
    ready: tokio::sync::watch::Sender<bool>,
    /// Users added to the channel whose join this hub has not delivered yet; attached once it
    /// has. Guarded together with `delivered` so neither side can miss the other.
    expected: Mutex<Vec<(UserId, i64)>>,
}

impl Hub {
    /// Creates the hub and starts its task. `start_after`: deliver changes after this sequence
    /// number; `None`: from the channel's current end.
    pub(crate) fn spawn(
        gw: Arc<Inner>,
        channel_id: ChannelId,
        start_after: Option<i64>,
    ) -> Arc<Hub> {
        let (input, rx) = mpsc::channel(HUB_QUEUE);
        let hub = Arc::new(Hub {
            channel_id,
            input,
            resync: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            delivered: AtomicI64::new(-1),
            sockets: Mutex::new(HashMap::new()),
            ready: tokio::sync::watch::Sender::new(false),
            expected: Mutex::new(Vec::new()),
        });
        tokio::spawn(run(hub.clone(), gw, rx, start_after));
        hub
    }

    /// Waits until every change committed from now on will be delivered by this hub.
    pub(crate) async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        // The sender lives as long as the hub, which the caller holds.
        let _ = ready.wait_for(|r| *r).await;
    }

    pub(crate) fn attach(&self, socket: &SocketHandle) {
        lock(&self.sockets).insert(socket.id(), socket.clone());
        socket.joined(&self.channel_id);
    }

    pub(crate) fn detach(&self, socket_id: u64) {
        lock(&self.sockets).remove(&socket_id);
    }

    pub(crate) fn detach_user(&self, user: &UserId) {
        let mut sockets = lock(&self.sockets);
        sockets.retain(|_, s| {
            let keep = s.user() != user;
            if !keep {
                s.left(&self.channel_id);
            }
            keep
        });
    }

    /// `user` joined at `seq`: attach their sockets now if the hub is past it, else when it
    /// gets there.
    pub(crate) fn expect_member(&self, gw: &Inner, user: &UserId, seq: i64) {
        let mut expected = lock(&self.expected);
        if self.delivered.load(Ordering::Acquire) >= seq {
            drop(expected);
            for socket in gw.user_sockets(user) {
                self.attach(&socket);
            }
        } else {
            expected.push((user.clone(), seq));
        }
    }

    pub(crate) fn offer(&self, msg: Arc<BusMessage>) {
        if self.input.try_send(msg).is_err() {
            self.request_resync();
        }
    }

    pub(crate) fn request_resync(&self) {
        self.resync.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// The hub task's private state.
struct Position {
    hub: Arc<Hub>,
    gw: Arc<Inner>,
    /// The next sequence number to deliver.
    next: i64,
    /// Events ahead of `next`, waiting for the hole before them to fill.
    pending: BTreeMap<i64, ChannelEvent>,
    /// When to read the store for missing changes.
    fill_at: Option<Instant>,
}

async fn run(
    hub: Arc<Hub>,
    gw: Arc<Inner>,
    mut rx: mpsc::Receiver<Arc<BusMessage>>,
    start_after: Option<i64>,
) {
    let topic = Topic::Channel(hub.channel_id.clone());
    {
        let _topics = gw.topics.lock().await;
        if let Err(error) = gw.subscription.subscribe(topic.clone()).await {
            // Live delivery is lost until a resync; hole-filling still brings events in order.
            tracing::warn!(%error, channel = %hub.channel_id, "channel subscribe failed");
        }
    }
    // Subscribed first, then read where the channel is: anything committed after the read
    // arrives on the bus, anything before is history.
    let (next, fill_at) = match start_after {
        Some(after) => (after + 1, Some(Instant::now())),
        None => loop {
            match gw.backend.last_seq(&hub.channel_id).await {
                Ok(last) => break (last + 1, None),
                Err(error) => {
                    tracing::warn!(?error, channel = %hub.channel_id, "reading last_seq failed; retrying");
                    tokio::select! {
                        _ = gw.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(FILL_RETRY) => {}
                    }
                }
            }
        },
    };
    let mut pos = Position {
        hub: hub.clone(),
        gw: gw.clone(),
        next,
        pending: BTreeMap::new(),
        fill_at,
    };
    pos.advance();
    hub.ready.send_replace(true);
    let mut idle_check =
        tokio::time::interval_at(Instant::now() + gw.config.hub_linger, gw.config.hub_linger);
    let mut was_idle = false;
    let shutdown = gw.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        if hub.resync.swap(false, Ordering::AcqRel) {
            pos.fill_at = Some(Instant::now());
        }
        let fill_at = pos.fill_at;
        tokio::select! {
            _ = &mut shutdown => return,
            msg = rx.recv() => match msg {
                // Copies only if someone else still holds the message (the in-process bus
                // with several subscribers); a gateway's own delivery is moved out.
                Some(msg) => match Arc::unwrap_or_clone(msg) {
                    BusMessage::Channel(event) => pos.accept(event),
                    BusMessage::Typing { user_id, .. } => pos.typing(&user_id),
                    _ => {}
                },
                None => return,
            },
            _ = hub.wake.notified() => {}
            _ = sleep_until(fill_at), if fill_at.is_some() => {
                pos.fill_at = None;
                pos.fill().await;
            }
            _ = idle_check.tick() => {
                let idle = lock(&hub.sockets).is_empty() && lock(&hub.expected).is_empty();
                if idle && was_idle && close_if_idle(&hub, &gw) {
                    break;
                }
                was_idle = idle;
            }
        }
    }
    let _topics = gw.topics.lock().await;
    if !lock(&gw.hubs).contains_key(&hub.channel_id)
        && let Err(error) = gw.subscription.unsubscribe(&topic).await
    {
        tracing::warn!(%error, channel = %hub.channel_id, "channel unsubscribe failed");
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Removes the hub from the gateway if no socket is attached. Attaching happens under the same
/// registry lock, so a socket can never attach to a hub that is going away.
fn close_if_idle(hub: &Arc<Hub>, gw: &Inner) -> bool {
    let mut hubs = lock(&gw.hubs);
    let idle = lock(&hub.sockets).is_empty() && lock(&hub.expected).is_empty();
    let ours = hubs
        .get(&hub.channel_id)
        .is_some_and(|h| Arc::ptr_eq(h, hub));
    if idle && ours {
        hubs.remove(&hub.channel_id);
    }
    idle && ours
}

impl Position {
    fn accept(&mut self, event: ChannelEvent) {
        if event.seq < self.next {
            return; // Already delivered: a duplicate or a late copy of a filled event.
        }
        // The event next in line is never dropped: it may be the very one the hole waits for.
        if event.seq > self.next
            && self.pending.len() >= self.gw.config.hub_pending_limit
            && !self.pending.contains_key(&event.seq)
        {
            // A hole that will not fill (the store away) must not grow memory: everything
            // published is committed, so drop what waits and read it back from the store.
            tracing::warn!(
                channel = %self.hub.channel_id,
                waiting = self.pending.len(),
                "too many events ahead of a hole; dropping them to read back from the store"
            );
            metrics::counter!("confab_hub_pending_dropped_total").increment(1);
            self.pending.clear();
            self.fill_at = Some(Instant::now());
            return;
        }
        self.pending.insert(event.seq, event);
        self.advance();
    }

    /// Delivers every pending event that is next in line, then schedules a fill if a hole
    /// remains.
    fn advance(&mut self) {
        while let Some(event) = self.pending.remove(&self.next) {
            self.deliver(&event);
            self.next += 1;
        }
        {
            let mut expected = lock(&self.hub.expected);
            self.hub.delivered.store(self.next - 1, Ordering::Release);
            let through = self.next - 1;
            let (ready, waiting): (Vec<_>, Vec<_>) =
                expected.drain(..).partition(|(_, seq)| *seq <= through);
            *expected = waiting;
            drop(expected);
            for (user, _) in ready {
                self.attach_user(&user);
            }
        }
        if !self.pending.is_empty() && self.fill_at.is_none() {
            self.fill_at = Some(Instant::now() + self.gw.config.reorder_wait);
        }
    }

    /// Reads the changes after the last delivered one from the store and delivers them.
    async fn fill(&mut self) {
        loop {
            let events = match self
                .gw
                .backend
                .changes_after(&self.hub.channel_id, self.next - 1, FILL_BATCH)
                .await
            {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(?error, channel = %self.hub.channel_id, "filling from the store failed; retrying");
                    self.fill_at = Some(Instant::now() + FILL_RETRY);
                    return;
                }
            };
            let complete = events.len() < FILL_BATCH as usize;
            for event in events {
                if event.seq >= self.next {
                    // The store's copy is the change in its current state; it replaces any
                    // live copy still waiting.
                    self.pending.insert(event.seq, event);
                }
            }
            self.advance();
            if complete {
                break;
            }
        }
    }

    fn deliver(&self, event: &ChannelEvent) {
        if let Change::MemberJoined { user_id } = &event.change {
            self.attach_user(user_id);
        }
        let frame = encode(&ServerFrame::Event(Box::new(EventFrame::from_event(event))));

        let delivered = {
            let sockets = lock(&self.hub.sockets);
            for socket in sockets.values() {
                socket.push(&frame);
            }
            sockets.len()
        };
        metrics::counter!("confab_events_delivered_total").increment(delivered as u64);
        if let Change::MemberLeft { user_id } = &event.change {
            // After delivering their own `member.left`: nothing later reaches them.
            self.hub.detach_user(user_id);
        }
    }

    /// Typing is ephemeral: no sequence, straight to the other members' sockets.
    fn typing(&self, typist: &UserId) {
        let frame = encode(&ServerFrame::Typing {
            channel_id: self.hub.channel_id.to_string(),
            user_id: typist.to_string(),
        });
        for socket in lock(&self.hub.sockets).values() {
            if socket.user() != typist {
                socket.push(&frame);
            }
        }
    }

    fn attach_user(&self, user: &UserId) {
        for socket in self.gw.user_sockets(user) {
            self.hub.attach(&socket);
        }
    }
}
