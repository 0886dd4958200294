//! The WebSocket gateway. It holds client sockets and nothing else: sends are forwarded to the
//! chat service through [`ChatBackend`], and bus events are fanned out to local sockets.
//!
//! Fan-out is by interest: one bus subscription per channel that any local socket needs, held
//! by that channel's [`hub::Hub`], which puts the channel's events in sequence order (holding an
//! early event briefly, then filling the hole from the store), encodes each event once and
//! hands the same bytes to every member socket's bounded queue. A socket whose queue is full
//! is cut off; it never slows the hub or grows memory.
//!
//! Membership is followed in sequence order too: a hub attaches a user's local sockets when it
//! delivers their `member.joined` and detaches them right after their `member.left`.

mod backend;
mod coalesce;
mod config;
mod handshake;
mod hub;
mod outbox;
mod per_user;
mod rpc;
mod socket;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use confab_bus::{Bus, Delivery, PresenceRegistry, Subscription};

use confab_core::{BusMessage, ChannelEvent, ChannelId, Presence, Topic, UserEvent, UserId};

use confab_protocol::ws::ServerFrame;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use backend::{BackendError, ChatBackend, SendAck, SendCommand};
pub use confab_protocol::origin::origin_of;
pub use config::GatewayConfig;
use hub::Hub;
pub use rpc::{RemoteBackend, rpc_router};
use socket::SocketHandle;

pub struct Gateway {
    inner: Arc<Inner>,
}

/// Longest a new socket waits for its channels' hubs to know where they are before `hello`;
/// then it is closed (1011) and its client reconnects.
const REGISTER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a socket could not be registered.
pub(crate) enum Register {
    /// The user's channel list could not be read.
    Backend(BackendError),
    /// A channel's position could not be learnt within [`REGISTER_TIMEOUT`].
    NotReady,
    ShuttingDown,
}

pub(crate) struct Inner {
    backend: Arc<dyn ChatBackend>,
    subscription: Arc<dyn Subscription>,
    /// For publishing presence changes, which start here.
    bus: Arc<dyn Bus>,
    presence: Arc<dyn PresenceRegistry>,
    /// Sockets watching each user's presence (`presence_subscribe`).
    watchers: Mutex<HashMap<UserId, Vec<SocketHandle>>>,
    config: GatewayConfig,
    /// One hub per channel some local socket is (or recently was) in.
    hubs: Mutex<HashMap<ChannelId, Arc<Hub>>>,
    /// Every local socket, by user: what `member.joined` and user events reach.
    users: Mutex<HashMap<UserId, Vec<SocketHandle>>>,
    /// Serialises subscribe/unsubscribe so a hub closing and a new one opening for the same
    /// topic cannot reorder into "unsubscribed".
    topics: tokio::sync::Mutex<()>,
    shutdown: CancellationToken,
    /// Every socket task, so shutdown can wait for each to send its close frame.
    sockets: TaskTracker,
    connections: Arc<Semaphore>,
    per_user: Arc<per_user::PerUser>,
    next_socket: AtomicU64,
    /// Distinguishes session IDs of this process from those of earlier ones.
    boot_id: u64,
    /// `reconcile_channel_lists`, one pass at a time however many resyncs arrive.
    reconcile: coalesce::Coalesced,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain maps behind, still consistent
    // enough to keep serving; recover rather than take the whole gateway down.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Gateway {
    pub fn new(
        backend: Arc<dyn ChatBackend>,
        bus: Arc<dyn Bus>,
        presence: Arc<dyn PresenceRegistry>,
        config: GatewayConfig,
    ) -> Self {
        let boot_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let inner = Arc::new(Inner {
            backend,
            subscription: bus.subscription(config.bus_queue),
            bus,
            presence,
            watchers: Mutex::new(HashMap::new()),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            per_user: per_user::PerUser::new(config.max_sockets_per_user),
            config,
            hubs: Mutex::new(HashMap::new()),
            users: Mutex::new(HashMap::new()),
            topics: tokio::sync::Mutex::new(()),
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
            next_socket: AtomicU64::new(1),
            boot_id,
            reconcile: coalesce::Coalesced::default(),
        });
        tokio::spawn(dispatch(inner.clone()));
        let upkeep = tokio::spawn(confab_bus::presence_upkeep(
            inner.presence.clone(),
            inner.bus.clone(),
            inner.config.presence_heartbeat,
        ));
        let stop = inner.shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            upkeep.abort();
        });
        Self { inner }
    }

    /// `GET /api/v1/ws`.
    pub fn router(&self) -> Router {
        handshake::router(self.inner.clone())
    }

    pub fn open_sockets(&self) -> usize {
        self.inner.config.max_connections - self.inner.connections.available_permits()
    }

    /// Closes every socket with 1001 (going away) and waits until every socket task has ended
    /// (`SocketHandle::shut_down` says when a socket goes without the close frame).
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        // A socket registered after this look sees the cancelled token (`register`).
        for sockets in lock(&self.inner.users).values() {
            for socket in sockets {
                socket.shut_down();
            }
        }
        self.inner.sockets.close();
        self.inner.sockets.wait().await;
    }
}

