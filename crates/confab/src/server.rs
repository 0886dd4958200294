//! Starting and stopping a confab of any role: `start` binds (port 0 works), wires what the
//! role needs, and reports the bound address; `Running::stop` shuts down gracefully: stop
//! accepting, close sockets with 1001, finish in-flight requests (and so their commits),
//! close the database.
//!
//! - `all`: store, bus, chat service, HTTP API and gateway in one process; the bus and presence
//!   are in-process unless `redis_url` is set.
//! - `chat`: store, chat service and HTTP API, plus the internal calls gateways make; Redis
//!   carries its events to the gateways.
//! - `gateway`: WebSockets only; every read and write goes to the chat services
//!   (`chat_url`), events come from Redis.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;

use confab_api::ApiState;
use confab_bus::{
    Bus, MemoryBus, MemoryPresence, PresenceRegistry, RedisBus, RedisPresence, presence_upkeep,
};
use confab_chat::{ChatService, KeyedLimiter};
use confab_gateway::{Gateway, RemoteBackend, rpc_router};
use confab_store::Store;
use confab_store::postgres::PgStore;
use confab_store::sqlite::SqliteStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backend::LocalBackend;
use crate::config::{Config, Role};

pub struct Running {
    pub local_addr: SocketAddr,
    stop: CancellationToken,
    gateway: Option<Arc<Gateway>>,
    store: Option<StoreHandle>,
    memory_bus: Option<MemoryBus>,
    http: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

/// The configured store, as `serve` opens it (for `confab admin`).
pub async fn open_store(config: &Config) -> anyhow::Result<StoreHandle> {
    StoreHandle::open(config).await
}

/// The configured store, kept concrete so it can be closed.
#[derive(Clone)]
pub enum StoreHandle {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

/// Backoff between attempts at reaching PostgreSQL at start: doubling from 100 ms to 5 s,
/// each wait drawn between half and all of it, so a fleet restarted together does not retry
/// in lockstep.
const START_RETRY_MIN: Duration = Duration::from_millis(100);
const START_RETRY_MAX: Duration = Duration::from_secs(5);

fn jittered(backoff: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    backoff / 2 + backoff.mul_f64(f64::from(byte[0]) / 510.0)
}

impl StoreHandle {
    async fn open(config: &Config) -> anyhow::Result<Self> {
        Ok(match &config.database_url {
            Some(url) => {
                // PostgreSQL may be down or still starting (a deploy, a host reboot): keep
                // trying, answering 503 and not ready meanwhile, rather than exit and leave a
                // unit failed. Anything but unavailability (a bad password, a failed
                // migration) stops the start.
                let mut backoff = START_RETRY_MIN;
                let store = loop {
                    match PgStore::connect(url, config.database_max_connections).await {
                        Ok(store) => break store,
                        Err(error @ confab_store::StoreError::Unavailable { .. }) => {
                            tracing::warn!(%error, retry_in = ?backoff, "PostgreSQL unavailable; retrying");
                            tokio::time::sleep(jittered(backoff)).await;
                            backoff = (backoff * 2).min(START_RETRY_MAX);
                        }
                        Err(error) => {
                            return Err(
                                anyhow::Error::new(error).context("connecting to PostgreSQL")
                            );
                        }
                    }
                };
                StoreHandle::Postgres(Arc::new(store))
            }
            None => StoreHandle::Sqlite(Arc::new(
                SqliteStore::open_dir(&config.data_dir)
                    .await
                    .with_context(|| {
                        format!("opening the store in {}", config.data_dir.display())
                    })?,
            )),
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            StoreHandle::Sqlite(s) => s.clone(),
            StoreHandle::Postgres(s) => s.clone(),
        }
    }

    pub async fn close(&self) {
        match self {
            StoreHandle::Sqlite(s) => s.close().await,
            StoreHandle::Postgres(s) => s.close().await,
        }
    }
}

/// Bus and presence: Redis when configured, else in-process (one node only).
async fn open_bus(
    config: &Config,
) -> anyhow::Result<(Arc<dyn Bus>, Arc<dyn PresenceRegistry>, Option<MemoryBus>)> {
    Ok(match &config.redis_url {
        Some(url) => {
            let bus = RedisBus::connect_with_budget(
                url,
                &config.redis_prefix,
                config.bus_publish_queue_bytes,
            )
            .await
            .context("connecting to Redis")?;
            let presence = RedisPresence::connect(
                url,
                &config.redis_prefix,
                Duration::from_millis(config.presence_ttl_ms),
            )
            .await
            .context("connecting to Redis for presence")?;
            (Arc::new(bus), Arc::new(presence), None)
        }
        None => {
            let bus = MemoryBus::new();
            (
                Arc::new(bus.clone()),
                Arc::new(MemoryPresence::new()),
                Some(bus),
            )
        }
    })
}

/// Starts a server. `render_metrics` renders `/metrics` (the binary installs the recorder).
pub async fn start(
    config: &Config,
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
) -> anyhow::Result<Running> {
    start_announcing(config, render_metrics, |_| {}).await
}

/// Starts a server, calling `on_bound` as soon as it listens: from then on it answers, at
/// first `/healthz` with 200 and everything else (`/readyz` included) with 503, until what it
/// depends on (PostgreSQL) is reached and the whole API takes over.
pub async fn start_announcing(
    config: &Config,
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
    on_bound: impl FnOnce(SocketAddr),
) -> anyhow::Result<Running> {
    let role = config.role;
    let listener = bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let (app_slot, app) =
        tokio::sync::watch::channel(starting_router(render_metrics.clone(), config)?);
    let http = tokio::spawn(crate::http_serve::serve(
        listener,
        app,
        config.http_header_timeout(),
        stop.clone(),
    ));
    on_bound(local_addr);
    let (bus, presence, memory_bus) = open_bus(config).await?;
    let mut background = Vec::new();
    let mut store = None;
    let mut gateway = None;
    let app = match role {
        Role::Gateway => {
            let backend = RemoteBackend::new(config.chat_url.clone(), config.secret()?)
                .map_err(anyhow::Error::msg)?;
            let gw = Arc::new(Gateway::new(
                Arc::new(backend),
                bus,
                presence,
                config.gateway(),
            ));
            let app = gateway_only_router(gw.router(), render_metrics, config)?;
            gateway = Some(gw);
            app
        }
        Role::All | Role::Chat => {
            let handle = StoreHandle::open(config).await?;
            let chat = Arc::new(
                ChatService::new(handle.store(), bus.clone(), presence.clone(), config.chat())
                    .with_files(crate::files::open(config).await?)
                    .with_sinks(crate::notify::sinks(config).await?),
            );
            // Stopped with the other background tasks; what it held passes to another
            // worker when its lease runs out.
            let worker = confab_chat::NotifyWorker::new(chat.clone());
            background.push(tokio::spawn(worker.run(std::future::pending())));
            store = Some(handle);
            let auth_limiter = Arc::new(KeyedLimiter::new(config.auth_rate()));
            let state = ApiState {
                chat: chat.clone(),
                auth_limiter: auth_limiter.clone(),
                body_timeout: config.http_body_timeout(),
                upload_time_limit: Duration::from_secs(config.upload_url_ttl_secs),
                trusted_proxies: trusted_proxies(config)?,
                metrics_token: config.metrics_token.clone(),
                render_metrics,
                browser: config.browser(),
            };
            let extra = if role == Role::Chat {
                // No gateway here sweeps presence, and gateways may all be gone.
                background.push(tokio::spawn(presence_upkeep(
                    presence,
                    bus,
                    config.gateway().presence_heartbeat,
                )));
                rpc_router(Arc::new(LocalBackend(chat.clone())), config.secret()?)
            } else {
                let gw = Arc::new(Gateway::new(
                    Arc::new(LocalBackend(chat.clone())),
                    bus,
                    presence,
                    config.gateway(),
                ));
                let router = gw.router();
                gateway = Some(gw);
                router
            };
            let sweeper = chat.clone();
            let sweep_every = Duration::from_millis(config.file_sweep_interval_ms);
            background.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(sweep_every);
                loop {
                    every.tick().await;
                    if let Err(error) = sweeper.sweep_files().await {
                        tracing::warn!(%error, "file sweep");
                    }
                }
            }));
            background.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    chat.sweep_limiters();
                    auth_limiter.sweep();
                }
            }));
            // The web client is served wherever the API is.
            // Browsers upload straight to an S3 bucket: its origin joins the pages' policy.
            let bucket = config
                .s3_bucket
                .as_ref()
                .map(|_| {
                    confab_blob::S3Config::endpoint_for(
                        &config.s3_region,
                        config.s3_endpoint.as_deref(),
                    )
                })
                .and_then(|endpoint| confab_gateway::origin_of(&endpoint));
            confab_api::router(
                state,
                extra.merge(confab_web::router_uploading_to(bucket.as_deref())),
            )
        }
    };

    drop(app_slot.send_replace(app));
    Ok(Running {
        local_addr,
        stop,
        gateway,
        store,
        memory_bus,
        http,
        background,
    })
}

