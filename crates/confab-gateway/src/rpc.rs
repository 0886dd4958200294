//! Both ends of the gateway's calls to a chat service deployed apart: [`RemoteBackend`] (the
//! gateway's [`ChatBackend`] over HTTP) and [`rpc_router`] (the chat service answering those
//! calls from its own in-process backend). One mapping, so `--role all` and a fleet behave
//! alike.
//!
//! Both are generated from the one list of calls, [`confab_protocol::gateway_calls!`]: a
//! call's wire form is its arguments, owned, and its reply is the JSON of its answer.
//!
//! A call that cannot reach a chat service (refused, reset, timed out, or answered
//! `unavailable`) is tried on the next configured one when the list marks it `retry` (reads,
//! and sends, which `(author, client_msg_id)` makes idempotent). A `once` call (redeeming a
//! ticket) may have taken effect before its answer was lost, so it goes elsewhere only when
//! the connection to the first was never made. When none answers, the client gets a
//! retryable `unavailable` error frame and its socket stays open.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use confab_core::{ChannelEvent, ChannelId, ErrorCode, SessionId, UserId};
use confab_protocol::internal::{GatewayCall, RPC_PATH, RpcError};
use serde::de::DeserializeOwned;

use crate::{BackendError, ChatBackend, SendAck, SendCommand};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest a call may take, commit included, before it counts as lost.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// What a client is told to wait before retrying when no chat service answers.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(1);

fn unavailable(message: String) -> BackendError {
    BackendError {
        code: ErrorCode::Unavailable,
        message,
        retry_after: Some(UNAVAILABLE_RETRY),
    }
}

/// The gateway's view of chat services deployed apart.
pub struct RemoteBackend {
    http: reqwest::Client,
    /// The chat services' RPC endpoints, parsed once, tried round-robin, failing over on
    /// connection errors.
    urls: Vec<reqwest::Url>,
    next: AtomicUsize,
    secret: String,
}

impl RemoteBackend {
    pub fn new(urls: Vec<String>, secret: String) -> Result<Self, String> {
        if urls.is_empty() {
            return Err("at least one chat service URL is needed".into());
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let urls = urls
            .iter()
            .map(|u| {
                let endpoint = format!("{}{RPC_PATH}", u.trim_end_matches('/'));
                reqwest::Url::parse(&endpoint).map_err(|e| format!("chat_url {u:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            http,
            urls,
            next: AtomicUsize::new(0),
            secret,
        })
    }

    /// Makes `call` on one chat service after another until one answers (see the module's
    /// doc for when a call moves on); its answer, read as `T`.
    async fn call<T: DeserializeOwned>(&self, call: GatewayCall) -> Result<T, BackendError> {
        let n = self.urls.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let retryable = call.retryable();
        let mut last = unavailable("no chat service is reachable".into());
        for i in 0..n {
            let url = &self.urls[(first + i) % n];
            let response = match self
                .http
                .post(url.clone())
                .bearer_auth(&self.secret)
                .json(&call)
                .send()
                .await
            {
                Ok(r) => r,
                Err(error) if error.is_connect() || retryable => {
                    tracing::warn!(%url, %error, "chat service unreachable; trying the next");
                    last = unavailable("no chat service is reachable".into());
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%url, %error, "chat service did not answer a call that is not repeated");
                    return Err(unavailable("the chat service did not answer".into()));
                }
            };
            let ok = response.status().is_success();
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(%url, %error, "chat service answer cut off");
                    if !retryable {
                        return Err(unavailable("the chat service's answer was cut off".into()));
                    }
                    continue;
                }
            };
            if ok {
                return serde_json::from_slice(&body).map_err(|error| {
                    tracing::error!(%url, %error, "unreadable answer from a chat service");
                    unavailable("unreadable answer from the chat service".into())
                });
            }
            let err: RpcError = match serde_json::from_slice(&body) {
                Ok(err) => err,
                Err(error) => {
                    // Not our answer (a proxy's error page, say): try elsewhere, if it may be.
                    tracing::warn!(%url, %error, "unexpected error answer from a chat service");
                    if !retryable {
                        return Err(unavailable(
                            "unexpected answer from the chat service".into(),
                        ));
                    }
                    continue;
                }
            };
            let refused = BackendError {
                code: err.code,
                message: err.message,
                retry_after: err.retry_after_ms.map(Duration::from_millis),
            };
            if err.code != ErrorCode::Unavailable || !retryable {
                return Err(refused);
            }
            last = refused;
        }
        Err(last)
    }
}

