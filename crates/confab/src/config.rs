//! Configuration: defaults, then an optional TOML file (`--config`), then environment
//! variables (`CONFAB_*`), then command-line flags. Every key can be set all three ways.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use confab_chat::{ChatConfig, RateSpec};
use confab_core::Limits;
use confab_gateway::GatewayConfig;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

const DAY_MICROS: i64 = 86_400 * 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    All,
    Chat,
    Gateway,
}

/// The effective configuration. Field names are the TOML keys; each has a `--kebab-case`
/// flag and a `CONFAB_UPPER_CASE` environment variable.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// Where the SQLite database lives.
    pub data_dir: PathBuf,
    /// `all` runs every part in one process; `chat` the HTTP API and chat logic; `gateway`
    /// WebSockets only, calling the chat services at `chat_url`.
    pub role: String,
    /// `postgres://…` to use PostgreSQL as the store; unset keeps SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// PostgreSQL connections this process may hold.
    pub database_max_connections: u32,
    /// `redis://…` for the bus and presence shared between processes; unset keeps both
    /// in-process (role `all` only).
    pub redis_url: Option<String>,
    /// Namespace of confab's Redis keys and channels, so deployments can share a Redis.
    pub redis_prefix: String,
    /// Presence outlives a gateway's last heartbeat by this much (a dead gateway's users go
    /// offline within it plus one heartbeat), and the heartbeat period.
    pub presence_ttl_ms: u64,
    pub presence_heartbeat_ms: u64,
    /// Role `gateway`: the chat services' base URLs, tried in turn.
    pub chat_url: Vec<String>,
    /// Roles `chat` and `gateway`: the shared secret gateways present to chat services.
    pub cluster_secret: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// Largest WebSocket frame a client may send (bytes); larger ones close with 1009.
    pub max_frame_bytes: usize,
    /// Longest message body in characters. The body's encoded size is also bounded by the
    /// frame limit, so that every valid send fits one frame.
    pub max_body_chars: usize,
    /// Frames queued per socket before it is cut off as a slow consumer.
    pub ws_send_queue: usize,
    pub ws_ping_interval_ms: u64,
    pub ws_idle_timeout_ms: u64,
    /// How long an out-of-order event waits before the gateway fills the hole from the store.
    pub ws_reorder_wait_ms: u64,
    pub max_connections: usize,
    /// Bus deliveries a gateway may queue before it must catch up from the store instead.
    pub bus_queue: usize,
    /// With Redis: bytes of publishes that may wait for it (during an outage, say); past it
    /// publishes are refused and subscribers catch up from the store.
    pub bus_publish_queue_bytes: usize,
    /// Browser origins allowed to open WebSockets besides the server's own; `*` for any.
    pub allowed_origins: Vec<String>,
    /// The URL people open confab at (e.g. `https://chat.example.com`): its origin is the
    /// server's own. Unset, only `http://` to an IP address or `localhost` is.
    pub public_url: Option<String>,
    /// Message sends per user per second (sustained), and the burst above it. 0 disables.
    pub send_rate_per_sec: u32,
    pub send_rate_burst: u32,
    /// Login and registration attempts per client address per minute, and the burst.
    pub auth_rate_per_min: u32,
    pub auth_rate_burst: u32,
    /// Edits, deletes and reactions per user per second (together), and the burst. 0 disables.
    pub change_rate_per_sec: u32,
    pub change_rate_burst: u32,
    /// Channels, DMs and invites created per user per minute (together), and the burst.
    pub create_rate_per_min: u32,
    pub create_rate_burst: u32,
    /// Presence queries and `presence_subscribe` frames per user per minute, and the burst.
    pub presence_rate_per_min: u32,
    pub presence_rate_burst: u32,
    /// Distinct emoji on one message.
    pub max_reactions_per_message: usize,
    /// `@name`s resolved in one message; later ones stay text.
    pub max_mentions_per_message: usize,
    /// WebSockets one user may hold at once on one gateway.
    pub max_sockets_per_user: usize,
    /// Events a gateway holds for one channel ahead of a hole it cannot fill yet; past it
    /// they are dropped and read back from the store.
    pub hub_pending_limit: usize,
    /// An HTTP connection must send a request's headers within this, and an idle keep-alive
    /// connection is closed after it.
    pub http_header_timeout_ms: u64,
    /// An HTTP request's body must arrive whole within this (else 408).
    pub http_body_timeout_ms: u64,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// A bearer token that reads `/metrics` from anywhere; unset, only this machine may.
    pub metrics_token: Option<String>,
    /// Who may create an account: `open`, `invite` (with a workspace invite) or `closed`.
    pub registration: String,
    /// A session not used for this long is signed out.
    pub session_idle_days: u32,
    /// A session is signed out this long after sign-in, however much it is used.
    pub session_lifetime_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        let gw = GatewayConfig::default();
        let chat = ChatConfig::default();
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: "./confab-data".into(),
            role: "all".into(),
            database_url: None,
            database_max_connections: 16,
            redis_url: None,
            redis_prefix: "confab".into(),
            presence_ttl_ms: 6_000,
            presence_heartbeat_ms: gw.presence_heartbeat.as_millis() as u64,
            chat_url: Vec::new(),
            cluster_secret: None,
            log_format: "text".into(),
            max_frame_bytes: gw.max_frame_bytes,
            max_body_chars: chat.limits.max_body_chars,
            ws_send_queue: gw.send_queue,
            ws_ping_interval_ms: gw.ping_interval.as_millis() as u64,
            ws_idle_timeout_ms: gw.idle_timeout.as_millis() as u64,
            ws_reorder_wait_ms: gw.reorder_wait.as_millis() as u64,
            max_connections: gw.max_connections,
            bus_queue: gw.bus_queue,
            bus_publish_queue_bytes: confab_bus::DEFAULT_PUBLISH_QUEUE_BYTES,
            allowed_origins: Vec::new(),
            public_url: None,
            send_rate_per_sec: 10,
            send_rate_burst: chat.send_rate.burst,
            auth_rate_per_min: 10,
            auth_rate_burst: 20,
            change_rate_per_sec: 10,
            change_rate_burst: chat.change_rate.burst,
            create_rate_per_min: 20,
            create_rate_burst: chat.create_rate.burst,
            presence_rate_per_min: 30,
            presence_rate_burst: chat.presence_rate.burst,
            max_reactions_per_message: chat.limits.max_reactions_per_message,
            max_mentions_per_message: chat.limits.max_mentions_per_message,
            max_sockets_per_user: gw.max_sockets_per_user,
            hub_pending_limit: gw.hub_pending_limit,
            http_header_timeout_ms: 15_000,
            http_body_timeout_ms: 30_000,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            registration: "open".into(),
            session_idle_days: 30,
            session_lifetime_days: 90,
        }
    }
}

