//! One client socket: its bounded outbound queue (what hubs push to), and the task that owns
//! the WebSocket, writing queued frames, reading client frames, forwarding sends one at a time
//! in the order they were read, and pinging.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use confab_core::{ChannelId, ErrorCode, UserId};
use confab_protocol::ws::{ClientFrame, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backend::{BackendError, SendAck, SendCommand};
use crate::{Inner, lock};

/// Close codes (RFC 6455 §7.4.1).
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_INTERNAL: u16 = 1011;
/// Frames written in one go before flushing.
const WRITE_BATCH: usize = 64;
/// How long a close frame may take to go out before the socket is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What hubs and the dispatcher hold of a socket.
#[derive(Clone)]
pub(crate) struct SocketHandle(Arc<Shared>);

struct Shared {
    id: u64,
    user: UserId,
    queue: mpsc::Sender<Utf8Bytes>,
    /// Cancelled when the queue overflowed: the socket task closes the connection.
    kick: CancellationToken,
    /// Channels whose hubs hold this socket, so disconnecting detaches from exactly those.
    channels: Mutex<HashSet<ChannelId>>,
}

impl SocketHandle {
    pub(crate) fn id(&self) -> u64 {
        self.0.id
    }

    pub(crate) fn user(&self) -> &UserId {
        &self.0.user
    }

    /// Queues a frame; a full queue marks the socket a slow consumer and cuts it off rather
    /// than wait or buffer without bound.
    pub(crate) fn push(&self, frame: &Utf8Bytes) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.0.queue.try_send(frame.clone())
            && !self.0.kick.is_cancelled()
        {
            metrics::counter!("confab_slow_consumers_total").increment(1);
            self.0.kick.cancel();
        }
    }

    pub(crate) fn joined(&self, channel: &ChannelId) {
        lock(&self.0.channels).insert(channel.clone());
    }

    pub(crate) fn left(&self, channel: &ChannelId) {
        lock(&self.0.channels).remove(channel);
    }

    pub(crate) fn take_channels(&self) -> HashSet<ChannelId> {
        std::mem::take(&mut *lock(&self.0.channels))
    }
}

pub(crate) fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising our own frame types cannot fail: they hold only strings, numbers and bools.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

type SendFuture = Pin<Box<dyn Future<Output = (String, Result<SendAck, BackendError>)> + Send>>;