impl Inner {
    fn new_socket_id(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Attaches a socket to a channel's hub, creating the hub if this gateway has none.
    fn attach(self: &Arc<Self>, channel: &ChannelId, socket: &SocketHandle) -> Arc<Hub> {
        let mut hubs = lock(&self.hubs);
        let hub = hubs
            .entry(channel.clone())
            .or_insert_with(|| Hub::spawn(self.clone(), channel.clone(), None));
        hub.attach(socket);
        hub.clone()
    }

    /// Makes a socket known: it then receives its user's events and every channel its user is
    /// in, everything committed after this returns. The socket is registered before the channel list is read, so a membership change
    /// committed in between is seen by one path or the other.
    async fn register(self: &Arc<Self>, socket: &SocketHandle) -> Result<(), Register> {
        let first = {
            let mut users = lock(&self.users);
            let sockets = users.entry(socket.user().clone()).or_default();
            sockets.push(socket.clone());
            sockets.len() == 1
        };
        // After joining `users`: either shutdown's walk over `users` finds the socket, or
        // the token was cancelled before that walk and so before this check.
        if self.shutdown.is_cancelled() {
            socket.shut_down();
        }
        if first {
            let _topics = self.topics.lock().await;
            if let Err(error) = self
                .subscription
                .subscribe(Topic::User(socket.user().clone()))
                .await
            {
                tracing::warn!(%error, "user topic subscribe failed");
            }
        }
        let hubs: Vec<Arc<Hub>> = self
            .backend
            .user_channel_ids(socket.user())
            .await
            .map_err(Register::Backend)?
            .iter()
            .map(|channel| self.attach(channel, socket))
            .collect();
        // `hello` is the cut: once every hub knows its position, all later changes reach the
        // socket, and a client catches up on everything before from the store. A hub that
        // cannot learn its position (the store will not say where its channel is) must not
        // hold the socket, or a shutdown waiting for it, for ever.
        let ready = async {
            for hub in &hubs {
                hub.ready().await;
            }
        };
        tokio::select! {
            () = ready => Ok(()),
            () = self.shutdown.cancelled() => Err(Register::ShuttingDown),
            () = tokio::time::sleep(REGISTER_TIMEOUT) => Err(Register::NotReady),
        }
    }

    fn unregister(self: &Arc<Self>, socket: &SocketHandle) {
        let channels = socket.take_channels();
        {
            let hubs = lock(&self.hubs);
            for channel in channels {
                if let Some(hub) = hubs.get(&channel) {
                    hub.detach(socket.id());
                }
            }
        }
        let last = {
            let mut users = lock(&self.users);
            match users.get_mut(socket.user()) {
                Some(sockets) => {
                    sockets.retain(|s| s.id() != socket.id());
                    let empty = sockets.is_empty();
                    if empty {
                        users.remove(socket.user());
                    }
                    empty
                }
                None => false,
            }
        };
        if last {
            let inner = self.clone();
            let user = socket.user().clone();
            tokio::spawn(async move {
                let _topics = inner.topics.lock().await;
                if !lock(&inner.users).contains_key(&user)
                    && let Err(error) = inner.subscription.unsubscribe(&Topic::User(user)).await
                {
                    tracing::warn!(%error, "user topic unsubscribe failed");
                }
            });
        }
    }

    fn user_sockets(&self, user: &UserId) -> Vec<SocketHandle> {
        lock(&self.users).get(user).cloned().unwrap_or_default()
    }

    fn on_user_event(self: &Arc<Self>, user: &UserId, event: &UserEvent) {
        let sockets = self.user_sockets(user);
        if sockets.is_empty() {
            return;
        }
        let frame = match event {
            UserEvent::ChannelAdded { channel, seq } => {
                {
                    let mut hubs = lock(&self.hubs);
                    match hubs.get(&channel.id) {
                        Some(hub) => hub.expect_member(self, user, *seq),
                        None => {
                            // Start just before the join, so the hub delivers it (and attaches
                            // this user's sockets) whatever was published before it subscribed.
                            let hub = Hub::spawn(self.clone(), channel.id.clone(), Some(seq - 1));
                            hub.expect_member(self, user, *seq);
                            hubs.insert(channel.id.clone(), hub);
                        }
                    }
                }
                ServerFrame::ChannelAdded {
                    channel: channel.into(),
                }
            }
            // No detaching here: the channel's hub detaches the user right after delivering
            // their `member.left`, in sequence order, so they get their own departure and
            // nothing after it. Detaching on this event instead would race that delivery, and
            // could undo a later rejoin the hub has already applied.
            UserEvent::ChannelRemoved { channel_id, .. } => ServerFrame::ChannelRemoved {
                channel_id: channel_id.to_string(),
            },
            UserEvent::Read { channel_id, seq } => ServerFrame::Read {
                channel_id: channel_id.to_string(),
                seq: *seq,
            },
            UserEvent::Draft { draft } => ServerFrame::Draft {
                draft: draft.into(),
            },
            UserEvent::FileUpdated { file } => ServerFrame::FileUpdated { file: file.into() },
            UserEvent::NotificationCleared { channel_id, seq } => {
                ServerFrame::NotificationCleared {
                    channel_id: channel_id.to_string(),
                    seq: *seq,
                }
            }
            UserEvent::SessionRevoked { session_id } => {
                for socket in sockets.iter().filter(|s| s.session() == session_id) {
                    socket.revoke();
                }
                return;
            }
        };
        let frame = socket::encode(&frame);
        for socket in &sockets {
            socket.push(&frame);
        }
    }
}

/// Routes bus deliveries: channel events to their hub, user events to the user's sockets.
async fn dispatch(inner: Arc<Inner>) {
    let shutdown = inner.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        let delivery = tokio::select! {
            _ = &mut shutdown => return,
            d = inner.subscription.recv() => d,
        };
        match delivery {
            None => return,
            Some(Delivery::Message(msg)) => match &*msg {
                BusMessage::Channel(ChannelEvent { channel_id, .. })
                | BusMessage::Typing { channel_id, .. } => {
                    let hub = lock(&inner.hubs).get(channel_id).cloned();
                    if let Some(hub) = hub {
                        // Handed over, not shared: the hub can then take the event out of
                        // its `Arc` without copying the message.
                        hub.offer(msg);
                    }
                }
                BusMessage::User { user_id, event } => inner.on_user_event(user_id, event),
                BusMessage::Presence { user_id, status } => {
                    let watchers = lock(&inner.watchers)
                        .get(user_id)
                        .cloned()
                        .unwrap_or_default();
                    let frame = socket::encode(&ServerFrame::Presence {
                        user_id: user_id.to_string(),
                        status: status.as_str().to_owned(),
                    });
                    for socket in &watchers {
                        socket.push(&frame);
                    }
                }
            },
            Some(Delivery::Resync) => {
                tracing::warn!(
                    "bus deliveries were lost; catching every channel up from the store"
                );
                for hub in lock(&inner.hubs).values() {
                    hub.request_resync();
                }
                if inner.reconcile.request() {
                    tokio::spawn(reconcile_until_done(inner.clone()));
                }
            }
        }
    }
}

