//! The internal wire between a gateway and a chat service deployed apart (`--role gateway`
//! calling `--role chat`): one call per request to `POST /internal/v1/rpc`, authenticated by
//! the cluster secret. Not a public API: both ends ship in the same binary, and a fleet is
//! upgraded chat services first (new calls are only ever added).
//!
//! [`gateway_calls!`] is the one list of calls. The gateway's `ChatBackend` trait, this
//! module's [`GatewayCall`], and both ends of the RPC (`confab_gateway::rpc`) are generated
//! from it, so adding a call is one entry here plus its in-process implementation.

use confab_core::{ChannelId, ErrorCode, SessionId, UserId};
use serde::{Deserialize, Serialize};

pub const RPC_PATH: &str = "/internal/v1/rpc";

/// A `send` frame's request, as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendCommand {
    pub channel_id: String,
    pub client_msg_id: String,
    pub body: String,
    pub thread_root_id: Option<String>,
    pub file_ids: Vec<String>,
}

/// The acknowledgement of a committed send.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendAck {
    pub message_id: String,
    pub seq: i64,
    pub ts: String,
}

/// Calls `$then!` with every gateway→chat call, each as
/// `policy Variant method(arg: Type [=> Owned], …) -> Answer;` with its doc:
/// - `policy` is `retry` (safe to repeat on another chat service after any failure: a read,
///   or a write that is idempotent, such as a send keyed by `(author, client_msg_id)`) or
///   `once` (it may take effect before its answer is lost, as redeeming a ticket does: it is
///   tried elsewhere only when it surely never reached the first chat service);
/// - `Type` is what the `ChatBackend` method takes and `Owned` (when it borrows) what the wire
///   carries;
/// - `Answer` is the method's success, which is also the reply's JSON.
#[macro_export]
macro_rules! gateway_calls {
    ($then:ident) => {
        $then! {
            /// The user and session (device) a bearer token belongs to.
            retry Authenticate authenticate(token: &str => String) -> (UserId, SessionId);
            /// The user and session a WebSocket ticket was issued to (consuming it).
            once RedeemTicket redeem_ticket(ticket: &str => String) -> (UserId, SessionId);
            /// Whether a session is still signed in (checked for each socket after it
            /// registers and every few minutes after).
            retry SessionLive session_live(session_id: &SessionId => SessionId) -> bool;
            /// Every channel the user is in.
            retry UserChannelIds user_channel_ids(user_id: &UserId => UserId) -> Vec<ChannelId>;
            /// The channel's latest sequence number.
            retry LastSeq last_seq(channel_id: &ChannelId => ChannelId) -> i64;
            /// The channel's changes after `after`, as events (how a gateway fills a hole).
            retry ChangesAfter changes_after(
                channel_id: &ChannelId => ChannelId,
                after: i64,
                limit: u32
            ) -> Vec<ChannelEvent>;
            /// Sends a message; a retry with the same `client_msg_id` finds the original.
            retry Send send(user_id: &UserId => UserId, cmd: SendCommand) -> SendAck;
            /// Forwards a typing indicator (throttled and authorised by the chat service).
            retry Typing typing(user_id: &UserId => UserId, channel_id: &str => String) -> ();
            /// Moves the user's read cursor (forward only); every device hears of it on the
            /// user's topic.
            retry MarkRead mark_read(
                user_id: &UserId => UserId,
                channel_id: &str => String,
                seq: i64
            ) -> i64;
            /// Which of `users` the user may watch the presence of.
            retry PresenceVisible presence_visible(
                user_id: &UserId => UserId,
                users: &[UserId] => Vec<UserId>
            ) -> Vec<UserId>;
        }
    };
}

/// The wire type of a call's argument: the owned form when the method borrows.
#[doc(hidden)]
#[macro_export]
macro_rules! wire_type {
    ($ty:ty) => {
        $ty
    };
    ($ty:ty => $owned:ty) => {
        $owned
    };
}

macro_rules! gateway_call_enum {
    ($(
        $(#[doc = $doc:literal])*
        $policy:ident $variant:ident $method:ident(
            $($arg:ident : $ty:ty $(=> $owned:ty)?),* $(,)?
        ) -> $answer:ty;
    )*) => {
        /// What a gateway asks of the chat service: one variant a `ChatBackend` method.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "call", rename_all = "snake_case")]
        pub enum GatewayCall {
            $(
                $(#[doc = $doc])*
                $variant { $($arg: $crate::wire_type!($ty $(=> $owned)?)),* },
            )*
        }

        impl GatewayCall {
            /// Whether the call may be repeated on another chat service after a failure that
            /// could have come after it took effect.
            pub fn retryable(&self) -> bool {
                match self {
                    $( GatewayCall::$variant { .. } => gateway_call_enum!(@retry $policy), )*
                }
            }
        }
    };
    (@retry retry) => { true };
    (@retry once) => { false };
}

gateway_calls!(gateway_call_enum);

/// A refused or failed call, answered with the code's HTTP status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RpcError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire keeps its shape: a call is tagged with its method's name, and its fields are
    /// the arguments, owned.
    #[test]
    fn calls_are_tagged_with_their_method() {
        let user = UserId::generate();
        let call = GatewayCall::MarkRead {
            user_id: user.clone(),
            channel_id: "c".into(),
            seq: 7,
        };
        let json = serde_json::to_value(&call).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"call": "mark_read", "user_id": user.as_str(), "channel_id": "c", "seq": 7})
        );
        assert!(call.retryable());
        let redeem = GatewayCall::RedeemTicket { ticket: "t".into() };
        assert!(!redeem.retryable(), "a ticket is spent by the first try");
    }
}
