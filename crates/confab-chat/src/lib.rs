//! The chat service: every write, from HTTP or WebSocket, goes through one of its methods,
//! which authorise and validate, commit through the [`Store`], then publish the committed
//! changes on the [`Bus`]. Publishing after the commit is what makes live fan-out safe to lose:
//! anything published is already in the store for catch-up.

mod accounts;
mod channels;
mod conversation;
mod drafts;
mod error;
mod files;
mod limiter;
mod messages;
mod notify;
mod profile;
mod search;
mod secrets;
mod sync;
mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use confab_bus::{Bus, PresenceRegistry};
use confab_core::{
    BusMessage, Channel, ChannelEvent, ChannelId, ErrorCode, Limits, Role, UserEvent, UserId,
};
use confab_store::Store;

pub use accounts::{Caller, ClientInfo, Registration, Session};
pub use confab_store::PushSubscription;
pub use error::{ChatError, ChatResult};
pub use files::{
    Download, FileConfig, FileStorage, FileView, ImageLimits, Reader, UploadRequest, UploadTicket,
    UrlSigner, Variant,
};
pub use limiter::{KeyedLimiter, RateSpec};
pub use messages::{HistoryPage, HistoryQuery, SendRequest};
pub use notify::{
    ChannelPrefsUpdate, NotifyConfig, NotifyOverview, NotifySinks, NotifyWorker, PrefsUpdate,
    endpoint_host,
};
pub use profile::{MAX_STATUS_MINUTES, ProfileUpdate};
pub use search::{DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE, SearchInput, SearchOutput, SearchResult};
pub use sync::{MAX_SYNC_CURSORS, MAX_SYNC_MESSAGES, SyncOutcome, SyncedChannel};
pub use workspaces::Invite;

const DAY_MICROS: i64 = 86_400 * 1_000_000;

#[derive(Clone, Debug)]
pub struct ChatConfig {
    pub limits: Limits,
    /// Sends per user, on every path together.
    pub send_rate: RateSpec,
    /// Edits, deletes and reactions per user, together: each re-encodes and fans out a whole
    /// message, as a send does.
    pub change_rate: RateSpec,
    /// Channels, DMs and invites created per user, together.
    pub create_rate: RateSpec,
    /// Presence queries and `presence_subscribe` frames per user: each answers with up to
    /// [`MAX_PRESENCE_USERS`](conversation::MAX_PRESENCE_USERS) statuses.
    pub presence_rate: RateSpec,
    /// `POST /sync` calls per user: each reads every channel of the user and up to 2,000
    /// messages, so one member repeating it must not take the store from the others.
    pub sync_rate: RateSpec,
    /// How long a WebSocket ticket stays redeemable.
    pub ticket_ttl: Duration,
    /// How long sessions live: unused, and in all.
    pub session_life: confab_store::SessionLifetime,
    /// Who may create an account.
    pub registration: RegistrationMode,
    /// Drafts kept per user; saving one more forgets the oldest.
    pub max_drafts: u32,
    /// Uploads asked for (`POST /files`) per user.
    pub upload_rate: RateSpec,
    /// Searches per user: each may read the index at length, so one member repeating them
    /// must not take the store from the others.
    pub search_rate: RateSpec,
    /// Characters a search query may hold.
    pub search_max_query_chars: usize,
    /// How notifications are delivered.
    pub notify: NotifyConfig,
}

/// Who may create an account through the API. Whatever the mode, a new server's first
/// account may (it becomes the server's administrator), and `confab admin create-user` can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone.
    Open,
    /// Whoever brings a workspace invite, which they accept on registering.
    Invite,
    /// Nobody.
    Closed,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            send_rate: RateSpec::per_second(10, 50),
            change_rate: RateSpec::per_second(10, 50),
            create_rate: RateSpec::per_minute(20, 20),
            presence_rate: RateSpec::per_minute(30, 10),
            sync_rate: RateSpec::per_minute(60, 30),
            ticket_ttl: Duration::from_secs(30),
            session_life: confab_store::SessionLifetime {
                idle_micros: 30 * DAY_MICROS,
                absolute_micros: 90 * DAY_MICROS,
            },
            registration: RegistrationMode::Open,
            max_drafts: 500,
            upload_rate: RateSpec::per_minute(60, 30),
            search_rate: RateSpec::per_minute(60, 20),
            search_max_query_chars: 1000,
            notify: NotifyConfig::default(),
        }
    }
}

pub struct ChatService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    presence: Arc<dyn PresenceRegistry>,
    config: ChatConfig,
    send_limiter: KeyedLimiter<UserId>,
    change_limiter: KeyedLimiter<UserId>,
    create_limiter: KeyedLimiter<UserId>,
    presence_limiter: KeyedLimiter<UserId>,
    sync_limiter: KeyedLimiter<UserId>,
    upload_limiter: KeyedLimiter<UserId>,
    search_limiter: KeyedLimiter<UserId>,
    /// Where file bytes go; without it every file call answers 404.
    files: Option<FileStorage>,
    /// Accounts whose sign-ins are slowed down after failed ones.
    login_backoff: std::sync::Mutex<std::collections::HashMap<UserId, accounts::Backoff>>,
    /// One typing indicator per user per channel per 3 seconds.
    typing_limiter: KeyedLimiter<(UserId, ChannelId)>,
    /// Where notifications go; all off by default.
    sinks: NotifySinks,
    /// Wakes this process's notification worker when it queued something due now.
    notify_wake: tokio::sync::Notify,
}

