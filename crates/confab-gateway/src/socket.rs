//! One client socket: its bounded outbound queue (what hubs push to), and the task that owns
//! the WebSocket, writing queued frames, reading client frames, forwarding sends one at a time
//! in the order they were read, and pinging.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use confab_core::{ChannelId, ErrorCode, SessionId, UserId};
use confab_protocol::ws::{ClientFrame, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;

use crate::backend::{BackendError, SendCommand};
use crate::outbox::{Kick, Next, Outbox};
use crate::{Inner, lock};

/// Close codes (RFC 6455 §7.4.1).
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_INVALID_DATA: u16 = 1007;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_INTERNAL: u16 = 1011;
/// "Service restart": reconnect (and catch up), as after any drop.
const CLOSE_RECONNECT: u16 = 1012;
/// confab's own: the session was signed out or revoked; sign in again before reconnecting.
const CLOSE_REVOKED: u16 = 4001;
/// Frames written in one go before flushing.
const WRITE_BATCH: usize = 16;
/// How long a close frame may take to go out before the socket is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What hubs and the dispatcher hold of a socket.
#[derive(Clone)]
pub(crate) struct SocketHandle(Arc<Shared>);

struct Shared {
    id: u64,
    user: UserId,
    /// The session (device) whose credential opened the socket: revoking it closes the socket.
    session: SessionId,
    /// Frames waiting to be written, and whether the socket must close.
    outbox: Outbox,
    /// Channels whose hubs hold this socket, so disconnecting detaches from exactly those.
    channels: Mutex<HashSet<ChannelId>>,
    /// Users whose presence this socket watches.
    watching: Mutex<Vec<UserId>>,
}

impl SocketHandle {
    pub(crate) fn id(&self) -> u64 {
        self.0.id
    }

    pub(crate) fn user(&self) -> &UserId {
        &self.0.user
    }

    pub(crate) fn session(&self) -> &SessionId {
        &self.0.session
    }

    /// Closes the socket with 4001: the session that opened it is no longer signed in.
    pub(crate) fn revoke(&self) {
        self.0.outbox.kick(Kick::Revoked);
    }

    /// Queues a frame; a full queue marks the socket a slow consumer and cuts it off rather
    /// than wait or buffer without bound.
    pub(crate) fn push(&self, frame: &Utf8Bytes) {
        if !self.0.outbox.push(frame) {
            metrics::counter!("confab_slow_consumers_total").increment(1);
        }
    }

    /// Closes the socket with 1012 so its client reconnects and catches up: for when this
    /// gateway may have missed a change to the user's channel list.
    pub(crate) fn ask_to_reconnect(&self) {
        self.0.outbox.kick(Kick::Reconnect);
    }

    /// Closes the socket with 1001, first finishing the write under way and answering the
    /// operation in flight, each if done within `CLOSE_TIMEOUT` (a stronger kick, reconnect,
    /// wins; a socket whose client does not read in time is dropped without a close frame).
    pub(crate) fn shut_down(&self) {
        self.0.outbox.kick(Kick::Shutdown);
    }

    pub(crate) fn joined(&self, channel: &ChannelId) {
        lock(&self.0.channels).insert(channel.clone());
    }

    pub(crate) fn left(&self, channel: &ChannelId) {
        lock(&self.0.channels).remove(channel);
    }

    /// Replaces the watched users, returning the previous ones.
    pub(crate) fn set_watching(&self, users: Vec<UserId>) -> Vec<UserId> {
        std::mem::replace(&mut *lock(&self.0.watching), users)
    }

    pub(crate) fn take_channels(&self) -> HashSet<ChannelId> {
        std::mem::take(&mut *lock(&self.0.channels))
    }
}

pub(crate) fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising our own frame types cannot fail: they hold only strings, numbers and bools.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

/// A client frame's work, run one at a time per socket; it yields the frames to answer with.
type OpFuture = Pin<Box<dyn Future<Output = Vec<Message>> + Send>>;

/// Runs a socket until the client leaves, stops answering, falls behind, or the gateway shuts
/// down.
pub(crate) async fn run(gw: Arc<Inner>, ws: WebSocket, user: UserId, session: SessionId) {
    let handle = SocketHandle(Arc::new(Shared {
        id: gw.new_socket_id(),
        user: user.clone(),
        session,
        outbox: Outbox::new(gw.config.send_queue),
        channels: Mutex::new(HashSet::new()),
        watching: Mutex::new(Vec::new()),
    }));
    let (mut sink, mut stream) = ws.split();
    metrics::gauge!("confab_open_sockets").increment(1.0);
    let close = match gw.register(&handle).await {
        // Registered (so a revocation from now on reaches it): one that landed before, while
        // the handshake ran, is caught here.
        Ok(()) if !session_still_live(&gw, &handle).await => {
            Some((CLOSE_REVOKED, "session signed out"))
        }
        Ok(()) => {
            let hello = ServerFrame::Hello {
                user_id: user.to_string(),
                session_id: format!("{:x}-{}", gw.boot_id, handle.id()),
                heartbeat_ms: gw.config.ping_interval.as_millis() as u64,
            };
            if sink.send(Message::Text(encode(&hello))).await.is_ok() {
                gw.set_presence(&user, handle.id(), Some(false)).await;
                serve(&gw, &handle, &mut sink, &mut stream).await
            } else {
                None
            }
        }
        Err(crate::Register::ShuttingDown) => Some((CLOSE_GOING_AWAY, "server shutting down")),
        Err(crate::Register::Backend(error)) => {
            tracing::warn!(?error, "could not load the user's channels");
            Some((CLOSE_INTERNAL, "try again"))
        }
        Err(crate::Register::NotReady) => {
            tracing::warn!("a channel's position could not be read in time");
            Some((CLOSE_INTERNAL, "try again"))
        }
    };
    handle.0.outbox.close();
    gw.unregister(&handle);
    gw.unwatch(&handle).await;
    gw.set_presence(&user, handle.id(), None).await;
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
) -> Option<(u16, &'static str)> {
    let config = &gw.config;
    let outbox = &handle.0.outbox;
    // One timer for pings and silence: a frame heard only moves `last_heard` (no timer to
    // reset per frame), and the timer, when it fires, works out which is due.
    let mut last_heard = Instant::now();
    let mut next_ping = last_heard + config.ping_interval;
    let mut next_session_check = last_heard + SESSION_CHECK;
    let timer = tokio::time::sleep_until(next_ping.min(last_heard + config.idle_timeout));
    tokio::pin!(timer);
    let mut backlog: VecDeque<ClientFrame> = VecDeque::new();
    let mut in_flight: Option<OpFuture> = None;
    // Allocated on first use: an idle socket never needs it.
    let mut batch = Vec::new();

    loop {
        tokio::select! {
            biased;
            why = outbox.kicked_wait() => {
                if why == Kick::Shutdown
                    && let Some(op) = in_flight.take()
                    && let Ok(replies) = tokio::time::timeout(CLOSE_TIMEOUT, op).await
                {
                    // The operation already handed to the chat service finishes and is
                    // answered, so its client does not retry something that committed.
                    // Backlogged frames were never started; the client retries them after
                    // reconnecting.
                    let goodbye = async {
                        for reply in replies {
                            sink.feed(reply).await?;
                        }
                        sink.flush().await
                    };
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, goodbye).await;
                }
                return Some(close_frame(why));
            }
            // A finished operation is answered before queued events: on a busy channel there
            // are always events, and an ack must not wait behind them.
            replies = wait(&mut in_flight), if in_flight.is_some() => {
                in_flight = backlog.pop_front().map(|frame| start(gw, handle, frame));
                if let Err(end) = write(gw, sink, outbox, replies).await {
                    return end;
                }
            }
            next = outbox.next(&mut batch, WRITE_BATCH) => {
                if next != Next::Frames {
                    continue; // A kick: the first branch takes it.
                }
                if let Err(end) = write(gw, sink, outbox, batch.drain(..).map(Message::Text)).await {
                    return end;
                }
            }
            incoming = stream.next(), if backlog.len() < config.max_pending_sends => {
                last_heard = Instant::now();
                let text = match incoming {
                    None => return None,
                    Some(Err(error)) => return read_failure(error),
                    Some(Ok(Message::Close(_))) => return None,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let frame = error_frame(None, ErrorCode::InvalidRequest, "send JSON text frames; binary frames are not supported");
                        if let Err(end) = write(gw, sink, outbox, [frame]).await { return end }
                        continue;
                    }
                    Some(Ok(Message::Text(text))) => text,
                };
                match serde_json::from_str::<ClientFrame>(text.as_str()) {
                    // Answered before any queued work: a pong says the socket is alive, and
                    // must not wait behind a slow send.
                    Ok(ClientFrame::Ping { id }) => {
                        if let Err(end) = write(gw, sink, outbox, [pong(id)]).await { return end }
                    }
                    Ok(frame) => {
                        if in_flight.is_none() {
                            in_flight = Some(start(gw, handle, frame));
                        } else {
                            backlog.push_back(frame);
                        }
                    }
                    Err(error) => {
                        let code = if error.is_syntax() || error.is_eof() { ErrorCode::InvalidJson } else { ErrorCode::InvalidRequest };
                        let frame = error_frame(None, code, &error.to_string());
                        if let Err(end) = write(gw, sink, outbox, [frame]).await { return end }
                    }
                }
            }
            () = &mut timer => {
                let now = Instant::now();
                // Silent past the timeout: most likely gone without a close frame.
                if now >= last_heard + config.idle_timeout {
                    return None;
                }
                if now >= next_session_check {
                    next_session_check = now + SESSION_CHECK;
                    if !session_still_live(gw, handle).await {
                        return Some((CLOSE_REVOKED, "session signed out"));
                    }
                }
                if now >= next_ping {
                    if let Err(end) = write(gw, sink, outbox, [Message::Ping(Default::default())]).await {
                        return end;
                    }
                    next_ping = now + config.ping_interval;
                }
                timer.as_mut().reset(next_ping.min(last_heard + config.idle_timeout));
            }
        }
    }
}

