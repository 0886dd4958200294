//! Gateway limits and timings.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Largest frame or message a client may send; larger ones close the socket with 1009.
    pub max_frame_bytes: usize,
    /// Frames queued for one socket before it counts as a slow consumer and is cut off.
    pub send_queue: usize,
    /// Sends read from one socket and not yet acknowledged; past this the gateway stops
    /// reading that socket until one completes.
    pub max_pending_sends: usize,
    /// How often the server pings; also the `heartbeat_ms` in `hello`.
    pub ping_interval: Duration,
    /// A socket silent (no frame, no pong) this long is dropped.
    pub idle_timeout: Duration,
    /// How long an out-of-order event waits for the missing ones before the gateway fills the
    /// hole from the store.
    pub reorder_wait: Duration,
    /// How long a channel subscription outlives its last local socket, so reconnect storms do
    /// not churn subscriptions.
    pub hub_linger: Duration,
    /// Browser origins allowed to open a socket besides the server's own; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// The server's own origin (from `public_url`), when configured.
    pub public_origin: Option<String>,
    pub max_connections: usize,
    /// Deliveries the gateway's bus subscription may queue before it must resync from the
    /// store.
    pub bus_queue: usize,
    /// How often the gateway renews its presence liveness and sweeps gateways that stopped
    /// renewing theirs (shared presence only).
    pub presence_heartbeat: Duration,
    /// Events a channel's hub holds ahead of a hole it cannot fill yet (the store away, say);
    /// past it the hub drops them and reads them back from the store once it answers.
    pub hub_pending_limit: usize,
    /// Sockets one user may hold at once here; one more is refused with 429 at the handshake.
    pub max_sockets_per_user: usize,
    /// The largest frame the server may send (`Limits::max_event_frame_bytes`): a socket's
    /// write buffer holds at least this, so no event is ever too large to write.
    pub max_event_frame_bytes: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            send_queue: 512,
            max_pending_sends: 32,
            // Ping every 4 s, drop after 9 s of silence: a silently dead client is noticed well
            // inside the 10-second presence target.
            ping_interval: Duration::from_secs(4),
            idle_timeout: Duration::from_secs(9),
            reorder_wait: Duration::from_millis(50),
            hub_linger: Duration::from_secs(30),
            allowed_origins: Vec::new(),
            public_origin: None,
            max_connections: 18_000,
            bus_queue: 65_536,
            presence_heartbeat: Duration::from_secs(2),
            hub_pending_limit: 4096,
            max_sockets_per_user: 32,
            max_event_frame_bytes: confab_core::Limits::default().max_event_frame_bytes(),
        }
    }
}
