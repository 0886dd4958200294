//! The internal wire between a gateway and a chat service deployed apart (`--role gateway`
//! calling `--role chat`): one call per request to `POST /internal/v1/rpc`, authenticated by
//! the cluster secret. Not a public API: both ends ship in the same binary, and a fleet is
//! upgraded chat services first (new calls are only ever added).

use confab_core::{ChannelEvent, ChannelId, ErrorCode, SessionId, UserId};
use serde::{Deserialize, Serialize};

pub const RPC_PATH: &str = "/internal/v1/rpc";

/// What a gateway asks of the chat service: the gateway's `ChatBackend`, one variant a method.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum GatewayCall {
    Authenticate {
        token: String,
    },
    RedeemTicket {
        ticket: String,
    },
    /// Whether a session is still signed in (a gateway checks its sockets' sessions).
    SessionLive {
        session_id: SessionId,
    },
    UserChannelIds {
        user_id: UserId,
    },
    LastSeq {
        channel_id: ChannelId,
    },
    ChangesAfter {
        channel_id: ChannelId,
        after: i64,
        limit: u32,
    },
    Send {
        user_id: UserId,
        channel_id: String,
        client_msg_id: String,
        body: String,
        thread_root_id: Option<String>,
        file_ids: Vec<String>,
    },
    Typing {
        user_id: UserId,
        channel_id: String,
    },
    MarkRead {
        user_id: UserId,
        channel_id: String,
        seq: i64,
    },
    PresenceVisible {
        user_id: UserId,
        users: Vec<UserId>,
    },
}

/// A successful answer; which variant depends on the call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum GatewayReply {
    /// An authenticated caller: the user and the session (device) the credential belongs to.
    User {
        user_id: UserId,
        session_id: SessionId,
    },
    Channels {
        channel_ids: Vec<ChannelId>,
    },
    Seq {
        seq: i64,
    },
    Events {
        events: Vec<ChannelEvent>,
    },
    Ack {
        message_id: String,
        seq: i64,
        ts: String,
    },
    Users {
        user_ids: Vec<UserId>,
    },
    Live {
        live: bool,
    },
    Done,
}

/// A refused or failed call, answered with the code's HTTP status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RpcError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_ms: Option<u64>,
}