/// How often an open socket's session is checked: a session that expired, or whose
/// revocation this gateway missed, closes its sockets within this.
const SESSION_CHECK: Duration = Duration::from_secs(300);

/// Whether the socket's session is still signed in. If the chat service cannot say, yes:
/// an outage must not close every socket.
async fn session_still_live(gw: &Inner, handle: &SocketHandle) -> bool {
    match tokio::time::timeout(CLOSE_TIMEOUT, gw.backend.session_live(handle.session())).await {
        Ok(Ok(live)) => live,
        _ => true,
    }
}

/// Writes `frames` and flushes, unless the socket is kicked first: a client that stops reading
/// must not hold its task, or the gateway's shutdown, in a write. `Err` carries what `serve`
/// returns: nothing after a failed write; after a kick, its close frame.
async fn write(
    gw: &Inner,
    sink: &mut Sink,
    outbox: &Outbox,
    frames: impl IntoIterator<Item = Message>,
) -> Result<(), Option<(u16, &'static str)>> {
    let write = async {
        for frame in frames {
            sink.feed(frame).await?;
        }
        sink.flush().await
    };
    tokio::pin!(write);
    let why = tokio::select! {
        biased;
        // A write that completes is done, kick or not: the loop takes the kick next.
        r = &mut write => return r.map_err(|_| None),
        why = outbox.kicked_wait() => why,
    };
    if gw.shutdown.is_cancelled() {
        // What is being written (an ack, say) may still go out, and then the loop says
        // goodbye; a client that does not take it in time is dropped without either.
        return match tokio::time::timeout(CLOSE_TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(None),
        };
    }
    Err(Some(close_frame(why)))
}

