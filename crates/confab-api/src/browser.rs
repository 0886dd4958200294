//! Browser sessions: the web client signs in through `/auth/browser/*`, which puts the session
//! token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when `public_url` is https) and
//! never in a body, so a script injected into the page cannot read it. A request that the
//! cookie authenticates and that changes state must come from the server's own origin (or
//! one on `allowed_origins`): `SameSite` already keeps the cookie off other sites' requests,
//! and the `Origin` check does not depend on the browser honouring it.

use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use confab_core::ErrorCode;

use crate::error::ApiError;
use crate::state::ApiState;

/// The session token.
pub const SESSION_COOKIE: &str = "confab_session";
/// The device token that passes the account's sign-in slow-down (as `device_token` does).
pub const DEVICE_COOKIE: &str = "confab_device";
/// How long a browser remembers its device token (as long as the server does).
pub const DEVICE_MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

/// What the browser's cookies are.
#[derive(Clone, Debug, Default)]
pub struct BrowserPolicy {
    /// The server's own origin (`public_url`), if configured.
    pub public_origin: Option<String>,
    /// Other origins allowed (`allowed_origins`).
    pub allowed_origins: Vec<String>,
    /// `Secure` cookies: the server is reached over https.
    pub secure: bool,
    /// The session cookie lives as long as a session may.
    pub session_max_age: Duration,
}

impl BrowserPolicy {
    /// A cookie holding `value` for `max_age`.
    pub fn cookie(&self, name: &str, value: &str, max_age: Duration) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            max_age.as_secs()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// A cookie the browser must forget.
    pub fn cleared(&self, name: &str) -> HeaderValue {
        self.cookie(name, "", Duration::ZERO)
    }

    /// Refuses a cookie-authenticated request that changes state from anywhere but the
    /// server's own origin (or an allowed one). Safe methods pass: they change nothing.
    pub fn check_origin(&self, parts: &Parts) -> Result<(), ApiError> {
        if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let allowed = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|origin| {
                confab_protocol::origin::origin_allowed(
                    origin,
                    host,
                    &self.allowed_origins,
                    self.public_origin.as_deref(),
                )
            });
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "a request signed in by cookie must come from this server's own pages",
            ))
        }
    }
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

impl ApiState {
    pub fn browser(&self) -> &BrowserPolicy {
        &self.browser
    }
}