/// `confab serve` flags. Unset flags are skipped, so they do not override the file.
#[derive(Args, Debug, Default, Serialize)]
pub struct ServeArgs {
    /// A TOML file with any of the keys below.
    #[arg(long, env = "CONFAB_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    #[arg(long, env = "CONFAB_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[arg(long, env = "CONFAB_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, env = "CONFAB_ROLE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[arg(long, env = "CONFAB_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[arg(long, env = "CONFAB_DATABASE_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_max_connections: Option<u32>,
    #[arg(long, env = "CONFAB_REDIS_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
    #[arg(long, env = "CONFAB_REDIS_PREFIX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_prefix: Option<String>,
    #[arg(long, env = "CONFAB_PRESENCE_TTL_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_ttl_ms: Option<u64>,
    #[arg(long, env = "CONFAB_PRESENCE_HEARTBEAT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_heartbeat_ms: Option<u64>,
    /// Comma-separated, or the flag repeated.
    #[arg(long, env = "CONFAB_CHAT_URL", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_url: Option<Vec<String>>,
    /// Prefer the environment or the file: flags show in process listings.
    #[arg(long, env = "CONFAB_CLUSTER_SECRET", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_secret: Option<String>,
    #[arg(long, env = "CONFAB_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[arg(long, env = "CONFAB_MAX_FRAME_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_frame_bytes: Option<usize>,
    #[arg(long, env = "CONFAB_MAX_BODY_CHARS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_chars: Option<usize>,
    #[arg(long, env = "CONFAB_WS_SEND_QUEUE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_send_queue: Option<usize>,
    #[arg(long, env = "CONFAB_WS_PING_INTERVAL_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_ping_interval_ms: Option<u64>,
    #[arg(long, env = "CONFAB_WS_IDLE_TIMEOUT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_idle_timeout_ms: Option<u64>,
    #[arg(long, env = "CONFAB_WS_REORDER_WAIT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_reorder_wait_ms: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    #[arg(long, env = "CONFAB_BUS_QUEUE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus_queue: Option<usize>,
    /// Comma-separated.
    #[arg(long, env = "CONFAB_ALLOWED_ORIGINS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[arg(long, env = "CONFAB_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[arg(long, env = "CONFAB_SEND_RATE_PER_SEC")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_rate_per_sec: Option<u32>,
    #[arg(long, env = "CONFAB_SEND_RATE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_rate_burst: Option<u32>,
    #[arg(long, env = "CONFAB_AUTH_RATE_PER_MIN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_rate_per_min: Option<u32>,
    #[arg(long, env = "CONFAB_AUTH_RATE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_rate_burst: Option<u32>,
    #[arg(long, env = "CONFAB_CHANGE_RATE_PER_SEC")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_rate_per_sec: Option<u32>,
    #[arg(long, env = "CONFAB_CHANGE_RATE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_rate_burst: Option<u32>,
    #[arg(long, env = "CONFAB_CREATE_RATE_PER_MIN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_rate_per_min: Option<u32>,
    #[arg(long, env = "CONFAB_CREATE_RATE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_rate_burst: Option<u32>,
    #[arg(long, env = "CONFAB_PRESENCE_RATE_PER_MIN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_rate_per_min: Option<u32>,
    #[arg(long, env = "CONFAB_PRESENCE_RATE_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_rate_burst: Option<u32>,
    #[arg(long, env = "CONFAB_MAX_REACTIONS_PER_MESSAGE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_reactions_per_message: Option<usize>,
    #[arg(long, env = "CONFAB_MAX_MENTIONS_PER_MESSAGE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mentions_per_message: Option<usize>,
    #[arg(long, env = "CONFAB_MAX_SOCKETS_PER_USER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sockets_per_user: Option<usize>,
    #[arg(long, env = "CONFAB_BUS_PUBLISH_QUEUE_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus_publish_queue_bytes: Option<usize>,
    #[arg(long, env = "CONFAB_HUB_PENDING_LIMIT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub_pending_limit: Option<usize>,
    #[arg(long, env = "CONFAB_REGISTRATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    #[arg(long, env = "CONFAB_METRICS_TOKEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    #[arg(long, env = "CONFAB_TRUSTED_PROXIES", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<String>>,
    #[arg(long, env = "CONFAB_SESSION_IDLE_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_idle_days: Option<u32>,
    #[arg(long, env = "CONFAB_SESSION_LIFETIME_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lifetime_days: Option<u32>,
    #[arg(long, env = "CONFAB_HTTP_BODY_TIMEOUT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_body_timeout_ms: Option<u64>,
    #[arg(long, env = "CONFAB_HTTP_HEADER_TIMEOUT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_header_timeout_ms: Option<u64>,
}

