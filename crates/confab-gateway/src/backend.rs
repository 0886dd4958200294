//! What a gateway needs from the chat service. In `--role all` this is the in-process chat
//! service; a gateway deployed apart reaches the chat service over HTTP instead. The gateway
//! itself holds no chat logic and writes nothing to the store.

use std::time::Duration;

use async_trait::async_trait;
use confab_core::{ChannelEvent, ChannelId, ErrorCode, SessionId, UserId};

#[derive(Debug, Clone)]
pub struct BackendError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<Duration>,
}

/// A `send` frame's request, as received.
#[derive(Debug, Clone)]
pub struct SendCommand {
    pub channel_id: String,
    pub client_msg_id: String,
    pub body: String,
    pub thread_root_id: Option<String>,
    pub file_ids: Vec<String>,
}

/// The acknowledgement of a committed send.
#[derive(Debug, Clone)]
pub struct SendAck {
    pub message_id: String,
    pub seq: i64,
    pub ts: String,
}

#[async_trait]
pub trait ChatBackend: Send + Sync + 'static {
    /// The user and session (device) a bearer token belongs to.
    async fn authenticate(&self, token: &str) -> Result<(UserId, SessionId), BackendError>;
    /// The user and session a WebSocket ticket was issued to (consuming it).
    async fn redeem_ticket(&self, ticket: &str) -> Result<(UserId, SessionId), BackendError>;
    /// Whether a session is still signed in (checked for each socket after it registers
    /// and every few minutes after).
    async fn session_live(&self, session: &SessionId) -> Result<bool, BackendError>;
    async fn user_channel_ids(&self, user: &UserId) -> Result<Vec<ChannelId>, BackendError>;
    async fn last_seq(&self, channel: &ChannelId) -> Result<i64, BackendError>;
    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChannelEvent>, BackendError>;
    async fn send(&self, user: &UserId, cmd: SendCommand) -> Result<SendAck, BackendError>;
    /// Forwards a typing indicator (throttled and authorised by the chat service).
    async fn typing(&self, user: &UserId, channel_id: &str) -> Result<(), BackendError>;
    /// Moves the user's read cursor; every device hears of it on the user's topic.
    async fn mark_read(
        &self,
        user: &UserId,
        channel_id: &str,
        seq: i64,
    ) -> Result<i64, BackendError>;
    /// Which of `users` the user may watch the presence of.
    async fn presence_visible(
        &self,
        user: &UserId,
        users: &[UserId],
    ) -> Result<Vec<UserId>, BackendError>;
}
