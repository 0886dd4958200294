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

/// What this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every part, in one process.
    All,
    /// The HTTP API and the chat service.
    Chat,
    /// WebSockets only, calling the chat services at `chat_url`.
    Gateway,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::All => "all",
            Role::Chat => "chat",
            Role::Gateway => "gateway",
        })
    }
}

/// How the log is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Who may create an account (`confab_chat::RegistrationMode`, spelt for configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    Open,
    Invite,
    Closed,
}

impl From<confab_chat::RegistrationMode> for Registration {
    fn from(r: confab_chat::RegistrationMode) -> Self {
        match r {
            confab_chat::RegistrationMode::Open => Self::Open,
            confab_chat::RegistrationMode::Invite => Self::Invite,
            confab_chat::RegistrationMode::Closed => Self::Closed,
        }
    }
}

impl From<Registration> for confab_chat::RegistrationMode {
    fn from(r: Registration) -> Self {
        match r {
            Registration::Open => Self::Open,
            Registration::Invite => Self::Invite,
            Registration::Closed => Self::Closed,
        }
    }
}

fn files_default() -> confab_chat::FileConfig {
    confab_chat::FileConfig::default()
}

/// Declares every configuration key once: its doc, its type (and, where clap must see it
/// written out, the flag's type in brackets: an optional key's inner type, a list), its
/// default, and its environment variable. From that come [`Config`] (the TOML keys, defaults
/// filled in) and [`ServeArgs`] (a `--kebab-case` flag and a `CONFAB_*` variable per key, unset
/// ones left out so they do not override the file). `$gw` and `$chat` name the gateway's and
/// chat service's own defaults inside the default expressions.
macro_rules! config_keys {
    // Each key is first put in one shape, its flag's type spelt out: clap recognises a list
    // flag only by the tokens `Vec<…>`, which a `ty` fragment hides.
    (@keys [$($done:tt)*]) => { config_keys!(@emit $($done)*); };
    (@keys [$($done:tt)*]
        $(#[doc = $doc:literal])* $(#[arg($($arg:tt)*)])*
        $name:ident : $ty:ty | [$($flag:tt)*] = $default:expr, env $env:literal;
        $($rest:tt)*
    ) => {
        config_keys!(@keys [$($done)* {
            [$($doc)*] [$($($arg)*),*] $name ($ty) [$($flag)*] ($default) $env
        }] $($rest)*);
    };
    (@keys [$($done:tt)*]
        $(#[doc = $doc:literal])* $(#[arg($($arg:tt)*)])*
        $name:ident : $ty:ty = $default:expr, env $env:literal;
        $($rest:tt)*
    ) => {
        config_keys!(@keys [$($done)* {
            [$($doc)*] [$($($arg)*),*] $name ($ty) [$ty] ($default) $env
        }] $($rest)*);
    };
    (@emit [$gw:ident, $chat:ident] $({
        [$($doc:literal)*] [$($arg:tt)*] $name:ident ($ty:ty) [$($flag:tt)*] ($default:expr) $env:literal
    })*) => {
        /// The effective configuration. Field names are the TOML keys; each has a
        /// `--kebab-case` flag and a `CONFAB_UPPER_CASE` environment variable.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $name: $ty, )*
        }

        impl Default for Config {
            fn default() -> Self {
                let $gw = GatewayConfig::default();
                let $chat = ChatConfig::default();
                Self { $( $name: $default, )* }
            }
        }

        /// `confab serve` flags. Unset flags are skipped, so they do not override the file.
        #[derive(Args, Debug, Default, Serialize)]
        pub struct ServeArgs {
            /// A TOML file with any of the keys below.
            #[arg(long, env = "CONFAB_CONFIG")]
            #[serde(skip)]
            pub config: Option<PathBuf>,
            $(
                $(#[doc = $doc])*
                #[arg(long, env = $env, $($arg)*)]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<$($flag)*>,
            )*
        }
    };
    ([$gw:ident, $chat:ident] $($keys:tt)*) => {
        config_keys!(@keys [[$gw, $chat]] $($keys)*);
    };
}

config_keys! {
    [gw, chat]
    /// Address to listen on; port 0 picks a free port (printed at start).
    listen: String = "127.0.0.1:8080".into(), env "CONFAB_LISTEN";
    /// Where the SQLite database lives.
    data_dir: PathBuf = "./confab-data".into(), env "CONFAB_DATA_DIR";
    /// `all` runs every part in one process; `chat` the HTTP API and chat logic; `gateway`
    /// WebSockets only, calling the chat services at `chat_url`.
    role: Role = Role::All, env "CONFAB_ROLE";
    /// `postgres://…` to use PostgreSQL as the store; unset keeps SQLite in `data_dir`.
    database_url: Option<String> | [String] = None, env "CONFAB_DATABASE_URL";
    /// PostgreSQL connections this process may hold.
    database_max_connections: u32 = 16, env "CONFAB_DATABASE_MAX_CONNECTIONS";
    /// `redis://…` for the bus and presence shared between processes; unset keeps both
    /// in-process (role `all` only).
    redis_url: Option<String> | [String] = None, env "CONFAB_REDIS_URL";
    /// Namespace of confab's Redis keys and channels, so deployments can share a Redis.
    redis_prefix: String = "confab".into(), env "CONFAB_REDIS_PREFIX";
    /// Presence outlives a gateway's last heartbeat by this much (a dead gateway's users go
    /// offline within it plus one heartbeat).
    presence_ttl_ms: u64 = 6_000, env "CONFAB_PRESENCE_TTL_MS";
    /// How often a gateway renews its users' presence.
    presence_heartbeat_ms: u64 = gw.presence_heartbeat.as_millis() as u64, env "CONFAB_PRESENCE_HEARTBEAT_MS";
    /// Role `gateway`: the chat services' base URLs, tried in turn (comma-separated, or the
    /// flag repeated).
    #[arg(value_delimiter = ',')]
    chat_url: Vec<String> | [Vec<String>] = Vec::new(), env "CONFAB_CHAT_URL";
    /// Roles `chat` and `gateway`: the shared secret gateways present to chat services.
    /// Prefer the environment or the file: flags show in process listings.
    #[arg(hide_env_values = true)]
    cluster_secret: Option<String> | [String] = None, env "CONFAB_CLUSTER_SECRET";
    /// `text` or `json`.
    log_format: LogFormat = LogFormat::Text, env "CONFAB_LOG_FORMAT";
    /// Largest WebSocket frame a client may send (bytes); larger ones close with 1009.
    max_frame_bytes: usize = gw.max_frame_bytes, env "CONFAB_MAX_FRAME_BYTES";
    /// Longest message body in characters. The body's encoded size is also bounded by the
    /// frame limit, so that every valid send fits one frame.
    max_body_chars: usize = chat.limits.max_body_chars, env "CONFAB_MAX_BODY_CHARS";
    /// Frames queued per socket before it is cut off as a slow consumer.
    ws_send_queue: usize = gw.send_queue, env "CONFAB_WS_SEND_QUEUE";
    /// How often a socket is pinged.
    ws_ping_interval_ms: u64 = gw.ping_interval.as_millis() as u64, env "CONFAB_WS_PING_INTERVAL_MS";
    /// A socket silent for this long is closed.
    ws_idle_timeout_ms: u64 = gw.idle_timeout.as_millis() as u64, env "CONFAB_WS_IDLE_TIMEOUT_MS";
    /// How long an out-of-order event waits before the gateway fills the hole from the store.
    ws_reorder_wait_ms: u64 = gw.reorder_wait.as_millis() as u64, env "CONFAB_WS_REORDER_WAIT_MS";
    /// WebSockets one gateway holds at most.
    max_connections: usize = gw.max_connections, env "CONFAB_MAX_CONNECTIONS";
    /// Bus deliveries a gateway may queue before it must catch up from the store instead.
    bus_queue: usize = gw.bus_queue, env "CONFAB_BUS_QUEUE";
    /// With Redis: bytes of publishes that may wait for it (during an outage, say); past it
    /// publishes are refused and subscribers catch up from the store.
    bus_publish_queue_bytes: usize = confab_bus::DEFAULT_PUBLISH_QUEUE_BYTES, env "CONFAB_BUS_PUBLISH_QUEUE_BYTES";
    /// Browser origins allowed to open WebSockets besides the server's own; `*` for any
    /// (comma-separated).
    #[arg(value_delimiter = ',')]
    allowed_origins: Vec<String> | [Vec<String>] = Vec::new(), env "CONFAB_ALLOWED_ORIGINS";
    /// The URL people open confab at (e.g. `https://chat.example.com`): its origin is the
    /// server's own. Unset, only `http://` to an IP address or `localhost` is.
    public_url: Option<String> | [String] = None, env "CONFAB_PUBLIC_URL";
    /// Message sends per user per second (sustained). 0 disables.
    send_rate_per_sec: u32 = chat.send_rate.count, env "CONFAB_SEND_RATE_PER_SEC";
    /// Sends above the sustained rate a user may burst.
    send_rate_burst: u32 = chat.send_rate.burst, env "CONFAB_SEND_RATE_BURST";
    /// Login and registration attempts per client address per minute.
    auth_rate_per_min: u32 = 10, env "CONFAB_AUTH_RATE_PER_MIN";
    /// Login and registration attempts a client address may burst.
    auth_rate_burst: u32 = 20, env "CONFAB_AUTH_RATE_BURST";
    /// Edits, deletes and reactions per user per second (together). 0 disables.
    change_rate_per_sec: u32 = chat.change_rate.count, env "CONFAB_CHANGE_RATE_PER_SEC";
    /// Edits, deletes and reactions a user may burst.
    change_rate_burst: u32 = chat.change_rate.burst, env "CONFAB_CHANGE_RATE_BURST";
    /// Channels, DMs and invites created per user per minute (together).
    create_rate_per_min: u32 = chat.create_rate.count, env "CONFAB_CREATE_RATE_PER_MIN";
    /// Channels, DMs and invites a user may create in a burst.
    create_rate_burst: u32 = chat.create_rate.burst, env "CONFAB_CREATE_RATE_BURST";
    /// Presence queries and `presence_subscribe` frames per user per minute.
    presence_rate_per_min: u32 = chat.presence_rate.count, env "CONFAB_PRESENCE_RATE_PER_MIN";
    /// Presence queries a user may burst.
    presence_rate_burst: u32 = chat.presence_rate.burst, env "CONFAB_PRESENCE_RATE_BURST";
    /// `POST /sync` calls per user per minute (each reads all the user's channels). 0 disables.
    sync_rate_per_min: u32 = chat.sync_rate.count, env "CONFAB_SYNC_RATE_PER_MIN";
    /// `POST /sync` calls a user may burst (a reconnect after a flaky network, several tabs).
    sync_rate_burst: u32 = chat.sync_rate.burst, env "CONFAB_SYNC_RATE_BURST";
    /// Distinct emoji on one message.
    max_reactions_per_message: usize = chat.limits.max_reactions_per_message, env "CONFAB_MAX_REACTIONS_PER_MESSAGE";
    /// `@name`s resolved in one message; later ones stay text.
    max_mentions_per_message: usize = chat.limits.max_mentions_per_message, env "CONFAB_MAX_MENTIONS_PER_MESSAGE";
    /// Drafts kept per user (one per channel or thread composer); saving one more forgets the
    /// oldest.
    max_drafts_per_user: u32 = chat.max_drafts, env "CONFAB_MAX_DRAFTS_PER_USER";
    /// WebSockets one user may hold at once on one gateway.
    max_sockets_per_user: usize = gw.max_sockets_per_user, env "CONFAB_MAX_SOCKETS_PER_USER";
    /// Events a gateway holds for one channel ahead of a hole it cannot fill yet; past it
    /// they are dropped and read back from the store.
    hub_pending_limit: usize = gw.hub_pending_limit, env "CONFAB_HUB_PENDING_LIMIT";
    /// An HTTP connection must send a request's headers within this, and an idle keep-alive
    /// connection is closed after it.
    http_header_timeout_ms: u64 = 15_000, env "CONFAB_HTTP_HEADER_TIMEOUT_MS";
    /// An HTTP request's body must arrive whole within this (else 408).
    http_body_timeout_ms: u64 = 30_000, env "CONFAB_HTTP_BODY_TIMEOUT_MS";
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client
    /// (comma-separated).
    #[arg(value_delimiter = ',')]
    trusted_proxies: Vec<String> | [Vec<String>] = Vec::new(), env "CONFAB_TRUSTED_PROXIES";
    /// A bearer token that reads `/metrics` from anywhere; unset, only this machine may.
    metrics_token: Option<String> | [String] = None, env "CONFAB_METRICS_TOKEN";
    /// Who may create an account: `open`, `invite` (with a workspace invite) or `closed`.
    registration: Registration = chat.registration.into(), env "CONFAB_REGISTRATION";
    /// A session not used for this long is signed out.
    session_idle_days: u32 = (chat.session_life.idle_micros / DAY_MICROS) as u32, env "CONFAB_SESSION_IDLE_DAYS";
    /// A session is signed out this long after sign-in, however much it is used.
    session_lifetime_days: u32 = (chat.session_life.absolute_micros / DAY_MICROS) as u32, env "CONFAB_SESSION_LIFETIME_DAYS";
    /// Largest file one upload may be, in bytes; a larger declared size answers 413
    /// `file_too_large`.
    max_upload_bytes: u64 = files_default().max_upload_bytes, env "CONFAB_MAX_UPLOAD_BYTES";
    /// Bytes of files one user may keep (pending uploads count); unset is unlimited. Past it,
    /// 413 `quota_exceeded`.
    upload_quota_bytes: Option<u64> | [u64] = None, env "CONFAB_UPLOAD_QUOTA_BYTES";
    /// How long an upload URL works (once); also the most one upload's body may take.
    upload_url_ttl_secs: u64 = files_default().upload_url_ttl.as_secs(), env "CONFAB_UPLOAD_URL_TTL_SECS";
    /// How long a download URL works.
    download_url_ttl_secs: u64 = files_default().download_url_ttl.as_secs(), env "CONFAB_DOWNLOAD_URL_TTL_SECS";
    /// Uploads attached to no message this long after they were asked for are swept.
    upload_grace_secs: u64 = files_default().unattached_grace.as_secs(), env "CONFAB_UPLOAD_GRACE_SECS";
    /// A deleted message's files keep their bytes this long before the sweep removes them.
    deleted_file_grace_secs: u64 = files_default().deleted_grace.as_secs(), env "CONFAB_DELETED_FILE_GRACE_SECS";
    /// Upload bodies this process receives at once, in all and from one user; one more is 429
    /// `rate_limited` (0: no bound).
    max_uploads_in_flight: usize = files_default().max_uploads_in_flight, env "CONFAB_MAX_UPLOADS_IN_FLIGHT";
    max_uploads_per_user: usize = files_default().max_uploads_per_user, env "CONFAB_MAX_UPLOADS_PER_USER";
    /// How often the file sweep runs.
    file_sweep_interval_ms: u64 = 600_000, env "CONFAB_FILE_SWEEP_INTERVAL_MS";
    /// Uploads one user may ask for per minute, and in a burst.
    upload_rate_per_min: u32 = chat.upload_rate.count, env "CONFAB_UPLOAD_RATE_PER_MIN";
    upload_rate_burst: u32 = chat.upload_rate.burst, env "CONFAB_UPLOAD_RATE_BURST";
    /// Searches one user may make per minute, and in a burst (0: no limit).
    search_rate_per_min: u32 = chat.search_rate.count, env "CONFAB_SEARCH_RATE_PER_MIN";
    search_rate_burst: u32 = chat.search_rate.burst, env "CONFAB_SEARCH_RATE_BURST";
    /// Characters a search query may hold; a longer one is 400 `query_too_long`.
    search_max_query_chars: usize = chat.search_max_query_chars, env "CONFAB_SEARCH_MAX_QUERY_CHARS";
    /// Images wider or taller than this get no preview (they stay downloadable).
    image_max_side_px: u32 = files_default().images.max_side, env "CONFAB_IMAGE_MAX_SIDE_PX";
    /// Bytes decoding one image for its preview may allocate.
    image_max_decode_bytes: u64 = files_default().images.max_alloc, env "CONFAB_IMAGE_MAX_DECODE_BYTES";
    /// Store files in this S3 bucket instead of under the data directory; credentials come
    /// from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
    s3_bucket: Option<String> | [String] = None, env "CONFAB_S3_BUCKET";
    /// An S3-compatible server's URL (default: AWS's endpoint for `s3_region`).
    s3_endpoint: Option<String> | [String] = None, env "CONFAB_S3_ENDPOINT";
    s3_region: String = "us-east-1".into(), env "CONFAB_S3_REGION";
    /// A Web Push notification waits this long for the user to see the message on a device
    /// of theirs; still unread then, it goes out.
    notify_push_delay_ms: u64 = chat.notify.push_delay.as_millis() as u64, env "CONFAB_NOTIFY_PUSH_DELAY_MS";
    /// The same for email digests.
    notify_email_delay_ms: u64 = chat.notify.email_delay.as_millis() as u64, env "CONFAB_NOTIFY_EMAIL_DELAY_MS";
    /// The same for the webhook.
    notify_webhook_delay_ms: u64 = chat.notify.webhook_delay.as_millis() as u64, env "CONFAB_NOTIFY_WEBHOOK_DELAY_MS";
    /// Push, email and webhook say only "New message from Ada in #ops", never the message:
    /// for push providers and mail relays that must not see content.
    notify_hide_content: bool = false, env "CONFAB_NOTIFY_HIDE_CONTENT";
    /// Web Push on (keys generated into the data directory unless `vapid_private_key`).
    web_push: bool = true, env "CONFAB_WEB_PUSH";
    /// The VAPID private key (base64url, 32 bytes), to keep one key across a fleet; unset,
    /// each chat service reads or creates `vapid.key` in its data directory.
    #[arg(hide_env_values = true)]
    vapid_private_key: Option<String> | [String] = None, env "CONFAB_VAPID_PRIVATE_KEY";
    /// Who push services may contact about this server (`mailto:` or an https URL).
    vapid_contact: String = "mailto:postmaster@localhost".into(), env "CONFAB_VAPID_CONTACT";
    /// Accept `http://` and private-address push endpoints (tests and closed networks only:
    /// a browser's is always a public `https://` one, and any other lets members make this
    /// server send requests inside its network).
    notify_push_allow_insecure: bool = false, env "CONFAB_NOTIFY_PUSH_ALLOW_INSECURE";
    /// `smtps://user:pass@host[:port]` (TLS), `smtp://…?tls=required` (STARTTLS) or plain
    /// `smtp://host[:port]` to send email digests; unset sends no email.
    #[arg(hide_env_values = true)]
    smtp_url: Option<String> | [String] = None, env "CONFAB_SMTP_URL";
    /// The From address of email digests.
    smtp_from: String = "confab <confab@localhost>".into(), env "CONFAB_SMTP_FROM";
    /// POST every notification digest here, signed (HMAC-SHA256 with `notify_webhook_secret`).
    notify_webhook_url: Option<String> | [String] = None, env "CONFAB_NOTIFY_WEBHOOK_URL";
    #[arg(hide_env_values = true)]
    notify_webhook_secret: Option<String> | [String] = None, env "CONFAB_NOTIFY_WEBHOOK_SECRET";
    /// Requests one sink makes at once, and how long one may take.
    notify_sink_concurrency: usize = 16, env "CONFAB_NOTIFY_SINK_CONCURRENCY";
    notify_sink_timeout_ms: u64 = 10_000, env "CONFAB_NOTIFY_SINK_TIMEOUT_MS";
    /// Failed attempts of one digest before it is given up (retried with exponential backoff
    /// and jitter from `notify_retry_base_ms`).
    notify_max_attempts: u32 = chat.notify.max_attempts, env "CONFAB_NOTIFY_MAX_ATTEMPTS";
    notify_retry_base_ms: u64 = chat.notify.retry_base.as_millis() as u64, env "CONFAB_NOTIFY_RETRY_BASE_MS";
    /// How often the notification worker looks for due work.
    notify_poll_ms: u64 = chat.notify.poll.as_millis() as u64, env "CONFAB_NOTIFY_POLL_MS";
    /// How long a worker holds claimed work before another chat service may take it over.
    notify_lease_ms: u64 = chat.notify.lease.as_millis() as u64, env "CONFAB_NOTIFY_LEASE_MS";
    /// Browsers one user may register for Web Push.
    max_push_subscriptions_per_user: usize = chat.notify.max_push_subscriptions, env "CONFAB_MAX_PUSH_SUBSCRIPTIONS_PER_USER";
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
        let role = self.role;
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
            (1..=5 * 1024 * 1024 * 1024).contains(&self.max_upload_bytes),
            "max_upload_bytes must be 1 to 5 GiB (S3's largest single PUT)"
        );
        anyhow::ensure!(
            (1..=7 * 24 * 3600).contains(&self.upload_url_ttl_secs)
                && (1..=7 * 24 * 3600).contains(&self.download_url_ttl_secs),
            "upload_url_ttl_secs and download_url_ttl_secs must be 1 to 604800 (S3's longest)"
        );
        anyhow::ensure!(
            self.upload_grace_secs > self.upload_url_ttl_secs,
            "upload_grace_secs must exceed upload_url_ttl_secs: an upload must not be swept \
             while its URL may still be used"
        );
        anyhow::ensure!(
            self.file_sweep_interval_ms >= 10,
            "file_sweep_interval_ms must be at least 10"
        );
        anyhow::ensure!(
            self.image_max_side_px >= 1 && self.image_max_decode_bytes >= 1024 * 1024,
            "image_max_side_px must be at least 1 and image_max_decode_bytes at least 1 MiB"
        );
        if self.s3_endpoint.is_some() {
            anyhow::ensure!(self.s3_bucket.is_some(), "s3_endpoint needs s3_bucket");
        }
        anyhow::ensure!(
            (1..=100_000).contains(&self.search_max_query_chars),
            "search_max_query_chars must be 1 to 100000"
        );
        if self.notify_webhook_url.is_some() {
            anyhow::ensure!(
                self.notify_webhook_secret
                    .as_ref()
                    .is_some_and(|s| s.len() >= 16),
                "notify_webhook_url needs notify_webhook_secret of at least 16 characters"
            );
        }
        anyhow::ensure!(
            self.notify_sink_concurrency >= 1 && self.notify_sink_timeout_ms >= 100,
            "notify_sink_concurrency must be at least 1 and notify_sink_timeout_ms at least 100"
        );
        anyhow::ensure!(
            self.notify_max_attempts >= 1
                && self.notify_poll_ms >= 10
                && self.notify_lease_ms > self.notify_sink_timeout_ms
                && self.notify_retry_base_ms >= 1,
            "notify_max_attempts and notify_retry_base_ms must be at least 1, notify_poll_ms at \
             least 10, and notify_lease_ms must exceed notify_sink_timeout_ms (a delivery must \
             end before another worker may take it over)"
        );
        anyhow::ensure!(
            self.max_push_subscriptions_per_user >= 1,
            "max_push_subscriptions_per_user must be at least 1"
        );
        anyhow::ensure!(
            (1..=100_000).contains(&self.max_drafts_per_user),
            "max_drafts_per_user must be 1 to 100000"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.max_mentions_per_message)
                && self.max_reactions_per_message <= 1000,
            "max_mentions_per_message must be 1 to 1000, max_reactions_per_message at most 1000 \
             (both size every socket's largest frame)"
        );
        Ok(())
    }

    pub fn files(&self) -> confab_chat::FileConfig {
        confab_chat::FileConfig {
            max_upload_bytes: self.max_upload_bytes,
            quota_bytes: self.upload_quota_bytes,
            upload_url_ttl: Duration::from_secs(self.upload_url_ttl_secs),
            download_url_ttl: Duration::from_secs(self.download_url_ttl_secs),
            unattached_grace: Duration::from_secs(self.upload_grace_secs),
            deleted_grace: Duration::from_secs(self.deleted_file_grace_secs),
            images: confab_chat::ImageLimits {
                max_side: self.image_max_side_px,
                max_alloc: self.image_max_decode_bytes,
            },
            public_base: self.public_url.clone(),
            max_uploads_in_flight: self.max_uploads_in_flight,
            max_uploads_per_user: self.max_uploads_per_user,
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
            sync_rate: RateSpec::per_minute(self.sync_rate_per_min, self.sync_rate_burst),
            session_life: confab_store::SessionLifetime {
                idle_micros: i64::from(self.session_idle_days) * DAY_MICROS,
                absolute_micros: i64::from(self.session_lifetime_days) * DAY_MICROS,
            },
            registration: self.registration.into(),
            max_drafts: self.max_drafts_per_user,
            upload_rate: RateSpec::per_minute(self.upload_rate_per_min, self.upload_rate_burst),
            search_rate: RateSpec::per_minute(self.search_rate_per_min, self.search_rate_burst),
            search_max_query_chars: self.search_max_query_chars,
            notify: confab_chat::NotifyConfig {
                push_delay: Duration::from_millis(self.notify_push_delay_ms),
                email_delay: Duration::from_millis(self.notify_email_delay_ms),
                webhook_delay: Duration::from_millis(self.notify_webhook_delay_ms),
                hide_content: self.notify_hide_content,
                max_attempts: self.notify_max_attempts,
                retry_base: Duration::from_millis(self.notify_retry_base_ms),
                lease: Duration::from_millis(self.notify_lease_ms),
                poll: Duration::from_millis(self.notify_poll_ms),
                max_push_subscriptions: self.max_push_subscriptions_per_user,
                push_allow_http: self.notify_push_allow_insecure,
                ..confab_chat::NotifyConfig::default()
            },
            ..ChatConfig::default()
        }
    }

    pub fn http_header_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_timeout_ms)
    }

    pub fn http_body_timeout(&self) -> Duration {
        Duration::from_millis(self.http_body_timeout_ms)
    }

    /// The web client's cookies: `Secure` behind https, living as long as a session may,
    /// usable only from the server's own pages (and `allowed_origins`).
    pub fn browser(&self) -> confab_api::browser::BrowserPolicy {
        let public_origin = self
            .public_url
            .as_deref()
            .and_then(confab_gateway::origin_of);
        confab_api::browser::BrowserPolicy {
            secure: public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://")),
            public_origin,
            allowed_origins: self.allowed_origins.clone(),
            session_max_age: Duration::from_secs(u64::from(self.session_lifetime_days) * 86_400),
        }
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

    /// Keys with a fixed set of values are enums: anything else is refused where it is read,
    /// from a flag or from the file.
    #[test]
    fn unknown_roles_formats_and_modes_are_refused() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            serve: ServeArgs,
        }
        use clap::Parser;
        for (flag, value) in [
            ("--role", "router"),
            ("--log-format", "xml"),
            ("--registration", "sometimes"),
        ] {
            assert!(
                Flags::try_parse_from(["confab", flag, value]).is_err(),
                "{flag} {value} was accepted"
            );
        }
        let parsed = Flags::try_parse_from(["confab", "--role", "chat", "--log-format", "json"])
            .expect("valid flags");
        assert_eq!(parsed.serve.role, Some(Role::Chat));
        assert_eq!(parsed.serve.log_format, Some(LogFormat::Json));
        let dir = tempfile::tempdir().expect("temp dir");
        for toml in [
            "role = \"router\"",
            "log_format = \"xml\"",
            "registration = \"maybe\"",
        ] {
            let path = dir.path().join("confab.toml");
            std::fs::write(&path, toml).expect("write");
            let args = ServeArgs {
                config: Some(path),
                ..ServeArgs::default()
            };
            assert!(Config::load(&args).is_err(), "{toml} was accepted");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            // Split roles need Redis and the secret; a gateway needs chat services.
            ServeArgs {
                role: Some(Role::Chat),
                cluster_secret: Some("0123456789abcdef".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some(Role::Chat),
                redis_url: Some("redis://127.0.0.1".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some(Role::Chat),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("short".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some(Role::Chat),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("0123456789abcdef ".into()),
                ..ServeArgs::default()
            },
            ServeArgs {
                role: Some(Role::Gateway),
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
                role: Some(Role::Gateway),
                redis_url: Some("redis://127.0.0.1".into()),
                cluster_secret: Some("0123456789abcdef".into()),
                chat_url: Some(vec!["10.0.0.1:8080".into()]),
                ..ServeArgs::default()
            },
        ] {
            assert!(Config::load(&bad).is_err(), "{bad:?} was accepted");
        }
        let gateway = ServeArgs {
            role: Some(Role::Gateway),
            redis_url: Some("redis://127.0.0.1".into()),
            cluster_secret: Some("0123456789abcdef".into()),
            chat_url: Some(vec![
                "http://10.0.0.1:8080".into(),
                "http://10.0.0.2:8080".into(),
            ]),
            ..ServeArgs::default()
        };
        assert_eq!(Config::load(&gateway).expect("valid").role, Role::Gateway);
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