/// What answers while the server waits for what it depends on: alive, not ready, every
/// request a retryable 503.
fn starting_router(
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
    config: &Config,
) -> anyhow::Result<Router> {
    use axum::http::StatusCode;
    use axum::routing::get;
    Ok(Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "starting: waiting for the database",
                )
            }),
        )
        .route("/metrics", metrics_route(render_metrics, config)?)
        // A gateway calling this chat service reads the internal error shape, and with it
        // when to try again.
        .route(
            confab_protocol::internal::RPC_PATH,
            axum::routing::post(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(confab_protocol::internal::RpcError {
                        code: confab_core::ErrorCode::Unavailable,
                        message: "starting: waiting for the database".into(),
                        retry_after_ms: Some(1000),
                    }),
                )
            }),
        )
        .fallback(|| async {
            confab_api::ApiError {
                code: confab_core::ErrorCode::Unavailable,
                message: "starting: waiting for the database; retry".into(),
                retry_after_secs: Some(1),
            }
        }))
}

/// A gateway's HTTP surface: the WebSocket endpoint, health and metrics.
fn gateway_only_router(
    ws: Router,
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
    config: &Config,
) -> anyhow::Result<Router> {
    use axum::routing::get;
    Ok(ws
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", metrics_route(render_metrics, config)?)
        .fallback(|| async {
            confab_api::ApiError::new(
                confab_core::ErrorCode::NotFound,
                "a gateway serves only /api/v1/ws",
            )
        })
        .layer(axum::middleware::map_response(confab_api::api_headers)))
}

