//! Presence: who is online, idle or offline, aggregated over each user's sockets. A user is
//! online while any socket is active, idle when every socket says idle, offline when none
//! remain. Gateways report socket changes; a change of a user's aggregate status is returned so
//! the gateway can publish it to subscribers.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use confab_core::{Presence, UserId};

#[async_trait]
pub trait PresenceRegistry: Send + Sync + 'static {
    /// Records a socket's state (`idle` or active); `Some(status)` when the user's aggregate
    /// status changed.
    async fn set(&self, user: &UserId, socket: u64, idle: bool) -> Option<Presence>;
    /// Forgets a socket; `Some(status)` when the user's aggregate status changed.
    async fn remove(&self, user: &UserId, socket: u64) -> Option<Presence>;
    async fn status(&self, users: &[UserId]) -> Vec<Presence>;
    /// Periodic upkeep, called by each gateway every couple of seconds: renew this process's
    /// liveness and forget the sockets of processes that stopped renewing theirs. Returns the
    /// status changes that caused, for the caller to publish.
    async fn maintain(&self) -> Vec<(UserId, Presence)> {
        Vec::new()
    }
}

/// The in-process registry, for a single node.
#[derive(Default)]
pub struct MemoryPresence {
    /// Per user: each socket and whether it is idle.
    users: Mutex<HashMap<UserId, HashMap<u64, bool>>>,
}

impl MemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }
}

fn aggregate(sockets: Option<&HashMap<u64, bool>>) -> Presence {
    match sockets {
        None => Presence::Offline,
        Some(s) if s.is_empty() => Presence::Offline,
        Some(s) if s.values().all(|idle| *idle) => Presence::Idle,
        Some(_) => Presence::Online,
    }
}

#[async_trait]
impl PresenceRegistry for MemoryPresence {
    async fn set(&self, user: &UserId, socket: u64, idle: bool) -> Option<Presence> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let before = aggregate(users.get(user));
        users.entry(user.clone()).or_default().insert(socket, idle);
        let after = aggregate(users.get(user));
        (before != after).then_some(after)
    }

    async fn remove(&self, user: &UserId, socket: u64) -> Option<Presence> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let before = aggregate(users.get(user));
        if let Some(sockets) = users.get_mut(user) {
            sockets.remove(&socket);
            if sockets.is_empty() {
                users.remove(user);
            }
        }
        let after = aggregate(users.get(user));
        (before != after).then_some(after)
    }

    async fn status(&self, users: &[UserId]) -> Vec<Presence> {
        let map = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.iter().map(|u| aggregate(map.get(u))).collect()
    }
}

/// Runs [`PresenceRegistry::maintain`] every `every` and publishes the status changes it
/// reports, until the task is dropped. Every process holding sockets (and any other, to sweep
/// when no gateway is left) runs one.
pub async fn presence_upkeep(
    presence: std::sync::Arc<dyn PresenceRegistry>,
    bus: std::sync::Arc<dyn crate::Bus>,
    every: std::time::Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (user_id, status) in presence.maintain().await {
            let msg = confab_core::BusMessage::Presence { user_id, status };
            if let Err(error) = bus.publish(std::sync::Arc::new(msg)).await {
                tracing::warn!(%error, "presence publish failed");
            }
        }
    }
}