macro_rules! remote_backend {
    ($(
        $(#[doc = $doc:literal])*
        $policy:ident $variant:ident $method:ident(
            $($arg:ident : $ty:ty $(=> $owned:ty)?),* $(,)?
        ) -> $answer:ty;
    )*) => {
        #[async_trait]
        impl ChatBackend for RemoteBackend {
            $(
                async fn $method(&self, $($arg: $ty),*) -> Result<$answer, BackendError> {
                    self.call(GatewayCall::$variant {
                        $($arg: remote_backend!(@owned $arg $(=> $owned)?)),*
                    })
                    .await
                }
            )*
        }

        /// Answers one call from `b`: the JSON of what the method returned.
        async fn answer(
            b: &dyn ChatBackend,
            call: GatewayCall,
        ) -> Result<serde_json::Value, BackendError> {
            let answer = match call {
                $(
                    GatewayCall::$variant { $($arg),* } => serde_json::to_value(
                        b.$method($(remote_backend!(@borrowed $arg $(=> $owned)?)),*).await?,
                    ),
                )*
            };
            answer.map_err(|error| {
                tracing::error!(%error, "an answer that cannot be written as JSON");
                BackendError {
                    code: ErrorCode::Internal,
                    message: "internal error".into(),
                    retry_after: None,
                }
            })
        }
    };
    // An argument the method borrows travels owned.
    (@owned $arg:ident) => { $arg };
    (@owned $arg:ident => $owned:ty) => { $arg.to_owned() };
    (@borrowed $arg:ident) => { $arg };
    (@borrowed $arg:ident => $owned:ty) => { &$arg };
}

confab_protocol::gateway_calls!(remote_backend);

struct RpcState {
    backend: Arc<dyn ChatBackend>,
    secret: String,
}

/// `POST /internal/v1/rpc` on a chat service: the calls of [`RemoteBackend`], answered by
/// `backend`. Only callers holding the cluster secret get in.
pub fn rpc_router(backend: Arc<dyn ChatBackend>, secret: String) -> Router {
    Router::new()
        .route(RPC_PATH, post(rpc))
        .with_state(Arc::new(RpcState { backend, secret }))
}

fn refuse(err: BackendError) -> Response {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = RpcError {
        code: err.code,
        message: err.message,
        retry_after_ms: err.retry_after.map(|d| d.as_millis() as u64),
    };
    (status, Json(body)).into_response()
}

fn authorised(headers: &HeaderMap, secret: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(confab_protocol::http::bearer_token)
    else {
        return false;
    };
    // Compare in time independent of where the first difference is.
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn rpc(
    State(state): State<Arc<RpcState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorised(&headers, &state.secret) {
        return refuse(BackendError {
            code: ErrorCode::Unauthorized,
            message: "the cluster secret is missing or wrong".into(),
            retry_after: None,
        });
    }
    let call: GatewayCall = match serde_json::from_slice(&body) {
        Ok(call) => call,
        Err(error) => {
            return refuse(BackendError {
                code: ErrorCode::InvalidRequest,
                message: format!("not a gateway call: {error}"),
                retry_after: None,
            });
        }
    };
    match answer(&*state.backend, call).await {
        Ok(reply) => Json(reply).into_response(),
        Err(err) => refuse(err),
    }
}

#[cfg(test)]
mod tests {
    //! Failover against chat services that misbehave on the wire: one that takes a call and
    //! hangs up without answering (as one killed mid-call does), one that answers.

    use std::sync::atomic::AtomicUsize;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A chat service that reads each request whole, then either answers `body` or, with
    /// `None`, closes the connection without a word; and how many requests it read.
    async fn chat_service(body: Option<&'static str>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Headers, then the body its content-length announces.
                    loop {
                        let Ok(n) = conn.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&request);
                        if let Some(end) = text.find("\r\n\r\n") {
                            let length = text[..end]
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if request.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    if let Some(body) = body {
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = conn.write_all(answer.as_bytes()).await;
                    }
                });
            }
        });
        (url, seen)
    }

    /// A port nothing listens on.
    async fn closed_port() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        url
    }

    fn backend(urls: &[&str]) -> RemoteBackend {
        RemoteBackend::new(
            urls.iter().map(|u| u.to_string()).collect(),
            "0123456789abcdef".into(),
        )
        .expect("backend")
    }

    #[tokio::test]
    async fn a_ticket_lost_after_it_was_sent_is_not_redeemed_again_elsewhere() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let redeemed: &'static str =
            Box::leak(format!("[\"{user}\",\"{session}\"]").into_boxed_str());
        let (silent, silent_seen) = chat_service(None).await;
        let (answering, answering_seen) = chat_service(Some(redeemed)).await;
        let err = backend(&[&silent, &answering])
            .redeem_ticket("ticket")
            .await
            .expect_err("the first chat service may have spent the ticket");
        assert_eq!(err.code, ErrorCode::Unavailable);
        assert_eq!(silent_seen.load(Ordering::SeqCst), 1);
        assert_eq!(
            answering_seen.load(Ordering::SeqCst),
            0,
            "the call went to a second chat service"
        );
        // Never sent at all (nothing listening): then the next one may have it.
        let refused = closed_port().await;
        let answer = backend(&[&refused, &answering])
            .redeem_ticket("ticket")
            .await
            .expect("redeemed by the second");
        assert_eq!(answer, (user, session));
    }

    #[tokio::test]
    async fn a_read_lost_after_it_was_sent_is_asked_again_elsewhere() {
        let (silent, silent_seen) = chat_service(None).await;
        let (answering, answering_seen) = chat_service(Some("5")).await;
        let seq = backend(&[&silent, &answering])
            .last_seq(&ChannelId::generate())
            .await
            .expect("the second chat service answers");
        assert_eq!(seq, 5);
        assert_eq!(silent_seen.load(Ordering::SeqCst), 1);
        assert_eq!(answering_seen.load(Ordering::SeqCst), 1);
    }
}