/// Runs channel-list reconciles until one completes with none asked for meanwhile. A pass cut
/// short by the chat services being away is run again after `RECONCILE_RETRY`, so users added
/// to channels while the bus was down are not forgotten once the chat services are back.
async fn reconcile_until_done(inner: Arc<Inner>) {
    /// Gives the job back if this task ends some other way (a panic), so later resyncs are
    /// not locked out of reconciling for good.
    struct Running<'a>(&'a coalesce::Coalesced);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.reset();
        }
    }
    let running = Running(&inner.reconcile);
    loop {
        if !reconcile_channel_lists(inner.clone()).await {
            tokio::select! {
                _ = inner.shutdown.cancelled() => break,
                _ = tokio::time::sleep(RECONCILE_RETRY) => continue,
            }
        }
        if !inner.reconcile.finished() {
            std::mem::forget(running);
            return;
        }
    }
    drop(running);
}

/// How long a reconcile cut short by unreachable chat services waits before it runs again.
const RECONCILE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// After lost bus deliveries: hubs fill their channels from the store, which also replays
/// every `member.joined`/`member.left` of channels this gateway has a hub for. A user added to
/// a channel that has no hub here was announced only on the user's topic, which has no log to
/// replay; such users' sockets are asked to reconnect (1012), and their `hello` and catch-up
/// then include the channel.
///
/// Returns `false` when it stopped early because no chat service answered (one unanswered
/// call per user would make a pass over many users last for hours).
async fn reconcile_channel_lists(inner: Arc<Inner>) -> bool {
    let users: Vec<UserId> = lock(&inner.users).keys().cloned().collect();
    for user in users {
        let channels = match inner.backend.user_channel_ids(&user).await {
            Ok(channels) => channels,
            Err(error) if error.code == confab_core::ErrorCode::Unavailable => {
                tracing::warn!(
                    ?error,
                    "chat services away during a reconcile; retrying soon"
                );
                return false;
            }
            Err(error) => {
                tracing::warn!(?error, %user, "cannot read a channel list after a resync");
                continue;
            }
        };
        let missed = {
            let hubs = lock(&inner.hubs);
            channels.iter().any(|c| !hubs.contains_key(c))
        };
        if missed {
            for socket in inner.user_sockets(&user) {
                socket.ask_to_reconnect();
            }
        }
    }
    true
}

