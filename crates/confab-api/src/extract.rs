//! Extractors that answer bad input in SPEC's error shape: the bearer token, JSON bodies and
//! query strings.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use confab_core::{ErrorCode, SessionId, UserId};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::ApiState;

/// The authenticated caller, from `Authorization: Bearer <token>` or, for the web client, the
/// session cookie (`browser.rs`).
pub struct AuthUser {
    pub id: UserId,
    /// The session (device) the token belongs to.
    pub session: SessionId,
    pub token: String,
    /// Whether the session cookie, not a header, named the session.
    pub by_cookie: bool,
}

impl AuthUser {
    pub fn caller(&self) -> confab_chat::Caller {
        confab_chat::Caller {
            user: self.id.clone(),
            session: self.session.clone(),
        }
    }
}

pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    confab_protocol::http::bearer_token(value)
}

impl FromRequestParts<ApiState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let (token, by_cookie) = match bearer_token(parts) {
            Some(token) => (token.to_owned(), false),
            None => {
                let token = crate::browser::cookie(&parts.headers, crate::browser::SESSION_COOKIE)
                    .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "missing bearer token"))?
                    .to_owned();
                state.browser.check_origin(parts)?;
                (token, true)
            }
        };
        let caller = state.chat.authenticate(&token).await?;
        Ok(AuthUser {
            id: caller.user,
            session: caller.session,
            token,
            by_cookie,
        })
    }
}

/// A JSON body; malformed JSON, a wrong type, an unknown field, a missing content type or an
/// oversized body each get their own 4xx.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        object(json_value(req, state).await?).map(Json)
    }
}

async fn json_value<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<serde_json::Value, ApiError> {
    match axum::Json::<serde_json::Value>::from_request(req, state).await {
        Ok(axum::Json(value)) => Ok(value),
        Err(rejection) => Err(json_rejection(rejection)),
    }
}

/// Every request body is a JSON object. serde would also read a struct from an array (field
/// by field, in order): `["x", "hi"]` renamed a channel. So: an object first.
fn object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let code = match &rejection {
        JsonRejection::JsonSyntaxError(_) => ErrorCode::InvalidJson,
        JsonRejection::JsonDataError(_) => ErrorCode::InvalidRequest,
        JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        _ => ErrorCode::InvalidRequest,
    };
    ApiError::new(code, rejection.body_text())
}

/// A JSON body that may be absent altogether (no bytes at all, or JSON `null`): then
/// `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|len| len.as_bytes() == b"0")
            || (!req.headers().contains_key(axum::http::header::CONTENT_TYPE)
                && !req
                    .headers()
                    .contains_key(axum::http::header::TRANSFER_ENCODING)
                && !req
                    .headers()
                    .contains_key(axum::http::header::CONTENT_LENGTH));
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        match json_value(req, state).await? {
            serde_json::Value::Null => Ok(OptionalJson(T::default())),
            value => object(value).map(OptionalJson),
        }
    }
}

/// A query string; unknown or malformed parameters are a 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No text confab stores or looks up may hold NUL (PostgreSQL's text cannot), so a
        // query string with one is refused here rather than failing a statement as a 500.
        let raw = parts.uri.query().unwrap_or("");
        if raw.contains('\0') || raw.to_ascii_lowercase().contains("%00") {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "a query string may not hold a NUL character",
            ));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|rejection: QueryRejection| {
                ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
            })
    }
}
