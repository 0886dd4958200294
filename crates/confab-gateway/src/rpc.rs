//! Both ends of the gateway's calls to a chat service deployed apart: [`RemoteBackend`] (the
//! gateway's [`ChatBackend`] over HTTP) and [`rpc_router`] (the chat service answering those
//! calls from its own in-process backend). One mapping, so `--role all` and a fleet behave
//! alike.
//!
//! A call that cannot reach a chat service (refused, reset, timed out, or answered
//! `unavailable`) is tried on the next configured one; sends are safe to retry anywhere since
//! `(author, client_msg_id)` is unique. When none answers, the client gets a retryable
//! `unavailable` error frame and its socket stays open.

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
use confab_protocol::internal::{GatewayCall, GatewayReply, RPC_PATH, RpcError};

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

fn unexpected(reply: GatewayReply) -> BackendError {
    tracing::error!(?reply, "chat service answered with the wrong reply");
    BackendError {
        code: ErrorCode::Internal,
        message: "internal error".into(),
        retry_after: None,
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

    async fn call(&self, call: GatewayCall) -> Result<GatewayReply, BackendError> {
        let n = self.urls.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
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
                Err(error) => {
                    tracing::warn!(%url, %error, "chat service unreachable; trying the next");
                    last = unavailable("no chat service is reachable".into());
                    continue;
                }
            };
            let ok = response.status().is_success();
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(%url, %error, "chat service answer cut off; trying the next");
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
                    // Not our answer (a proxy's error page, say): try elsewhere.
                    tracing::warn!(%url, %error, "unexpected error answer from a chat service");
                    continue;
                }
            };
            let refused = BackendError {
                code: err.code,
                message: err.message,
                retry_after: err.retry_after_ms.map(Duration::from_millis),
            };
            if err.code != ErrorCode::Unavailable {
                return Err(refused);
            }
            last = refused;
        }
        Err(last)
    }
}

#[async_trait]
impl ChatBackend for RemoteBackend {
    async fn authenticate(&self, token: &str) -> Result<(UserId, SessionId), BackendError> {
        match self
            .call(GatewayCall::Authenticate {
                token: token.to_owned(),
            })
            .await?
        {
            GatewayReply::User {
                user_id,
                session_id,
            } => Ok((user_id, session_id)),
            other => Err(unexpected(other)),
        }
    }

    async fn redeem_ticket(&self, ticket: &str) -> Result<(UserId, SessionId), BackendError> {
        match self
            .call(GatewayCall::RedeemTicket {
                ticket: ticket.to_owned(),
            })
            .await?
        {
            GatewayReply::User {
                user_id,
                session_id,
            } => Ok((user_id, session_id)),
            other => Err(unexpected(other)),
        }
    }

    async fn session_live(&self, session: &SessionId) -> Result<bool, BackendError> {
        match self
            .call(GatewayCall::SessionLive {
                session_id: session.clone(),
            })
            .await?
        {
            GatewayReply::Live { live } => Ok(live),
            other => Err(unexpected(other)),
        }
    }

    async fn user_channel_ids(&self, user: &UserId) -> Result<Vec<ChannelId>, BackendError> {
        match self
            .call(GatewayCall::UserChannelIds {
                user_id: user.clone(),
            })
            .await?
        {
            GatewayReply::Channels { channel_ids } => Ok(channel_ids),
            other => Err(unexpected(other)),
        }
    }

