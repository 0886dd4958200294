//! A Redis subscription: one task owns one connection, the set of subscribed topics, and the
//! reconnect loop. After every reconnect it subscribes the whole set again and yields
//! `Resync`, since anything published while it was away is gone from pub/sub (though not
//! from the store). A silent connection is found by a periodic `PING`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{BusMessage, Topic};
use redis::aio::MultiplexedConnection;
use redis::aio::{AsyncPushSender, SendError};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{Mutex, Notify, mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::Shared;
use crate::{BusError, Delivery, Subscription};

const PING_EVERY: Duration = Duration::from_secs(2);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Topics (re)subscribed concurrently after a reconnect.
const RESUBSCRIBE_CHUNK: usize = 64;

enum Command {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String, oneshot::Sender<()>),
}

pub(crate) fn spawn(shared: Arc<Shared>, capacity: usize) -> Arc<dyn Subscription> {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let lagged = Arc::new(AtomicBool::new(false));
    let sink = Sink {
        tx,
        lagged: lagged.clone(),
    };
    let task = tokio::spawn(supervise(shared.clone(), command_rx, sink));
    Arc::new(RedisSubscription {
        shared,
        commands,
        rx: Mutex::new(rx),
        lagged,
        task: task.abort_handle(),
    })
}

struct RedisSubscription {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    rx: Mutex<mpsc::Receiver<Delivery>>,
    lagged: Arc<AtomicBool>,
    task: AbortHandle,
}

impl Drop for RedisSubscription {
    fn drop(&mut self) {
        // The connection goes with the task, and Redis forgets its subscriptions with it.
        self.task.abort();
    }
}

#[async_trait]
impl Subscription for RedisSubscription {
    /// Returns once Redis confirmed the subscription, or, while Redis is unreachable, once the
    /// topic is recorded: it is subscribed on reconnect, and a `Resync` follows.
    async fn subscribe(&self, topic: Topic) -> Result<(), BusError> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send(Command::Subscribe(self.shared.channel_name(&topic), done))
            .map_err(|_| BusError::Unavailable("subscription task stopped".into()))?;
        wait.await
            .map_err(|_| BusError::Unavailable("subscription task stopped".into()))
    }

    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send(Command::Unsubscribe(self.shared.channel_name(topic), done))
            .map_err(|_| BusError::Unavailable("subscription task stopped".into()))?;
        wait.await
            .map_err(|_| BusError::Unavailable("subscription task stopped".into()))
    }

    async fn recv(&self) -> Option<Delivery> {
        let mut rx = self.rx.lock().await;
        if self.lagged.swap(false, Ordering::AcqRel) {
            return Some(Delivery::Resync);
        }
        rx.recv().await
    }
}

/// The subscriber's queue: full means the subscriber fell behind, so it is told to resync.
#[derive(Clone)]
struct Sink {
    tx: mpsc::Sender<Delivery>,
    lagged: Arc<AtomicBool>,
}

impl Sink {
    fn deliver(&self, msg: BusMessage) {
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.tx.try_send(Delivery::Message(Arc::new(msg)))
        {
            self.lagged.store(true, Ordering::Release);
        }
    }

    fn resync(&self) {
        if self.tx.try_send(Delivery::Resync).is_err() {
            // The queue is full, so the receiver will come round and see the flag.
            self.lagged.store(true, Ordering::Release);
        }
    }
}

struct Live {
    conn: MultiplexedConnection,
    /// Told when the connection's push stream ends (it is gone).
    gone: Arc<Notify>,
}

/// Where the connection's pushes go, as they arrive, on the connection's own task: straight
/// into the subscriber's bounded queue (full: drop and resync), so no queue in between can
/// grow while the subscriber falls behind.
struct PushToSink {
    sink: Sink,
    gone: Arc<Notify>,
}

impl AsyncPushSender for PushToSink {
    fn send(&self, info: PushInfo) -> Result<(), SendError> {
        if on_push(info, &self.sink) {
            self.gone.notify_one();
        }
        Ok(())
    }
}

