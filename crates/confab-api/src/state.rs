//! What every handler can reach.

use std::net::IpAddr;
use std::sync::Arc;

use confab_chat::{ChatService, KeyedLimiter};

#[derive(Clone)]
pub struct ApiState {
    pub chat: Arc<ChatService>,
    /// Login and registration attempts per client address.
    pub auth_limiter: Arc<KeyedLimiter<IpAddr>>,
    /// Renders `/metrics`; the binary owns the recorder.
    pub render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
    /// How long a request's body may take to arrive, whole; for an upload, between chunks.
    pub body_timeout: std::time::Duration,
    /// How long one upload's body may take in all.
    pub upload_time_limit: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    /// A bearer token that reads `/metrics` from anywhere; unset, only this machine may.
    pub metrics_token: Option<String>,
    /// The web client's session cookies and whose pages may use them.
    pub browser: crate::browser::BrowserPolicy,
}