/// Runs a socket until the client leaves, stops answering, falls behind, or the gateway shuts
/// down.
pub(crate) async fn run(gw: Arc<Inner>, ws: WebSocket, user: UserId) {
    let (queue, mut outbound) = mpsc::channel(gw.config.send_queue);
    let handle = SocketHandle(Arc::new(Shared {
        id: gw.new_socket_id(),
        user: user.clone(),
        queue,
        kick: CancellationToken::new(),
        channels: Mutex::new(HashSet::new()),
    }));
    let (mut sink, mut stream) = ws.split();
    metrics::gauge!("confab_open_sockets").increment(1.0);
    let close = match gw.register(&handle).await {
        Ok(()) => {
            let hello = ServerFrame::Hello {
                user_id: user.to_string(),
                session_id: format!("{:x}-{}", gw.boot_id, handle.id()),
                heartbeat_ms: gw.config.ping_interval.as_millis() as u64,
            };
            if sink.send(Message::Text(encode(&hello))).await.is_ok() {
                serve(&gw, &handle, &mut sink, &mut stream, &mut outbound).await
            } else {
                None
            }
        }
        Err(error) => {
            tracing::warn!(?error, "could not load the user's channels");
            Some((CLOSE_INTERNAL, "try again"))
        }
    };
    gw.unregister(&handle);
    metrics::gauge!("confab_open_sockets").decrement(1.0);
    if let Some((code, reason)) = close {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Stream = futures_util::stream::SplitStream<WebSocket>;

/// The socket's loop. Returns the close frame to send, if any.
async fn serve(
    gw: &Arc<Inner>,
    handle: &SocketHandle,
    sink: &mut Sink,
    stream: &mut Stream,
    outbound: &mut mpsc::Receiver<Utf8Bytes>,
) -> Option<(u16, &'static str)> {
    let config = &gw.config;
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    let mut last_heard = Instant::now();
    let mut backlog: VecDeque<SendCommand> = VecDeque::new();
    let mut in_flight: Option<SendFuture> = None;
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            biased;
            _ = gw.shutdown.cancelled() => {
                // A send already handed to the chat service finishes and is acknowledged, so
                // its client does not retry something that committed. Backlogged sends were
                // never started; the client retries them after reconnecting.
                if let Some(send) = in_flight.take()
                    && let Ok((client_msg_id, result)) = tokio::time::timeout(CLOSE_TIMEOUT, send).await
                {
                    let _ = sink.send(reply(client_msg_id, result)).await;
                }
                return Some((CLOSE_GOING_AWAY, "server shutting down"));
            }
            _ = handle.0.kick.cancelled() => return Some((CLOSE_POLICY, "slow consumer: not reading fast enough")),
            n = outbound.recv_many(&mut batch, WRITE_BATCH) => {
                if n == 0 {
                    return None;
                }
                let write = async {
                    for frame in batch.drain(..) {
                        sink.feed(Message::Text(frame)).await?;
                    }
                    sink.flush().await
                };
                tokio::select! {
                    r = write => if r.is_err() { return None },
                    _ = handle.0.kick.cancelled() => return Some((CLOSE_POLICY, "slow consumer: not reading fast enough")),
                    _ = gw.shutdown.cancelled() => return None,
                }
            }
            (client_msg_id, result) = wait(&mut in_flight), if in_flight.is_some() => {
                in_flight = backlog.pop_front().map(|cmd| start_send(gw, handle.user(), cmd));
                if sink.send(reply(client_msg_id, result)).await.is_err() {
                    return None;
                }
            }
            incoming = stream.next(), if backlog.len() < config.max_pending_sends => {
                last_heard = Instant::now();
                let text = match incoming {
                    None => return None,
                    Some(Err(error)) => return too_big(error).then_some((CLOSE_TOO_BIG, "frame too large")),
                    Some(Ok(Message::Close(_))) => return None,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let frame = error_frame(None, ErrorCode::InvalidRequest, "send JSON text frames; binary frames are not supported");
                        if sink.send(frame).await.is_err() { return None }
                        continue;
                    }
                    Some(Ok(Message::Text(text))) => text,
                };
                match serde_json::from_str::<ClientFrame>(text.as_str()) {
                    Ok(ClientFrame::Send { channel_id, client_msg_id, body, thread_root_id, file_ids }) => {
                        let cmd = SendCommand { channel_id, client_msg_id, body, thread_root_id, file_ids };
                        if in_flight.is_none() {
                            in_flight = Some(start_send(gw, handle.user(), cmd));
                        } else {
                            backlog.push_back(cmd);
                        }
                    }
                    Ok(other) => {
                        let kind = match other {
                            ClientFrame::Typing { .. } => "typing",
                            ClientFrame::Read { .. } => "read",
                            ClientFrame::Presence { .. } => "presence",
                            _ => "presence_subscribe",
                        };
                        let frame = error_frame(None, ErrorCode::InvalidRequest, &format!("`{kind}` frames are not supported yet"));
                        if sink.send(frame).await.is_err() { return None }
                    }
                    Err(error) => {
                        let code = if error.is_syntax() || error.is_eof() { ErrorCode::InvalidJson } else { ErrorCode::InvalidRequest };
                        if sink.send(error_frame(None, code, &error.to_string())).await.is_err() { return None }
                    }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > config.idle_timeout {
                    // Silent past the timeout: most likely gone without a close frame.
                    return None;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return None;
                }
            }
        }
    }
}

/// The answer to a send: its ack, or an error frame naming it.
fn reply(client_msg_id: String, result: Result<SendAck, BackendError>) -> Message {
    let frame = match result {
        Ok(ack) => ServerFrame::Ack {
            client_msg_id,
            message_id: ack.message_id,
            seq: ack.seq,
            ts: ack.ts,
        },
        Err(e) => ServerFrame::Error {
            client_msg_id: Some(client_msg_id),
            code: e.code.as_str().to_owned(),
            message: e.message,
        },
    };
    Message::Text(encode(&frame))
}

fn error_frame(client_msg_id: Option<String>, code: ErrorCode, message: &str) -> Message {
    Message::Text(encode(&ServerFrame::Error {
        client_msg_id,
        code: code.as_str().to_owned(),
        message: message.to_owned(),
    }))
}

fn start_send(gw: &Arc<Inner>, user: &UserId, cmd: SendCommand) -> SendFuture {
    let backend = gw.backend.clone();
    let user = user.clone();
    Box::pin(async move {
        let client_msg_id = cmd.client_msg_id.clone();
        let result = backend.send(&user, cmd).await;
        (client_msg_id, result)
    })
}

async fn wait(in_flight: &mut Option<SendFuture>) -> (String, Result<SendAck, BackendError>) {
    match in_flight {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

/// Whether a read failed because the client's frame or message exceeded the limit.
fn too_big(error: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    let inner = error.into_inner();
    matches!(inner.downcast_ref::<Error>(), Some(Error::Capacity(_)))
}