async fn supervise(
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    sink: Sink,
) {
    // Known once connected (`connect` asks); until then there is no connection to use them.
    let commands_for = |shared: &Shared| {
        if shared.sharded.get().copied().unwrap_or(false) {
            ("SSUBSCRIBE", "SUNSUBSCRIBE")
        } else {
            ("SUBSCRIBE", "UNSUBSCRIBE")
        }
    };
    let (mut subscribe_cmd, mut unsubscribe_cmd) = commands_for(&shared);
    let mut topics: HashSet<String> = HashSet::new();
    let mut live: Option<Live> = None;
    let mut reconnect_at = Some(Instant::now());
    let mut backoff = MIN_BACKOFF;
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        let mut lost = false;
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Command::Subscribe(topic, done)) => {
                    if topics.insert(topic.clone())
                        && let Some(l) = &mut live
                        && let Err(error) = one(&mut l.conn, subscribe_cmd, &topic).await
                    {
                        tracing::warn!(%error, "redis subscribe failed");
                        lost = true;
                    }
                    let _ = done.send(());
                }
                Some(Command::Unsubscribe(topic, done)) => {
                    if topics.remove(&topic)
                        && let Some(l) = &mut live
                        && let Err(error) = one(&mut l.conn, unsubscribe_cmd, &topic).await
                    {
                        tracing::warn!(%error, "redis unsubscribe failed");
                        lost = true;
                    }
                    let _ = done.send(());
                }
            },
            () = gone(&live) => lost = true,
            _ = ping.tick(), if live.is_some() => {
                if let Some(l) = &mut live
                    && let Err(error) = redis::cmd("PING").query_async::<Value>(&mut l.conn).await
                {
                    tracing::warn!(%error, "redis subscription ping failed");
                    lost = true;
                }
            }
            _ = sleep_until(reconnect_at), if reconnect_at.is_some() => {
                match connect(&shared, &topics, &sink).await {
                    Ok(l) => {
                        (subscribe_cmd, unsubscribe_cmd) = commands_for(&shared);
                        if live.is_none() && !topics.is_empty() {
                            tracing::info!(topics = topics.len(), "redis subscription restored");
                        }
                        live = Some(l);
                        reconnect_at = None;
                        backoff = MIN_BACKOFF;
                        if !topics.is_empty() {
                            sink.resync();
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "redis subscription cannot connect; retrying");
                        reconnect_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        if lost && live.is_some() {
            tracing::warn!("redis subscription lost; reconnecting");
            live = None;
            reconnect_at = Some(Instant::now());
        }
    }
}

async fn one(
    conn: &mut MultiplexedConnection,
    command: &str,
    topic: &str,
) -> redis::RedisResult<()> {
    // One channel per command: each confirmation is then the reply to its own command.
    redis::cmd(command)
        .arg(topic)
        .query_async::<Value>(conn)
        .await
        .map(drop)
}

async fn connect(
    shared: &Shared,
    topics: &HashSet<String>,
    sink: &Sink,
) -> redis::RedisResult<Live> {
    let gone = Arc::new(Notify::new());
    let push = PushToSink {
        sink: sink.clone(),
        gone: gone.clone(),
    };
    let mut conn = shared.open_subscriber(push).await?;
    let subscribe_cmd = if shared.probe(&mut conn).await? {
        "SSUBSCRIBE"
    } else {
        "SUBSCRIBE"
    };
    let all: Vec<&String> = topics.iter().collect();
    for chunk in all.chunks(RESUBSCRIBE_CHUNK) {
        let results = futures_util::future::join_all(chunk.iter().map(|topic| {
            let mut c = conn.clone();
            async move { one(&mut c, subscribe_cmd, topic).await }
        }))
        .await;
        results
            .into_iter()
            .collect::<redis::RedisResult<Vec<()>>>()?;
    }
    Ok(Live { conn, gone })
}

async fn gone(live: &Option<Live>) {
    match live {
        Some(l) => l.gone.notified().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Handles one push; `true` when it says the connection is gone.
fn on_push(info: PushInfo, sink: &Sink) -> bool {
    match info.kind {
        PushKind::Disconnection => true,
        PushKind::Message | PushKind::SMessage => {
            match info.data.get(1) {
                Some(Value::BulkString(payload)) => {
                    match serde_json::from_slice::<BusMessage>(payload) {
                        Ok(msg) => sink.deliver(msg),
                        Err(error) => {
                            // A change we cannot read is a change missed: catch up instead.
                            tracing::warn!(%error, "undecodable bus message; resyncing");
                            sink.resync();
                        }
                    }
                }
                other => tracing::warn!(?other, "unexpected pub/sub message shape"),
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::{Change, ChannelEvent, ChannelId, UserId};

    fn message_push(seq: i64) -> PushInfo {
        let msg = BusMessage::Channel(ChannelEvent {
            channel_id: ChannelId::generate(),
            seq,
            change: Change::MemberJoined {
                user_id: UserId::generate(),
            },
        });
        let payload = serde_json::to_vec(&msg).expect("encode");
        PushInfo {
            kind: PushKind::Message,
            data: vec![Value::BulkString(b"c".to_vec()), Value::BulkString(payload)],
        }
    }

    /// Pushes go straight into the bounded queue; past it they are dropped and the
    /// subscriber told to resync, however many more arrive.
    #[tokio::test]
    async fn pushes_past_the_queue_are_dropped_for_a_resync() {
        let (tx, mut rx) = mpsc::channel(3);
        let lagged = Arc::new(AtomicBool::new(false));
        let push = PushToSink {
            sink: Sink {
                tx,
                lagged: lagged.clone(),
            },
            gone: Arc::new(Notify::new()),
        };
        for seq in 1..=1000 {
            push.send(message_push(seq)).expect("accepted");
        }
        assert!(
            lagged.load(Ordering::Acquire),
            "the overflow asks for a resync"
        );
        let mut queued = 0;
        while rx.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, 3, "no more than the queue holds");
        push.send(PushInfo {
            kind: PushKind::Disconnection,
            data: Vec::new(),
        })
        .expect("accepted");
        tokio::time::timeout(Duration::from_secs(5), push.gone.notified())
            .await
            .expect("a disconnection is told");
    }
}