impl ChatService {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        presence: Arc<dyn PresenceRegistry>,
        config: ChatConfig,
    ) -> Self {
        let send_limiter = KeyedLimiter::new(config.send_rate);
        let change_limiter = KeyedLimiter::new(config.change_rate);
        let create_limiter = KeyedLimiter::new(config.create_rate);
        let presence_limiter = KeyedLimiter::new(config.presence_rate);
        let sync_limiter = KeyedLimiter::new(config.sync_rate);
        let upload_limiter = KeyedLimiter::new(config.upload_rate);
        let search_limiter = KeyedLimiter::new(config.search_rate);
        let typing_limiter = KeyedLimiter::new(RateSpec {
            count: 1,
            per: Duration::from_secs(3),
            burst: 1,
        });
        Self {
            store,
            bus,
            presence,
            config,
            send_limiter,
            change_limiter,
            create_limiter,
            presence_limiter,
            sync_limiter,
            upload_limiter,
            search_limiter,
            files: None,
            login_backoff: std::sync::Mutex::new(std::collections::HashMap::new()),
            typing_limiter,
            sinks: NotifySinks::default(),
            notify_wake: tokio::sync::Notify::new(),
        }
    }

    /// Stores file bytes in `files`.
    pub fn with_files(mut self, files: FileStorage) -> Self {
        self.files = Some(files);
        self
    }

    /// Delivers notifications through `sinks`.
    pub fn with_sinks(mut self, sinks: NotifySinks) -> Self {
        self.sinks = sinks;
        self
    }

    pub fn presence(&self) -> &Arc<dyn PresenceRegistry> {
        &self.presence
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Forgets rate-limit state of keys that are back to full burst, bounding its memory.
    pub fn sweep_limiters(&self) {
        self.send_limiter.sweep();
        self.change_limiter.sweep();
        self.create_limiter.sweep();
        self.presence_limiter.sweep();
        self.sync_limiter.sweep();
        self.upload_limiter.sweep();
        self.search_limiter.sweep();
        self.typing_limiter.sweep();
        self.sweep_login_backoff();
    }

    /// Checked before anything else a limited call does, so a flood costs no database work.
    fn limit(limiter: &KeyedLimiter<UserId>, user: &UserId) -> ChatResult<()> {
        limiter
            .check(user)
            .map_err(|retry_after| ChatError::RateLimited { retry_after })
    }

    pub(crate) fn limit_change(&self, user: &UserId) -> ChatResult<()> {
        Self::limit(&self.change_limiter, user)
    }

    pub(crate) fn limit_create(&self, user: &UserId) -> ChatResult<()> {
        Self::limit(&self.create_limiter, user)
    }

    pub(crate) fn limit_upload(&self, user: &UserId) -> ChatResult<()> {
        Self::limit(&self.upload_limiter, user)
    }

    pub(crate) fn limit_sync(&self, user: &UserId) -> ChatResult<()> {
        Self::limit(&self.sync_limiter, user)
    }

    pub(crate) fn limit_presence(&self, user: &UserId) -> ChatResult<()> {
        Self::limit(&self.presence_limiter, user)
    }

    /// Publishes committed changes. A bus failure is logged, never returned: the change is
    /// durable and clients catch up from the store.
    async fn publish(&self, msg: BusMessage) {
        if let Err(error) = self.bus.publish(Arc::new(msg)).await {
            tracing::warn!(%error, "publish failed; subscribers will catch up from the store");
        }
    }

    async fn publish_events(&self, events: Vec<ChannelEvent>) {
        for event in events {
            self.publish(BusMessage::Channel(event)).await;
        }
    }

    /// Publishes a membership change and tells the member's own sockets.
    async fn publish_membership(
        &self,
        event: ChannelEvent,
        user: &UserId,
        channel: Option<Channel>,
    ) {
        let seq = event.seq;
        let channel_id = event.channel_id.clone();
        self.publish(BusMessage::Channel(event)).await;
        let user_event = match channel {
            Some(channel) => UserEvent::ChannelAdded { channel, seq },
            None => UserEvent::ChannelRemoved { channel_id, seq },
        };
        self.publish(BusMessage::User {
            user_id: user.clone(),
            event: user_event,
        })
        .await;
    }

    /// What a user may do with a channel. Channels the user cannot see are reported as not
    /// found, so their existence does not leak.
    async fn access(&self, user: &UserId, channel_id: &ChannelId) -> ChatResult<Access> {
        let not_found = || ChatError::refused(ErrorCode::ChannelNotFound, "channel not found");
        let (channel, role, member) = self
            .store
            .channel_access(channel_id, user)
            .await?
            .ok_or_else(not_found)?;
        let role = role.ok_or_else(not_found)?;

        let readable =
            member || (channel.kind == confab_core::ChannelKind::Public && role != Role::Guest);
        if !readable {
            return Err(not_found());
        }
        Ok(Access {
            channel,
            role,
            member,
        })
    }
}

pub(crate) struct Access {
    channel: Channel,
    role: Role,
    member: bool,
}