fn trusted_proxies(config: &Config) -> anyhow::Result<confab_api::TrustedProxies> {
    confab_api::TrustedProxies::parse(&config.trusted_proxies)
        .map_err(|bad| anyhow::anyhow!("trusted_proxies: {bad:?}"))
}

/// `/metrics` outside the API router (a gateway, a server still starting), with the same
/// rule as inside it: the token, else this machine only.
fn metrics_route(
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
    config: &Config,
) -> anyhow::Result<axum::routing::MethodRouter> {
    let trusted = trusted_proxies(config)?;
    let token = config.metrics_token.clone();
    Ok(axum::routing::get(
        move |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
              headers: axum::http::HeaderMap| async move {
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok());
            let client = trusted.client(peer.ip(), forwarded);
            confab_api::serve_metrics(client, &headers, token.as_deref(), &*render_metrics)
        },
    ))
}

impl Running {
    /// The store underneath (roles `all` and `chat`), for tools and tests that must reach
    /// past the API, for example to commit a change whose publish is lost.
    pub fn store(&self) -> Option<Arc<dyn Store>> {
        self.store.as_ref().map(StoreHandle::store)
    }

    /// The in-process bus, when there is one, for tests that inject or reorder deliveries.
    pub fn bus(&self) -> Option<MemoryBus> {
        self.memory_bus.clone()
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        // Upgraded sockets are not HTTP requests: the gateway closes and waits for them itself.
        if let Some(gateway) = &self.gateway {
            gateway.shutdown().await;
        }
        self.http.await.context("joining the http server")??;
        for task in &self.background {
            task.abort();
        }
        if let Some(store) = &self.store {
            store.close().await;
        }
        Ok(())
    }
}

/// Connections the kernel may hold for us before we accept them (capped by
/// `net.core.somaxconn`). Tokio's default, std's, is 128: when a gateway dies its clients
/// reconnect to the others all at once, and past the backlog their handshakes are dropped and
/// retried seconds later.
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(listen: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let mut failed = None;
    // Each address the name resolves to in turn, as `TcpListener::bind` does.
    for addr in tokio::net::lookup_host(listen).await? {
        match bind_addr(addr) {
            Ok(listener) => return Ok(listener),
            Err(error) => failed = Some(error),
        }
    }
    Err(match failed {
        Some(error) => error.into(),
        None => anyhow::anyhow!("{listen} resolves to no address"),
    })
}

fn bind_addr(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std and tokio do on Unix: a restarted server can bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
