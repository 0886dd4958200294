//! The Redis backends: a bus whose topics are Redis pub/sub channels, and a presence registry
//! kept in Redis so every gateway and chat service sees the same statuses.
//!
//! Topics are *sharded* channels (`SPUBLISH`/`SSUBSCRIBE`) when the server has them (Redis 7 and
//! later), so a Redis Cluster spreads them over its shards instead of broadcasting every message
//! to every node; older servers get classic `PUBLISH`/`SUBSCRIBE`. Payloads are JSON-encoded
//! [`BusMessage`]s.
//!
//! Nothing acknowledged depends on Redis: a lost connection is reconnected and resubscribed by
//! the subscription itself (redis-rs does not resubscribe on its own), which then yields
//! [`Delivery::Resync`](crate::Delivery::Resync) so the gateway catches every channel up from
//! the store.

mod presence;
mod publisher;
mod subscriber;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{BusMessage, Topic};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use crate::{Bus, BusError, Subscription};

pub use presence::RedisPresence;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Publishes waiting for Redis (during an outage, say) before `publish` starts refusing, by
/// count; their bytes are bounded by the bus's publish budget.
const PUBLISH_QUEUE: usize = 100_000;
/// The default byte budget of publishes waiting for Redis.
pub const DEFAULT_PUBLISH_QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// What every connection of one bus shares.
pub(crate) struct Shared {
    client: redis::Client,
    /// Namespace of every key and channel, so several confab deployments (or tests) can share
    /// one Redis.
    prefix: String,
    /// Whether the server has sharded pub/sub, learnt on the first connection (by whichever
    /// of the publisher and the subscriptions connects first).
    sharded: OnceLock<bool>,
}

impl Shared {
    fn channel_name(&self, topic: &Topic) -> String {
        match topic {
            Topic::Channel(id) => format!("{}:c:{id}", self.prefix),
            Topic::User(id) => format!("{}:u:{id}", self.prefix),
            Topic::Presence(id) => format!("{}:p:{id}", self.prefix),
        }
    }

    /// Whether topics are sharded channels: `SPUBLISH` exists from Redis 7 on, and an older
    /// server refuses it. Asked once per process; a connection error is not an answer.
    async fn probe(&self, conn: &mut MultiplexedConnection) -> redis::RedisResult<bool> {
        if let Some(sharded) = self.sharded.get() {
            return Ok(*sharded);
        }
        let sharded = match redis::cmd("SPUBLISH")
            .arg(format!("{}:probe", self.prefix))
            .arg("")
            .query_async::<i64>(conn)
            .await
        {
            Ok(_) => true,
            // The server answered, refusing the command.
            Err(e)
                if matches!(
                    e.kind(),
                    redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
                ) =>
            {
                false
            }
            Err(e) => return Err(e),
        };
        Ok(*self.sharded.get_or_init(|| sharded))
    }

    fn config() -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
    }

    /// A fresh multiplexed connection.
    async fn open(&self) -> redis::RedisResult<MultiplexedConnection> {
        self.client
            .get_multiplexed_async_connection_with_config(&Self::config())
            .await
    }

    /// A fresh multiplexed connection whose pub/sub messages and disconnect notice go to
    /// `push`, as they arrive.
    async fn open_subscriber(
        &self,
        push: impl redis::aio::AsyncPushSender,
    ) -> redis::RedisResult<MultiplexedConnection> {
        self.client
            .get_multiplexed_async_connection_with_config(&Self::config().set_push_sender(push))
            .await
    }
}

/// Opens a client speaking RESP3, which pub/sub on a multiplexed connection needs.
pub(crate) fn client(url: &str) -> Result<redis::Client, BusError> {
    let url = if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    };
    redis::Client::open(url.as_str()).map_err(|e| BusError::Unavailable(format!("redis url: {e}")))
}

pub struct RedisBus {
    shared: Arc<Shared>,
    publish: mpsc::Sender<publisher::Outgoing>,
    /// Bytes of publishes queued and not yet sent, against `publish_budget`.
    queued: Arc<AtomicUsize>,
    publish_budget: usize,
}

impl RedisBus {
    /// Starts the bus: a URL that does not parse fails here; a Redis that cannot be reached
    /// now is only logged, and the publisher and subscriptions connect once it answers (a
    /// deploy or a blip must not stop confab from starting).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        Self::connect_with_budget(url, prefix, DEFAULT_PUBLISH_QUEUE_BYTES).await
    }

    /// As [`RedisBus::connect`], with at most `publish_budget` bytes of publishes waiting for
    /// Redis (during an outage, say); past it `publish` refuses, and subscribers catch up
    /// from the store.
    pub async fn connect_with_budget(
        url: &str,
        prefix: &str,
        publish_budget: usize,
    ) -> Result<Self, BusError> {
        let client = client(url)?;
        let shared = Shared {
            client,
            prefix: prefix.to_owned(),
            sharded: OnceLock::new(),
        };
        // Redis may be down at start (a deploy, a blip): start anyway, and let the publisher
        // and the subscriptions connect when it is back. A bad URL still stops the start.
        let conn = match shared.open().await {
            Ok(mut conn) => match shared.probe(&mut conn).await {
                Ok(sharded) => {
                    tracing::info!(sharded, "connected to the redis bus");
                    Some(conn)
                }
                Err(error) => {
                    tracing::warn!(%error, "redis bus not answering; starting anyway");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(%error, "redis bus unreachable; starting anyway and retrying");
                None
            }
        };
        let shared = Arc::new(shared);
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        let queued = Arc::new(AtomicUsize::new(0));
        tokio::spawn(publisher::run(shared.clone(), conn, rx, queued.clone()));
        Ok(Self {
            shared,
            publish: tx,
            queued,
            publish_budget,
        })
    }

    /// Whether topics are sharded pub/sub channels on this server (known once connected).
    pub fn sharded(&self) -> bool {
        self.shared.sharded.get().copied().unwrap_or(false)
    }
}

#[async_trait]
impl Bus for RedisBus {
    /// Queues the message for the publisher task and returns at once: a slow or absent Redis
    /// never holds up a send that is already committed.
    async fn publish(&self, msg: Arc<BusMessage>) -> Result<(), BusError> {
        let Some(out) = publisher::encode(&self.shared, &msg) else {
            return Err(BusError::Unavailable(
                "bus message could not be encoded".into(),
            ));
        };
        let size = out.size();
        if self.queued.fetch_add(size, Ordering::AcqRel) + size > self.publish_budget {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            return Err(BusError::Unavailable(
                "redis publish queue is full (bytes)".into(),
            ));
        }
        self.publish.try_send(out).map_err(|e| {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            match e {
                mpsc::error::TrySendError::Full(_) => {
                    BusError::Unavailable("redis publish queue is full".into())
                }
                mpsc::error::TrySendError::Closed(_) => {
                    BusError::Unavailable("redis publisher stopped".into())
                }
            }
        })
    }

    fn subscription(&self, capacity: usize) -> Arc<dyn Subscription> {
        subscriber::spawn(self.shared.clone(), capacity)
    }
}