impl Config {
    pub fn load(args: &ServeArgs) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &args.config {
            anyhow::ensure!(
                path.exists(),
                "config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment.merge(Serialized::defaults(args)).extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let role = self.role()?;
        if let Some(url) = &self.database_url {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "database_url must be a postgres:// URL (leave it unset for SQLite)"
            );
            anyhow::ensure!(
                role != Role::Gateway,
                "a gateway has no database: set database_url on the chat services"
            );
        }
        anyhow::ensure!(
            self.database_max_connections >= 1,
            "database_max_connections must be at least 1"
        );
        if role != Role::All {
            anyhow::ensure!(
                self.redis_url.is_some(),
                "role {} needs redis_url: gateways and chat services meet on Redis",
                self.role
            );
            self.secret()?;
        }
        if role == Role::Gateway {
            anyhow::ensure!(
                !self.chat_url.is_empty(),
                "role gateway needs chat_url (the chat services' base URLs)"
            );
            for url in &self.chat_url {
                anyhow::ensure!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "chat_url entries must be http(s) URLs, not {url:?}"
                );
            }
        }
        anyhow::ensure!(
            self.presence_heartbeat_ms > 0
                && self.presence_ttl_ms >= 2 * self.presence_heartbeat_ms,
            "presence_ttl_ms must be at least twice presence_heartbeat_ms, which must be positive"
        );
        anyhow::ensure!(
            matches!(self.log_format.as_str(), "text" | "json"),
            "log_format must be text or json"
        );
        anyhow::ensure!(
            self.max_frame_bytes >= 4096,
            "max_frame_bytes must be at least 4096"
        );
        anyhow::ensure!(
            self.max_body_chars >= 1,
            "max_body_chars must be at least 1"
        );
        anyhow::ensure!(self.ws_send_queue >= 1, "ws_send_queue must be at least 1");
        anyhow::ensure!(
            self.ws_idle_timeout_ms > self.ws_ping_interval_ms && self.ws_ping_interval_ms > 0,
            "ws_idle_timeout_ms must exceed ws_ping_interval_ms, which must be positive"
        );
        anyhow::ensure!(
            self.max_connections >= 1,
            "max_connections must be at least 1"
        );
        anyhow::ensure!(self.bus_queue >= 1, "bus_queue must be at least 1");
        anyhow::ensure!(
            self.hub_pending_limit >= 1,
            "hub_pending_limit must be at least 1"
        );
        anyhow::ensure!(
            self.max_sockets_per_user >= 1,
            "max_sockets_per_user must be at least 1"
        );
        anyhow::ensure!(
            self.max_reactions_per_message >= 1,
            "max_reactions_per_message must be at least 1"
        );
        anyhow::ensure!(
            self.http_header_timeout_ms >= 100 && self.http_body_timeout_ms >= 100,
            "http_header_timeout_ms and http_body_timeout_ms must be at least 100"
        );
        anyhow::ensure!(
            confab_chat::RegistrationMode::parse(&self.registration).is_some(),
            "registration must be open, invite or closed"
        );
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                confab_gateway::origin_of(url).is_some(),
                "public_url must be an http:// or https:// URL, not {url:?}"
            );
        }
        if let Err(bad) = confab_api::TrustedProxies::parse(&self.trusted_proxies) {
            anyhow::bail!("trusted_proxies: {bad:?} is neither an address nor a network");
        }
        anyhow::ensure!(
            self.session_idle_days >= 1
                && self.session_lifetime_days >= self.session_idle_days
                && self.session_lifetime_days <= 3650,
            "session_idle_days must be at least 1, and session_lifetime_days at least that and \
             at most 3650"
        );
        anyhow::ensure!(
            self.bus_publish_queue_bytes >= 1024 * 1024,
            "bus_publish_queue_bytes must be at least 1 MiB (a message can be 64 KiB)"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.max_mentions_per_message)
                && self.max_reactions_per_message <= 1000,
            "max_mentions_per_message must be 1 to 1000, max_reactions_per_message at most 1000 \
             (both size every socket's largest frame)"
        );
        Ok(())
    }

    pub fn role(&self) -> anyhow::Result<Role> {
        match self.role.as_str() {
            "all" => Ok(Role::All),
            "chat" => Ok(Role::Chat),
            "gateway" => Ok(Role::Gateway),
            other => anyhow::bail!("role must be all, chat or gateway, not {other:?}"),
        }
    }

    /// The cluster secret, which must be long enough not to be guessed.
    pub fn secret(&self) -> anyhow::Result<String> {
        match &self.cluster_secret {
            // The RPC's bearer parser trims, so a secret must not rely on its edges.
            Some(s) if s.trim() != s => {
                anyhow::bail!("cluster_secret must not start or end with whitespace")
            }
            Some(s) if s.len() >= 16 => Ok(s.clone()),
            Some(_) => anyhow::bail!("cluster_secret must be at least 16 characters"),
            None => anyhow::bail!("roles chat and gateway need cluster_secret"),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_reactions_per_message: self.max_reactions_per_message,
            max_mentions_per_message: self.max_mentions_per_message,
            ..Limits::for_frame_limit(self.max_body_chars, self.max_frame_bytes)
        }
    }

    pub fn chat(&self) -> ChatConfig {
        ChatConfig {
            limits: self.limits(),
            send_rate: RateSpec::per_second(self.send_rate_per_sec, self.send_rate_burst),
            change_rate: RateSpec::per_second(self.change_rate_per_sec, self.change_rate_burst),
            create_rate: RateSpec::per_minute(self.create_rate_per_min, self.create_rate_burst),
            presence_rate: RateSpec::per_minute(
                self.presence_rate_per_min,
                self.presence_rate_burst,
            ),
            session_life: confab_store::SessionLifetime {
                idle_micros: i64::from(self.session_idle_days) * DAY_MICROS,
                absolute_micros: i64::from(self.session_lifetime_days) * DAY_MICROS,
            },
            registration: confab_chat::RegistrationMode::parse(&self.registration)
                .unwrap_or(confab_chat::RegistrationMode::Closed),
            ..ChatConfig::default()
        }
    }

    pub fn http_header_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_timeout_ms)
    }

    pub fn http_body_timeout(&self) -> Duration {
        Duration::from_millis(self.http_body_timeout_ms)
    }

    pub fn auth_rate(&self) -> RateSpec {
        RateSpec::per_minute(self.auth_rate_per_min, self.auth_rate_burst)
    }

    pub fn gateway(&self) -> GatewayConfig {
        GatewayConfig {
            max_frame_bytes: self.max_frame_bytes,
            send_queue: self.ws_send_queue,
            ping_interval: Duration::from_millis(self.ws_ping_interval_ms),
            idle_timeout: Duration::from_millis(self.ws_idle_timeout_ms),
            reorder_wait: Duration::from_millis(self.ws_reorder_wait_ms),
            allowed_origins: self.allowed_origins.clone(),
            public_origin: self
                .public_url
                .as_deref()
                .and_then(confab_gateway::origin_of),
            max_connections: self.max_connections,
            presence_heartbeat: Duration::from_millis(self.presence_heartbeat_ms),
            bus_queue: self.bus_queue,
            max_sockets_per_user: self.max_sockets_per_user,
            hub_pending_limit: self.hub_pending_limit,
            max_event_frame_bytes: self.limits().max_event_frame_bytes(),
            ..GatewayConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_and_flags_override_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("confab.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nws_send_queue = 7\nallowed_origins = [\"https://a.example\"]\n")
            .expect("write config");
        let args = ServeArgs {
            config: Some(path.clone()),
            ws_send_queue: Some(9),
            ..ServeArgs::default()
        };
        let config = Config::load(&args).expect("valid config");
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.ws_send_queue, 9, "a flag wins over the file");
        assert_eq!(config.allowed_origins, vec!["https://a.example".to_owned()]);
        assert_eq!(
            config.max_frame_bytes,
            64 * 1024,
            "untouched keys keep their defaults"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            ServeArgs {
                role: Some("router".into()),
                ..ServeArgs::default()
            },
            // Split roles need Redis and the secret; a gateway needs chat services.
            ServeArgs {
                role: Some("chat".into()),
                cluster_secret: Some("0123456789abcdef".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some("chat".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some("chat".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("short".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some("chat".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("0123456789abcdef ".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some("gateway".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("0123456789abcdef".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                database_url: Some("mysql://localhost/confab".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                presence_ttl_ms: Some(1_000),
                presence_heartbeat_ms: Some(800),
                ..ServeArgs::default()
            },
            ServeArgs {
                database_max_connections: Some(0),
                ..ServeArgs::default()
            },
            ServeArgs {
                bus_queue: Some(0),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some("gateway".into()),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("0123456789abcdef".into()),
                chat_url: Some(vec!["10.0.0.1:8080".into()]),
                ..ServeArgs::default()
            },
        ] {
            assert!(Config::load(&bad).is_err(), "{bad:?} was accepted");
        }
        let gateway = ServeArgs {
            role: Some("gateway".into()),
            redis_url: Some("redis://127.0.0.1".into()),
            cluster_secret: Some("0123456789abcdef".into()),
            chat_url: Some(vec![
                "http://10.0.0.1:8080".into(),
                "http://10.0.0.2:8080".into(),
            ]),
            ..ServeArgs::default()
        };
        assert_eq!(
            Config::load(&gateway).expect("valid").role().expect("role"),
            Role::Gateway
        );
        let args = ServeArgs {
            ws_ping_interval_ms: Some(10_000),
            ..ServeArgs::default()
        };
        assert!(Config::load(&args).is_err());
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "no_such_key = 1\n").expect("write config");
        assert!(
            Config::load(&ServeArgs {
                config: Some(path),
                ..ServeArgs::default()
            })
            .is_err()
        );
    }

    #[test]
    fn the_body_limit_fits_the_frame_limit() {
        let limits = Config::default().limits();
        assert_eq!(limits.max_body_chars, 40_000);
        assert!(limits.max_body_bytes + confab_core::limits::FRAME_ENVELOPE_BYTES <= 64 * 1024);
    }

    /// SPEC §6: a presence change, a silently dead connection's included, is seen within
    /// 10 s. A silent socket is dropped (and its user goes offline at once) `ws_idle_timeout_ms`
    /// after the last thing heard; a dead gateway's sockets are swept by a survivor once its
    /// liveness key expires, at most a heartbeat after its last renewal plus the TTL.
    #[test]
    fn the_defaults_keep_presence_changes_within_ten_seconds() {
        let c = Config::default();
        assert!(c.ws_idle_timeout_ms <= 10_000);
        assert!(c.presence_ttl_ms + c.presence_heartbeat_ms <= 10_000);
    }
}
