//! Presence in Redis, shared by every gateway and chat service.
//!
//! Keys (under the deployment's prefix `P`):
//! - `P:presence:u:USER`, a hash from `GATEWAY/SOCKET` to `1` (idle) or `0` (active): a user's
//!   sockets wherever they are. The user's status is computed from it by one rule everywhere.
//! - `P:presence:g:GATEWAY:sockets`, the set of `USER/SOCKET` a gateway registered, and
//!   `P:presence:g:GATEWAY:alive`, a key with a TTL that the gateway's heartbeat renews.
//! - `P:presence:gateways`, every gateway that registered sockets.
//!
//! Each change runs as one script, so the status before and after are read atomically and
//! exactly one caller learns of each change (and publishes it). A gateway that dies silently
//! stops renewing its key; the next sweep, by any gateway, removes its sockets and reports the
//! users who went offline. A gateway whose key vanished while it lived (Redis restarted, or it
//! stalled past the TTL and was swept), or one whose writes failed, makes Redis hold exactly
//! its sockets again at its next heartbeat.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{Presence, UserId};
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{BusError, PresenceRegistry};

const AGGREGATE: &str = r#"
local function agg(key)
  local vals = redis.call('HVALS', key)
  if #vals == 0 then return 'offline' end
  for _, v in ipairs(vals) do
    if v == '0' then return 'online' end
  end
  return 'idle'
end
"#;

/// KEYS: user hash, gateway sockets, gateways, alive. ARGV: field, member, value, gateway, ttl.
const SET: &str = r#"
local before = agg(KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
if redis.call('EXISTS', KEYS[4]) == 0 then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[5])
end
return {before, agg(KEYS[1])}
"#;