    async fn last_seq(&self, channel: &ChannelId) -> Result<i64, BackendError> {
        match self
            .call(GatewayCall::LastSeq {
                channel_id: channel.clone(),
            })
            .await?
        {
            GatewayReply::Seq { seq } => Ok(seq),
            other => Err(unexpected(other)),
        }
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChannelEvent>, BackendError> {
        match self
            .call(GatewayCall::ChangesAfter {
                channel_id: channel.clone(),
                after,
                limit,
            })
            .await?
        {
            GatewayReply::Events { events } => Ok(events),
            other => Err(unexpected(other)),
        }
    }

    async fn send(&self, user: &UserId, cmd: SendCommand) -> Result<SendAck, BackendError> {
        match self
            .call(GatewayCall::Send {
                user_id: user.clone(),
                channel_id: cmd.channel_id,
                client_msg_id: cmd.client_msg_id,
                body: cmd.body,
                thread_root_id: cmd.thread_root_id,
                file_ids: cmd.file_ids,
            })
            .await?
        {
            GatewayReply::Ack {
                message_id,
                seq,
                ts,
            } => Ok(SendAck {
                message_id,
                seq,
                ts,
            }),
            other => Err(unexpected(other)),
        }
    }

    async fn typing(&self, user: &UserId, channel_id: &str) -> Result<(), BackendError> {
        match self
            .call(GatewayCall::Typing {
                user_id: user.clone(),
                channel_id: channel_id.to_owned(),
            })
            .await?
        {
            GatewayReply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    async fn mark_read(
        &self,
        user: &UserId,
        channel_id: &str,
        seq: i64,
    ) -> Result<i64, BackendError> {
        match self
            .call(GatewayCall::MarkRead {
                user_id: user.clone(),
                channel_id: channel_id.to_owned(),
                seq,
            })
            .await?
        {
            GatewayReply::Seq { seq } => Ok(seq),
            other => Err(unexpected(other)),
        }
    }

    async fn presence_visible(
        &self,
        user: &UserId,
        users: &[UserId],
    ) -> Result<Vec<UserId>, BackendError> {
        match self
            .call(GatewayCall::PresenceVisible {
                user_id: user.clone(),
                users: users.to_vec(),
            })
            .await?
        {
            GatewayReply::Users { user_ids } => Ok(user_ids),
            other => Err(unexpected(other)),
        }
    }
}

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

async fn answer(b: &dyn ChatBackend, call: GatewayCall) -> Result<GatewayReply, BackendError> {
    Ok(match call {
        GatewayCall::Authenticate { token } => {
            let (user_id, session_id) = b.authenticate(&token).await?;
            GatewayReply::User {
                user_id,
                session_id,
            }
        }
        GatewayCall::RedeemTicket { ticket } => {
            let (user_id, session_id) = b.redeem_ticket(&ticket).await?;
            GatewayReply::User {
                user_id,
                session_id,
            }
        }
        GatewayCall::SessionLive { session_id } => GatewayReply::Live {
            live: b.session_live(&session_id).await?,
        },
        GatewayCall::UserChannelIds { user_id } => GatewayReply::Channels {
            channel_ids: b.user_channel_ids(&user_id).await?,
        },
        GatewayCall::LastSeq { channel_id } => GatewayReply::Seq {
            seq: b.last_seq(&channel_id).await?,
        },
        GatewayCall::ChangesAfter {
            channel_id,
            after,
            limit,
        } => GatewayReply::Events {
            events: b.changes_after(&channel_id, after, limit).await?,
        },
        GatewayCall::Send {
            user_id,
            channel_id,
            client_msg_id,
            body,
            thread_root_id,
            file_ids,
        } => {
            let ack = b
                .send(
                    &user_id,
                    SendCommand {
                        channel_id,
                        client_msg_id,
                        body,
                        thread_root_id,
                        file_ids,
                    },
                )
                .await?;
            GatewayReply::Ack {
                message_id: ack.message_id,
                seq: ack.seq,
                ts: ack.ts,
            }
        }
        GatewayCall::Typing {
            user_id,
            channel_id,
        } => {
            b.typing(&user_id, &channel_id).await?;
            GatewayReply::Done
        }
        GatewayCall::MarkRead {
            user_id,
            channel_id,
            seq,
        } => GatewayReply::Seq {
            seq: b.mark_read(&user_id, &channel_id, seq).await?,
        },
        GatewayCall::PresenceVisible { user_id, users } => GatewayReply::Users {
            user_ids: b.presence_visible(&user_id, &users).await?,
        },
    })
}
