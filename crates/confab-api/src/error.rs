//! The HTTP face of errors: status from [`ErrorCode::http_status`], SPEC's
//! `{"error": {"code", "message"}}` body, `Retry-After` on 429 and 503. Internal errors are
//! logged here, where they are handled, with their full chain, and answered without it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_chat::ChatError;
use confab_core::ErrorCode;
use confab_protocol::http::{ErrorBody, ErrorResponse};

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        err.log("http");
        Self {
            code: err.code(),
            message: err.public_message(),
            retry_after_secs: err.retry_after().map(|d| d.as_secs().max(1)),
        }
    }
}

impl From<confab_core::ValidationError> for ApiError {
    fn from(err: confab_core::ValidationError) -> Self {
        ChatError::from(err).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code.as_str().to_owned(),
                message: self.message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