/// KEYS: user hash, gateway sockets. ARGV: field, member.
const REMOVE: &str = r#"
local before = agg(KEYS[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return {before, agg(KEYS[1])}
"#;

/// KEYS: alive, gateways. ARGV: gateway, ttl. Returns 1 if the key had lapsed.
const HEARTBEAT: &str = r#"
local lapsed = redis.call('EXISTS', KEYS[1]) == 0
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if lapsed then return 1 else return 0 end
"#;

/// KEYS: gateways. ARGV: prefix. Returns user, status pairs of users whose status changed.
const SWEEP: &str = r#"
local changed = {}
for _, gw in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local base = ARGV[1] .. ':presence:g:' .. gw
  if redis.call('EXISTS', base .. ':alive') == 0 then
    for _, m in ipairs(redis.call('SMEMBERS', base .. ':sockets')) do
      local sep = string.find(m, '/', 1, true)
      local user = string.sub(m, 1, sep - 1)
      local ukey = ARGV[1] .. ':presence:u:' .. user
      local before = agg(ukey)
      redis.call('HDEL', ukey, gw .. '/' .. string.sub(m, sep + 1))
      local after = agg(ukey)
      if before ~= after then
        table.insert(changed, user)
        table.insert(changed, after)
      end
    end
    redis.call('DEL', base .. ':sockets')
    redis.call('SREM', KEYS[1], gw)
  end
end
return changed
"#;

pub struct RedisPresence {
    conn: ConnectionManager,
    prefix: String,
    /// This process's name among gateways.
    gateway: String,
    ttl: Duration,
    set: Script,
    remove: Script,
    heartbeat: Script,
    sweep: Script,
    /// This gateway's own sockets, to register again if Redis forgot them.
    local: Mutex<HashMap<(UserId, u64), bool>>,
    /// A write to Redis failed, so Redis and `local` may disagree: the next heartbeat makes
    /// Redis match `local` again.
    dirty: AtomicBool,
}

fn parse_status(raw: &str) -> Presence {
    match raw {
        "online" => Presence::Online,
        "idle" => Presence::Idle,
        _ => Presence::Offline,
    }
}

fn aggregate(values: &[String]) -> Presence {
    if values.is_empty() {
        Presence::Offline
    } else if values.iter().any(|v| v == "0") {
        Presence::Online
    } else {
        Presence::Idle
    }
}

impl RedisPresence {
    /// `ttl`: how long a gateway's sockets outlive its last heartbeat. Heartbeats (the
    /// gateway's calls to `maintain`) must come well within it.
    pub async fn connect(url: &str, prefix: &str, ttl: Duration) -> Result<Self, BusError> {
        let client = super::client(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(super::CONNECT_TIMEOUT))
            .set_response_timeout(Some(super::RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        // Lazy: Redis may be down at start; the manager connects on first use and reconnects
        // after, and presence reads and writes fail (and are retried) meanwhile.
        let conn = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| BusError::Unavailable(format!("redis presence: {e}")))?;
        let script = |body: &str| Script::new(&format!("{AGGREGATE}{body}"));
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            gateway: uuid_like(),
            ttl,
            set: script(SET),
            remove: script(REMOVE),
            heartbeat: script(HEARTBEAT),
            sweep: script(SWEEP),
            local: Mutex::new(HashMap::new()),
            dirty: AtomicBool::new(false),
        })
    }

    fn user_key(&self, user: &UserId) -> String {
        format!("{}:presence:u:{user}", self.prefix)
    }

    fn gateway_key(&self, what: &str) -> String {
        format!("{}:presence:g:{}:{what}", self.prefix, self.gateway)
    }

    fn gateways_key(&self) -> String {
        format!("{}:presence:gateways", self.prefix)
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<(UserId, u64), bool>> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn register(&self, user: &UserId, socket: u64, idle: bool) -> Option<Presence> {
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<(String, String)> = self
            .set
            .key(self.user_key(user))
            .key(self.gateway_key("sockets"))
            .key(self.gateways_key())
            .key(self.gateway_key("alive"))
            .arg(format!("{}/{socket}", self.gateway))
            .arg(format!("{user}/{socket}"))
            .arg(if idle { "1" } else { "0" })
            .arg(&self.gateway)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(&mut conn)
            .await;
        self.changed(result, "presence set")
    }

    async fn unregister(&self, user: &UserId, socket: u64) -> Option<Presence> {
        let mut conn = self.conn.clone();
        let result = self
            .remove
            .key(self.user_key(user))
            .key(self.gateway_key("sockets"))
            .arg(format!("{}/{socket}", self.gateway))
            .arg(format!("{user}/{socket}"))
            .invoke_async(&mut conn)
            .await;
        self.changed(result, "presence remove")
    }

    fn changed(
        &self,
        result: redis::RedisResult<(String, String)>,
        what: &str,
    ) -> Option<Presence> {
        match result {
            Ok((before, after)) => (before != after).then(|| parse_status(&after)),
            Err(error) => {
                // Presence is advisory, and the next heartbeat replays what Redis missed.
                tracing::warn!(%error, "{what} failed");
                self.dirty.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Makes Redis hold exactly this gateway's sockets: registers every local one and removes
    /// any Redis has that are gone here. Returns the status changes that made.
    async fn reconcile(&self) -> Vec<(UserId, Presence)> {
        let mut changes = Vec::new();
        let sockets: Vec<_> = self.local().iter().map(|(k, v)| (k.clone(), *v)).collect();
        for ((user, socket), idle) in sockets {
            if let Some(status) = self.register(&user, socket, idle).await {
                changes.push((user, status));
            }
        }
        let mut conn = self.conn.clone();
        let members: redis::RedisResult<Vec<String>> = redis::cmd("SMEMBERS")
            .arg(self.gateway_key("sockets"))
            .query_async(&mut conn)
            .await;
        let members = match members {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, "reading this gateway's presence failed");
                self.dirty.store(true, Ordering::Release);
                return changes;
            }
        };
        for member in members {
            let Some((user, socket)) = member.split_once('/') else {
                continue;
            };
            let (Ok(user), Ok(socket)) = (UserId::parse(user), socket.parse::<u64>()) else {
                continue;
            };
            let here = self.local().contains_key(&(user.clone(), socket));
            if !here && let Some(status) = self.unregister(&user, socket).await {
                changes.push((user, status));
            }
        }
        changes
    }
}

/// A random name for this process among gateways.
fn uuid_like() -> String {
    confab_core::ChannelId::generate().to_string()
}

#[async_trait]
impl PresenceRegistry for RedisPresence {
    async fn set(&self, user: &UserId, socket: u64, idle: bool) -> Option<Presence> {
        self.local().insert((user.clone(), socket), idle);
        self.register(user, socket, idle).await
    }

    async fn remove(&self, user: &UserId, socket: u64) -> Option<Presence> {
        self.local().remove(&(user.clone(), socket));
        self.unregister(user, socket).await
    }

    async fn status(&self, users: &[UserId]) -> Vec<Presence> {
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("HVALS").arg(self.user_key(user));
        }
        let mut conn = self.conn.clone();
        match pipe.query_async::<Vec<Vec<String>>>(&mut conn).await {
            Ok(values) => values.iter().map(|v| aggregate(v)).collect(),
            Err(error) => {
                tracing::warn!(%error, "presence status failed");
                vec![Presence::Offline; users.len()]
            }
        }
    }

    async fn maintain(&self) -> Vec<(UserId, Presence)> {
        let mut conn = self.conn.clone();
        let lapsed: redis::RedisResult<i64> = self
            .heartbeat
            .key(self.gateway_key("alive"))
            .key(self.gateways_key())
            .arg(&self.gateway)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(&mut conn)
            .await;
        let mut changes = Vec::new();
        match lapsed {
            Ok(lapsed) => {
                // Redis forgot this gateway (it restarted, or this process stalled past the
                // TTL and was swept), or missed some of its writes: make it whole again.
                if lapsed == 1 || self.dirty.swap(false, Ordering::AcqRel) {
                    tracing::info!(
                        sockets = self.local().len(),
                        "registering this gateway's sockets in redis again"
                    );
                    changes = self.reconcile().await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "presence heartbeat failed");
                return changes;
            }
        }
        let swept: redis::RedisResult<Vec<String>> = self
            .sweep
            .key(self.gateways_key())
            .arg(&self.prefix)
            .invoke_async(&mut conn)
            .await;
        match swept {
            Ok(pairs) => {
                for pair in pairs.chunks_exact(2) {
                    match UserId::parse(&pair[0]) {
                        Ok(user) => changes.push((user, parse_status(&pair[1]))),
                        Err(_) => tracing::warn!(user = %pair[0], "swept an unreadable user id"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "presence sweep failed"),
        }
        changes
    }
}
