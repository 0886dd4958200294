//! The chat service's errors. Each maps onto one stable [`ErrorCode`]; callers (HTTP, the
//! WebSocket gateway) answer with that code and never with an internal detail.

use std::borrow::Cow;
use std::time::Duration;

use confab_core::{ErrorCode, ValidationError};
use confab_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A refusal decided by chat logic: permissions, visibility, bad combinations.
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        message: Cow<'static, str>,
    },
    #[error("too many requests; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error while {0}")]
    Internal(&'static str),
    /// A dependency other than the store (file storage) could not be reached.
    #[error("unavailable while {0}")]
    Unavailable(&'static str),
}

impl ChatError {
    pub fn refused(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ChatError::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::Invalid(e) => e.code(),
            ChatError::Refused { code, .. } => *code,
            ChatError::RateLimited { .. } => ErrorCode::RateLimited,
            ChatError::Store(e) => e.code(),
            ChatError::Internal(_) => ErrorCode::Internal,
            ChatError::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    /// How long a caller should wait before retrying, for the errors worth retrying.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ChatError::RateLimited { retry_after } => Some(*retry_after),
            _ if self.code() == ErrorCode::Unavailable => Some(std::time::Duration::from_secs(1)),
            _ => None,
        }
    }

    /// Logs an error the caller cannot be blamed for, once, where it is answered.
    pub fn log(&self, path: &'static str) {
        match self.code() {
            ErrorCode::Internal => tracing::error!(error = ?self, path, "request failed"),
            ErrorCode::Unavailable => tracing::warn!(error = ?self, path, "dependency unavailable"),
            _ => {}
        }
    }

    /// The message a client may see: internal and unavailability details stay in the logs.
    pub fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => "internal error".to_owned(),
            ErrorCode::Unavailable => "service temporarily unavailable; retry".to_owned(),
            _ => self.to_string(),
        }
    }
}

pub type ChatResult<T> = Result<T, ChatError>;
