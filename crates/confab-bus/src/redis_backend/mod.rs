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

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{BusMessage, Topic};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo};
use tokio::sync::mpsc;

use crate::{Bus, BusError, Subscription};

pub use presence::RedisPresence;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Publishes waiting for Redis (during an outage, say) before `publish` starts refusing.
const PUBLISH_QUEUE: usize = 100_000;

/// What every connection of one bus shares.
pub(crate) struct Shared {
    client: redis::Client,
    /// Namespace of every key and channel, so several confab deployments (or tests) can share
    /// one Redis.
    prefix: String,
    sharded: bool,
}

impl Shared {
    fn channel_name(&self, topic: &Topic) -> String {
        match topic {
            Topic::Channel(id) => format!("{}:c:{id}", self.prefix),
            Topic::User(id) => format!("{}:u:{id}", self.prefix),
            Topic::Presence(id) => format!("{}:p:{id}", self.prefix),
        }
    }

    /// A fresh multiplexed connection; `push` receives pub/sub messages and the library's
    /// disconnect notice.
    async fn open(
        &self,
        push: Option<mpsc::UnboundedSender<PushInfo>>,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let mut config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        if let Some(push) = push {
            config = config.set_push_sender(push);
        }
        self.client
            .get_multiplexed_async_connection_with_config(&config)
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
    publish: mpsc::Sender<Arc<BusMessage>>,
}

impl RedisBus {
    /// Connects (failing if Redis cannot be reached now: a misconfiguration should stop the
    /// start, not show up later as silence) and starts the publisher.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        let client = client(url)?;
        let mut shared = Shared {
            client,
            prefix: prefix.to_owned(),
            sharded: false,
        };
        let mut conn = shared
            .open(None)
            .await
            .map_err(|e| BusError::Unavailable(format!("connecting to redis: {e}")))?;
        // Sharded pub/sub exists from Redis 7 on; an older server refuses the command.
        shared.sharded = redis::cmd("SPUBLISH")
            .arg(format!("{prefix}:probe"))
            .arg("")
            .query_async::<i64>(&mut conn)
            .await
            .is_ok();
        tracing::info!(sharded = shared.sharded, "connected to the redis bus");
        let shared = Arc::new(shared);
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publisher::run(shared.clone(), conn, rx));
        Ok(Self {
            shared,
            publish: tx,
        })
    }

    /// Whether topics are sharded pub/sub channels on this server.
    pub fn sharded(&self) -> bool {
        self.shared.sharded
    }
}

#[async_trait]
impl Bus for RedisBus {
    /// Queues the message for the publisher task and returns at once: a slow or absent Redis
    /// never holds up a send that is already committed.
    async fn publish(&self, msg: Arc<BusMessage>) -> Result<(), BusError> {
        self.publish.try_send(msg).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                BusError::Unavailable("redis publish queue is full".into())
            }
            mpsc::error::TrySendError::Closed(_) => {
                BusError::Unavailable("redis publisher stopped".into())
            }
        })
    }

    fn subscription(&self, capacity: usize) -> Arc<dyn Subscription> {
        subscriber::spawn(self.shared.clone(), capacity)
    }
}
