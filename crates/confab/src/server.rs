//! Starting and stopping a whole confab: `start` binds (port 0 works), wires store, bus, chat
//! service, gateway and HTTP, and reports the bound address; `Running::stop` shuts down
//! gracefully: stop accepting, close sockets with 1001, finish in-flight requests (and so
//! their commits), close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;

use confab_api::ApiState;
use confab_bus::{MemoryBus, MemoryPresence, PresenceRegistry};

use confab_chat::{ChatService, KeyedLimiter};
use confab_gateway::Gateway;
use confab_store::sqlite::SqliteStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backend::LocalBackend;
use crate::config::Config;

pub struct Running {
    pub local_addr: SocketAddr,
    stop: CancellationToken,
    gateway: Arc<Gateway>,
    store: Arc<SqliteStore>,
    bus: MemoryBus,
    http: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
}

/// Starts a server. `render_metrics` renders `/metrics` (the binary installs the recorder).
pub async fn start(
    config: &Config,
    render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
) -> anyhow::Result<Running> {
    let store = Arc::new(
        SqliteStore::open_dir(&config.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", config.data_dir.display()))?,
    );
    let bus = MemoryBus::new();
    let presence: Arc<dyn PresenceRegistry> = Arc::new(MemoryPresence::new());
    let chat = Arc::new(ChatService::new(
        store.clone(),
        Arc::new(bus.clone()),
        presence.clone(),
        config.chat(),
    ));
    let gateway = Arc::new(Gateway::new(
        Arc::new(LocalBackend(chat.clone())),
        Arc::new(bus.clone()),
        presence,
        config.gateway(),
    ));
    let auth_limiter = Arc::new(KeyedLimiter::new(config.auth_rate()));
    let state = ApiState {
        chat: chat.clone(),
        auth_limiter: auth_limiter.clone(),
        render_metrics,
    };
    let app = confab_api::router(state, gateway.router());

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let http = tokio::spawn(
        axum::serve(
            // Frames are small and latency-sensitive: never hold one back waiting for the
            // peer's ACK of the previous (Nagle), which cost ~12 ms per ack under load.
            listener.tap_io(|tcp| {
                if let Err(error) = tcp.set_nodelay(true) {
                    tracing::warn!(%error, "could not set TCP_NODELAY");
                }
            }),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future(),
    );
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            chat.sweep_limiters();
            auth_limiter.sweep();
        }
    });
    Ok(Running {
        local_addr,
        stop,
        gateway,
        store,
        bus,
        http,
        sweeper,
    })
}

impl Running {
    /// The store underneath, for tools and tests that must reach past the API (for example to
    /// commit a change whose publish is lost).
    pub fn store(&self) -> Arc<SqliteStore> {
        self.store.clone()
    }

    /// The in-process bus, for tests that inject or reorder deliveries.
    pub fn bus(&self) -> MemoryBus {
        self.bus.clone()
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        // Upgraded sockets are not HTTP requests: the gateway closes and waits for them itself.
        self.gateway.shutdown().await;
        self.http.await.context("joining the http server")??;
        self.sweeper.abort();
        self.store.close().await;
        Ok(())
    }
}
