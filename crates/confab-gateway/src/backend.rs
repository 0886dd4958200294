//! What a gateway needs from the chat service. In `--role all` this is the in-process chat
//! service; a gateway deployed apart reaches the chat service over HTTP instead. The gateway
//! itself holds no chat logic and writes nothing to the store.
//!
//! [`ChatBackend`] is generated from the one list of calls,
//! [`confab_protocol::gateway_calls!`], as both ends of the RPC are (`rpc.rs`).

use std::time::Duration;

use async_trait::async_trait;
use confab_core::{ChannelEvent, ChannelId, ErrorCode, SessionId, UserId};
pub use confab_protocol::internal::{SendAck, SendCommand};

#[derive(Debug, Clone)]
pub struct BackendError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<Duration>,
}

macro_rules! backend_trait {
    ($(
        $(#[doc = $doc:literal])*
        $policy:ident $variant:ident $method:ident(
            $($arg:ident : $ty:ty $(=> $owned:ty)?),* $(,)?
        ) -> $answer:ty;
    )*) => {
        /// Every call a gateway makes to the chat service.
        #[async_trait]
        pub trait ChatBackend: Send + Sync + 'static {
            $(
                $(#[doc = $doc])*
                async fn $method(&self, $($arg: $ty),*) -> Result<$answer, BackendError>;
            )*
        }
    };
}

confab_protocol::gateway_calls!(backend_trait);