fn close_frame(why: Kick) -> (u16, &'static str) {
    match why {
        Kick::Reconnect => (CLOSE_RECONNECT, "reconnect: events may have been missed"),
        Kick::SlowConsumer => (CLOSE_POLICY, "slow consumer: not reading fast enough"),
        Kick::Shutdown => (CLOSE_GOING_AWAY, "server shutting down"),
        Kick::Revoked => (CLOSE_REVOKED, "session signed out"),
    }
}

fn error_frame(client_msg_id: Option<String>, code: ErrorCode, message: &str) -> Message {
    Message::Text(encode(&ServerFrame::Error {
        client_msg_id,
        code: code.as_str().to_owned(),
        message: message.to_owned(),
    }))
}

fn backend_error(client_msg_id: Option<String>, e: BackendError) -> Message {
    error_frame(client_msg_id, e.code, &e.message)
}

/// The longest `id` a `ping` may carry: it is echoed, so it must stay small.
const MAX_PING_ID: usize = 64;

fn pong(id: Option<String>) -> Message {
    if id.as_ref().is_some_and(|id| id.len() > MAX_PING_ID) {
        return error_frame(
            None,
            ErrorCode::InvalidRequest,
            "a ping's id is at most 64 bytes",
        );
    }
    Message::Text(encode(&ServerFrame::Pong { id }))
}

