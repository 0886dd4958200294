//! The in-process bus: a topic table of subscriber queues. Publishing is a `try_send` to each
//! subscriber of the topic; a full queue drops the message and flags the subscriber for a
//! resync, so a slow gateway never slows a publisher.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use confab_core::{BusMessage, Topic};
use tokio::sync::mpsc;

use crate::{Bus, BusError, Delivery, Subscription};

#[derive(Default, Clone)]
pub struct MemoryBus {
    topics: Arc<RwLock<HashMap<Topic, Vec<Arc<Subscriber>>>>>,
    next_id: Arc<AtomicU64>,
}

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Arc<BusMessage>>,
    /// Set when a message was dropped for this subscriber; cleared by the `Resync` it causes.
    lagged: AtomicBool,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, msg: Arc<BusMessage>) -> Result<(), BusError> {
        let topic = msg.topic();
        let topics = self
            .topics
            .read()
            .map_err(|_| BusError::Unavailable("topic table poisoned".into()))?;
        for sub in topics.get(&topic).into_iter().flatten() {
            if let Err(mpsc::error::TrySendError::Full(_)) = sub.tx.try_send(msg.clone()) {
                sub.lagged.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    fn subscription(&self, capacity: usize) -> Arc<dyn Subscription> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let sub = Arc::new(Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            tx,
            lagged: AtomicBool::new(false),
        });
        Arc::new(MemorySubscription {
            bus: self.clone(),
            sub,
            rx: tokio::sync::Mutex::new(rx),
        })
    }
}

struct MemorySubscription {
    bus: MemoryBus,
    sub: Arc<Subscriber>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Arc<BusMessage>>>,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn subscribe(&self, topic: Topic) -> Result<(), BusError> {
        let mut topics = self
            .bus
            .topics
            .write()
            .map_err(|_| BusError::Unavailable("topic table poisoned".into()))?;
        let subs = topics.entry(topic).or_default();
        if !subs.iter().any(|s| s.id == self.sub.id) {
            subs.push(self.sub.clone());
        }
        Ok(())
    }

    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError> {
        let mut topics = self
            .bus
            .topics
            .write()
            .map_err(|_| BusError::Unavailable("topic table poisoned".into()))?;
        if let Some(subs) = topics.get_mut(topic) {
            subs.retain(|s| s.id != self.sub.id);
            if subs.is_empty() {
                topics.remove(topic);
            }
        }
        Ok(())
    }

    async fn recv(&self) -> Option<Delivery> {
        let mut rx = self.rx.lock().await;
        if self.sub.lagged.swap(false, Ordering::AcqRel) {
            return Some(Delivery::Resync);
        }
        rx.recv().await.map(Delivery::Message)
    }
}

impl Drop for MemorySubscription {
    fn drop(&mut self) {
        if let Ok(mut topics) = self.bus.topics.write() {
            topics.retain(|_, subs| {
                subs.retain(|s| s.id != self.sub.id);
                !subs.is_empty()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::{Change, ChannelEvent, ChannelId, UserId};
    use std::time::Duration;

    fn event(channel: &ChannelId, seq: i64) -> Arc<BusMessage> {
        Arc::new(BusMessage::Channel(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change: Change::MemberJoined {
                user_id: UserId::generate(),
            },
        }))
    }

    async fn next(sub: &Arc<dyn Subscription>) -> Option<Delivery> {
        tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await
            .expect("a delivery in time")
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_asks_for_resync() {
        let bus = MemoryBus::new();
        let sub = bus.subscription(2);
        let a = ChannelId::generate();
        sub.subscribe(Topic::Channel(a.clone()))
            .await
            .expect("subscribe");
        for seq in 1..=5 {
            bus.publish(event(&a, seq))
                .await
                .expect("publish never blocks");
        }
        assert!(matches!(next(&sub).await, Some(Delivery::Resync)));
        assert!(matches!(next(&sub).await, Some(Delivery::Message(_))));
        assert!(matches!(next(&sub).await, Some(Delivery::Message(_))));
    }

    #[tokio::test]
    async fn dropping_a_subscription_removes_it() {
        let bus = MemoryBus::new();
        let sub = bus.subscription(2);
        sub.subscribe(Topic::Channel(ChannelId::generate()))
            .await
            .expect("subscribe");
        drop(sub);
        assert!(bus.topics.read().map(|t| t.is_empty()).unwrap_or(false));
    }
}
