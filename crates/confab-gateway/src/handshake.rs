//! `GET /api/v1/ws`: origin check, authentication (bearer header or single-use ticket), the
//! connection cap, and the upgrade with small buffers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use confab_core::ErrorCode;
use confab_protocol::http::{ErrorBody, ErrorResponse};

use crate::Inner;

/// tungstenite's initial read buffer, instead of the 128 KiB default that would dominate an
/// idle socket's memory. An idle socket only ever reads pongs; a larger frame reserves its own
/// length in one go, so a small start costs no extra reads.
const READ_BUFFER: usize = 1024;

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/api/v1/ws", get(upgrade))
        .with_state(inner)
}

#[derive(serde::Deserialize)]
struct WsQuery {
    ticket: Option<String>,
}

/// How long a client refused for capacity or a shutdown should wait before trying again (any
/// gateway behind the balancer may take it meanwhile).
const RETRY_AFTER_FULL: Duration = Duration::from_secs(1);

fn refuse(code: ErrorCode, message: &str) -> Response {
    refuse_for(code, message, None)
}

/// A refusal with the same `Retry-After` the HTTP API sends for a retryable error.
fn refuse_for(code: ErrorCode, message: &str, retry_after: Option<Duration>) -> Response {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ErrorResponse {
        error: ErrorBody {
            code: code.as_str().to_owned(),
            message: message.to_owned(),
        },
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(after) = retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

/// Whether a WebSocket handshake's `Origin` may open a socket. Clients other than browsers
/// usually send none: they are let through (a bearer token or ticket still has to be right).
/// A browser's must pass [`confab_protocol::origin::origin_allowed`].
pub(crate) fn origin_allowed(
    headers: &HeaderMap,
    allowed: &[String],
    public: Option<&str>,
) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    confab_protocol::origin::origin_allowed(origin, host, allowed, public)
}

async fn upgrade(
    State(gw): State<Arc<Inner>>,
    headers: HeaderMap,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !origin_allowed(
        &headers,
        &gw.config.allowed_origins,
        gw.config.public_origin.as_deref(),
    ) {
        return refuse(ErrorCode::Forbidden, "origin not allowed");
    }
    let ticket = query.ok().and_then(|Query(q)| q.ticket);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(confab_protocol::http::bearer_token)
        .map(str::to_owned);
    let user = match (bearer, ticket) {
        (Some(token), _) => gw.backend.authenticate(&token).await,
        (None, Some(ticket)) => gw.backend.redeem_ticket(&ticket).await,
        (None, None) => {
            return refuse(
                ErrorCode::Unauthorized,
                "authenticate with a bearer token or ?ticket=",
            );
        }
    };
    let (user, session) = match user {
        Ok(caller) => caller,
        Err(e) => return refuse_for(e.code, &e.message, e.retry_after),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return refuse(ErrorCode::InvalidRequest, &rejection.body_text()),
    };
    let Some(slot) = gw.per_user.take(&user) else {
        return refuse(
            ErrorCode::TooManySockets,
            "this user holds as many sockets as allowed; close one first",
        );
    };
    let Ok(permit) = gw.connections.clone().try_acquire_owned() else {
        return refuse_for(
            ErrorCode::Unavailable,
            "too many connections; retry later",
            Some(RETRY_AFTER_FULL),
        );
    };
    let Some(token) = (!gw.shutdown.is_cancelled()).then(|| gw.sockets.token()) else {
        return refuse_for(
            ErrorCode::Unavailable,
            "server shutting down",
            Some(RETRY_AFTER_FULL),
        );
    };
    let max = gw.config.max_frame_bytes;
    ws.read_buffer_size(READ_BUFFER)
        // Frames go straight to the socket; nothing lingers in a per-socket write buffer.
        .write_buffer_size(0)
        // Must hold the largest frame the server can send (`Limits::max_event_frame_bytes`:
        // a reply and its root at every limit), or its write would fail and drop the socket.
        .max_write_buffer_size((4 * max).max(gw.config.max_event_frame_bytes))
        .max_frame_size(max)
        .max_message_size(max)
        .on_upgrade(move |socket| async move {
            crate::socket::run(gw, socket, user, session).await;
            drop(slot);
            drop(permit);
            drop(token);
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_protocol::origin::origin_of;

    fn headers(origin: &str, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().expect("origin"));
        h.insert(header::HOST, host.parse().expect("host"));
        h
    }

    #[test]
    fn the_server_s_own_origin_is_exact() {
        let ok =
            |o: &str, h: &str, public: Option<&str>| origin_allowed(&headers(o, h), &[], public);
        assert!(ok("http://127.0.0.1:8080", "127.0.0.1:8080", None));
        assert!(ok("http://localhost:8080", "localhost:8080", None));
        assert!(ok("http://[::1]:8080", "[::1]:8080", None));
        assert!(
            !ok("https://127.0.0.1:8080", "127.0.0.1:8080", None),
            "the scheme counts"
        );
        assert!(
            !ok("http://127.0.0.1:9999", "127.0.0.1:8080", None),
            "the port counts"
        );
        assert!(
            !ok("http://rebound.test:8080", "rebound.test:8080", None),
            "a name is not trusted without public_url (DNS rebinding)"
        );
        let public = origin_of("https://Chat.Example.test/").expect("url");
        assert_eq!(public, "https://chat.example.test");
        assert!(ok(
            "https://chat.example.test",
            "chat.example.test",
            Some(&public)
        ));
        assert!(!ok(
            "http://chat.example.test",
            "chat.example.test",
            Some(&public)
        ));
        assert!(!ok("https://evil.test", "chat.example.test", Some(&public)));
        assert_eq!(
            origin_of("https://x.test:443"),
            Some("https://x.test".into())
        );
        assert_eq!(
            origin_of("http://x.test:8080/app"),
            Some("http://x.test:8080".into())
        );
        assert_eq!(origin_of("ftp://x.test"), None);
        assert!(
            origin_allowed(&HeaderMap::new(), &[], None),
            "no Origin: not a browser"
        );
    }
}