/// Starts a client frame's work.
fn start(gw: &Arc<Inner>, handle: &SocketHandle, frame: ClientFrame) -> OpFuture {
    let gw = gw.clone();
    let handle = handle.clone();
    Box::pin(async move {
        let user = handle.user().clone();
        match frame {
            ClientFrame::Send {
                channel_id,
                client_msg_id,
                body,
                thread_root_id,
                file_ids,
            } => {
                let cmd = SendCommand {
                    channel_id,
                    client_msg_id: client_msg_id.clone(),
                    body,
                    thread_root_id,
                    file_ids,
                };
                let frame = match gw.backend.send(&user, cmd).await {
                    Ok(ack) => ServerFrame::Ack {
                        client_msg_id,
                        message_id: ack.message_id,
                        seq: ack.seq,
                        ts: ack.ts,
                    },
                    Err(e) => return vec![backend_error(Some(client_msg_id), e)],
                };
                vec![Message::Text(encode(&frame))]
            }
            ClientFrame::Typing { channel_id } => match gw.backend.typing(&user, &channel_id).await
            {
                Ok(()) => Vec::new(),
                Err(e) => vec![backend_error(None, e)],
            },
            // Every socket of the user, this one included, hears of the move on the user's topic.
            ClientFrame::Read { channel_id, seq } => {
                match gw.backend.mark_read(&user, &channel_id, seq).await {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![backend_error(None, e)],
                }
            }
            ClientFrame::Presence { status } => {
                let idle = match status.as_str() {
                    "online" => false,
                    "idle" => true,
                    _ => {
                        return vec![error_frame(
                            None,
                            ErrorCode::InvalidRequest,
                            "status must be online or idle",
                        )];
                    }
                };
                gw.set_presence(&user, handle.id(), Some(idle)).await;
                Vec::new()
            }
            ClientFrame::Ping { id } => vec![pong(id)],
            ClientFrame::PresenceSubscribe { user_ids } => {
                let ids = match user_ids
                    .iter()
                    .map(|id| UserId::parse(id))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(ids) => ids,
                    Err(e) => return vec![error_frame(None, e.code(), &e.to_string())],
                };
                let visible = match gw.backend.presence_visible(&user, &ids).await {
                    Ok(visible) => visible,
                    Err(e) => return vec![backend_error(None, e)],
                };
                gw.watch(&handle, visible)
                    .await
                    .into_iter()
                    .map(|(user_id, status)| {
                        Message::Text(encode(&ServerFrame::Presence {
                            user_id: user_id.to_string(),
                            status: status.as_str().to_owned(),
                        }))
                    })
                    .collect()
            }
        }
    })
}

async fn wait(in_flight: &mut Option<OpFuture>) -> Vec<Message> {
    match in_flight {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

/// The close frame a failed read deserves (RFC 6455 §7.4.1): 1009 for a frame or message
/// over the limit, 1007 for text that is not UTF-8, 1002 for any other breach of the
/// protocol (an unmasked frame, a reserved opcode or bit, a bad close frame); none when the
/// connection itself failed, as there is nobody left to tell.
fn read_failure(error: axum::Error) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error;
    match error.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(_)) => Some((CLOSE_TOO_BIG, "frame too large")),
        Some(Error::Utf8(_)) => Some((CLOSE_INVALID_DATA, "text frames must be UTF-8")),
        Some(Error::Protocol(_)) => Some((CLOSE_PROTOCOL, "protocol error")),
        _ => None,
    }
}