/// Presence: sockets report their state, changes of a user's aggregate status are published,
/// and sockets watching that user hear of them.
impl Inner {
    /// Records a socket's state and publishes the user's new status if it changed.
    async fn set_presence(&self, user: &UserId, socket: u64, idle: Option<bool>) {
        let change = match idle {
            Some(idle) => self.presence.set(user, socket, idle).await,
            None => self.presence.remove(user, socket).await,
        };
        if let Some(status) = change {
            let msg = BusMessage::Presence {
                user_id: user.clone(),
                status,
            };
            if let Err(error) = self.bus.publish(Arc::new(msg)).await {
                tracing::warn!(%error, "presence publish failed");
            }
        }
    }

    /// Makes `socket` watch exactly `users` (replacing what it watched before) and returns
    /// their current status, read after subscribing so no change falls in between.
    async fn watch(&self, socket: &SocketHandle, users: Vec<UserId>) -> Vec<(UserId, Presence)> {
        let users = self.set_watched(socket, users).await;
        let statuses = self.presence.status(&users).await;
        users.into_iter().zip(statuses).collect()
    }

    async fn unwatch(&self, socket: &SocketHandle) {
        self.set_watched(socket, Vec::new()).await;
    }

    /// Makes `socket` watch exactly `users` (repeats dropped, which it returns) by changing only
    /// the difference: a user watched before and now stays subscribed throughout, so a client
    /// re-sending a growing list costs no topic churn.
    async fn set_watched(&self, socket: &SocketHandle, users: Vec<UserId>) -> Vec<UserId> {
        let mut now = HashSet::new();
        let users: Vec<UserId> = users
            .into_iter()
            .filter(|u| now.insert(u.clone()))
            .collect();
        let before: HashSet<UserId> = socket.set_watching(users.clone()).into_iter().collect();
        let (mut newly_watched, mut unwatched) = (Vec::new(), Vec::new());
        {
            let mut watchers = lock(&self.watchers);
            for user in before.difference(&now) {
                if let Some(list) = watchers.get_mut(user) {
                    list.retain(|s| s.id() != socket.id());
                    if list.is_empty() {
                        watchers.remove(user);
                        unwatched.push(user.clone());
                    }
                }
            }
            for user in users.iter().filter(|u| !before.contains(*u)) {
                let list = watchers.entry(user.clone()).or_default();
                if list.is_empty() {
                    newly_watched.push(user.clone());
                }
                list.push(socket.clone());
            }
        }
        self.resubscribe_presence(newly_watched, unwatched).await;
        users
    }

    /// Subscribes to the presence topics of users now watched here and drops those of users
    /// no local socket watches any more (checked again under the topics lock).
    async fn resubscribe_presence(&self, newly_watched: Vec<UserId>, unwatched: Vec<UserId>) {
        if newly_watched.is_empty() && unwatched.is_empty() {
            return;
        }
        let _topics = self.topics.lock().await;
        for user in newly_watched {
            if let Err(error) = self.subscription.subscribe(Topic::Presence(user)).await {
                tracing::warn!(%error, "presence subscribe failed");
            }
        }
        for user in unwatched {
            if !lock(&self.watchers).contains_key(&user)
                && let Err(error) = self.subscription.unsubscribe(&Topic::Presence(user)).await
            {
                tracing::warn!(%error, "presence unsubscribe failed");
            }
        }
    }
}
