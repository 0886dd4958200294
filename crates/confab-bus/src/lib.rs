//! Pub/sub between chat services and gateways. Live fan-out is at-most-once: a subscriber that
//! falls behind loses messages and is told so with [`Delivery::Resync`], upon which it catches
//! up from the store. Nothing acknowledged depends on the bus.
//!
//! A gateway holds one [`Subscription`] and subscribes it to each topic its sockets need, once
//! per topic however many sockets need it.

mod memory;
mod presence;
mod redis_backend;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use std::sync::Arc;

use async_trait::async_trait;
use confab_core::{BusMessage, Topic};

pub use memory::MemoryBus;
pub use presence::{MemoryPresence, PresenceRegistry, presence_upkeep};
pub use redis_backend::{DEFAULT_PUBLISH_QUEUE_BYTES, RedisBus, RedisPresence};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

/// What a subscription yields.
#[derive(Debug, Clone)]
pub enum Delivery {
    Message(Arc<BusMessage>),
    /// Messages may have been lost since the last delivery (the subscriber fell behind or the
    /// connection to the bus dropped): everything subscribed must be caught up from the store.
    Resync,
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes to the message's topic. Never waits on slow subscribers.
    async fn publish(&self, msg: Arc<BusMessage>) -> Result<(), BusError>;

    /// A new subscription with no topics, whose queue holds at most `capacity` deliveries.
    fn subscription(&self, capacity: usize) -> Arc<dyn Subscription>;
}

#[async_trait]
pub trait Subscription: Send + Sync {
    /// Once this returns, every later publish to `topic` is delivered (or a `Resync` is).
    async fn subscribe(&self, topic: Topic) -> Result<(), BusError>;
    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError>;
    /// The next delivery; `None` once the bus is gone.
    /// Only one task should receive from a subscription.
    async fn recv(&self) -> Option<Delivery>;
}
