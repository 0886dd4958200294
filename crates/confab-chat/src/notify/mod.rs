//! Notifications for people who are away: what the user asks for (preferences, thread
//! follows, push subscriptions), withdrawing what they have read, and the worker
//! (`worker.rs`) that turns the store's outbox into digests for the sinks.

mod worker;

use std::sync::Arc;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use confab_core::notify::{
    ChannelNotifyPrefs, DndSchedule, MAX_EMAIL_INTERVAL_MINUTES, MAX_SNOOZE_MINUTES, NotifyLevel,
    NotifyPrefs, PrefsError, check_time_zone,
};
use confab_core::{
    BusMessage, ChannelId, ErrorCode, MessageId, SessionId, Timestamp, UserEvent, UserId,
    WorkspaceId,
};
use confab_notify::Sink;
use confab_store::PushSubscription;

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

pub use worker::NotifyWorker;

/// The push service a subscription goes through (`fcm.googleapis.com`): what a device list
/// shows, never the whole endpoint (which is a capability to push to that browser).
pub fn endpoint_host(endpoint: &str) -> String {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// How notifications are delivered. The delays give the user's own devices the first chance:
/// a notification still unread when its delay is over goes out.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    pub push_delay: Duration,
    pub email_delay: Duration,
    pub webhook_delay: Duration,
    /// Push, email and webhook say only "New message from Ada in #ops".
    pub hide_content: bool,
    /// Failed attempts of one digest before it is given up.
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a worker holds what it claimed; another takes it over after that.
    pub lease: Duration,
    /// How often a worker looks for due work (sooner when this process queued some).
    pub poll: Duration,
    /// Push subscriptions (browsers) one user may register.
    pub max_push_subscriptions: usize,
    /// Accept `http://` push endpoints (tests and closed networks; browsers give `https://`).
    pub push_allow_http: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            push_delay: Duration::from_secs(30),
            email_delay: Duration::from_secs(120),
            webhook_delay: Duration::from_secs(30),
            hide_content: false,
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(1),
            max_push_subscriptions: 20,
            push_allow_http: false,
        }
    }
}

/// The sinks configured; each `None` is off.
#[derive(Clone, Default)]
pub struct NotifySinks {
    pub push: Option<Arc<dyn Sink>>,
    pub email: Option<Arc<dyn Sink>>,
    pub webhook: Option<Arc<dyn Sink>>,
    /// The VAPID public key browsers subscribe with (base64url), when push is on.
    pub vapid_public_key: Option<String>,
}

impl NotifySinks {
    pub(crate) fn by_name(&self, sink: &str) -> Option<&Arc<dyn Sink>> {
        match sink {
            "push" => self.push.as_ref(),
            "email" => self.email.as_ref(),
            "webhook" => self.webhook.as_ref(),
            _ => None,
        }
    }
}

/// A user's notification settings as `GET /me/notification-preferences` shows them.
pub struct NotifyOverview {
    pub prefs: NotifyPrefs,
    pub channels: Vec<(ChannelId, ChannelNotifyPrefs)>,
    pub defaults: Vec<(WorkspaceId, NotifyLevel)>,
}

/// What `PUT /me/notification-preferences` asks for; what is absent stays.
#[derive(Default)]
pub struct PrefsUpdate<'a> {
    pub level: Option<&'a str>,
    pub push: Option<bool>,
    pub email: Option<bool>,
    pub email_interval_minutes: Option<i64>,
    pub time_zone: Option<&'a str>,
    /// `Some(None)` removes the schedule.
    pub dnd: Option<Option<(&'a str, &'a str)>>,
    /// 0 ends a snooze.
    pub snooze_minutes: Option<i64>,
}

/// What `PUT /channels/{id}/notification-preferences` asks for.
#[derive(Default)]
pub struct ChannelPrefsUpdate<'a> {
    pub level: Option<&'a str>,
    pub muted: Option<bool>,
    pub ignore_channel_mentions: Option<bool>,
}

fn refused(e: PrefsError) -> ChatError {
    ChatError::refused(e.code(), e.0)
}

fn parse_level(raw: &str, allow_default: bool) -> ChatResult<NotifyLevel> {
    match NotifyLevel::parse(raw) {
        Some(NotifyLevel::Default) if !allow_default => Err(ChatError::refused(
            ErrorCode::InvalidPreferences,
            "level must be all, mentions or none",
        )),
        Some(level) => Ok(level),
        None => Err(ChatError::refused(
            ErrorCode::InvalidPreferences,
            "level must be default, all, mentions or none",
        )),
    }
}

/// Longest push endpoint URL kept.
const MAX_ENDPOINT: usize = 2048;

impl ChatService {
    pub async fn notification_overview(&self, user: &UserId) -> ChatResult<NotifyOverview> {
        let prefs = self.store.notify_prefs(user).await?;
        let channels = self.store.all_channel_notify_prefs(user).await?;
        let mut defaults = Vec::new();
        for (ws, _) in self.store.user_workspaces(user).await? {
            let level = self.store.workspace_notify_default(&ws.id).await?;
            defaults.push((ws.id, level));
        }
        Ok(NotifyOverview {
            prefs,
            channels,
            defaults,
        })
    }

    pub async fn update_notification_prefs(
        &self,
        user: &UserId,
        req: PrefsUpdate<'_>,
    ) -> ChatResult<NotifyOverview> {
        // Everything is checked before anything is saved.
        let level = req.level.map(|l| parse_level(l, true)).transpose()?;
        let interval = match req.email_interval_minutes {
            Some(m) if !(0..=i64::from(MAX_EMAIL_INTERVAL_MINUTES)).contains(&m) => {
                return Err(ChatError::refused(
                    ErrorCode::InvalidPreferences,
                    format!("email_interval_minutes must be 0 to {MAX_EMAIL_INTERVAL_MINUTES}"),
                ));
            }
            m => m.map(|m| m as u32),
        };
        if let Some(tz) = req.time_zone {
            check_time_zone(tz).map_err(refused)?;
        }
        let dnd = req
            .dnd
            .map(|d| d.map(|(s, e)| DndSchedule::parse(s, e)).transpose())
            .transpose()
            .map_err(refused)?;
        let snooze = match req.snooze_minutes {
            Some(0) => Some(None),
            Some(m) if (1..=MAX_SNOOZE_MINUTES).contains(&m) => {
                Some(Some(Timestamp::now().plus_secs(m * 60)))
            }
            Some(_) => {
                return Err(ChatError::refused(
                    ErrorCode::InvalidPreferences,
                    format!("snooze_minutes must be 0 to {MAX_SNOOZE_MINUTES}"),
                ));
            }
            None => None,
        };
        self.limit_change(user)?;
        let mut prefs = self.store.notify_prefs(user).await?;
        if let Some(level) = level {
            prefs.level = level;
        }
        if let Some(push) = req.push {
            prefs.push = push;
        }
        if let Some(email) = req.email {
            prefs.email = email;
        }
        if let Some(interval) = interval {
            prefs.email_interval_minutes = interval;
        }
        if let Some(tz) = req.time_zone {
            prefs.time_zone = tz.to_owned();
        }
        if let Some(dnd) = dnd {
            prefs.dnd = dnd;
        }
        if let Some(snooze) = snooze {
            prefs.snooze_until = snooze;
        }
        self.store.set_notify_prefs(user, &prefs).await?;
        self.notification_overview(user).await
    }

    pub async fn channel_notification_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> ChatResult<ChannelNotifyPrefs> {
        self.access(user, channel).await?;
        Ok(self.store.channel_notify_prefs(user, channel).await?)
    }

    pub async fn update_channel_notification_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
        req: ChannelPrefsUpdate<'_>,
    ) -> ChatResult<ChannelNotifyPrefs> {
        let level = req.level.map(|l| parse_level(l, true)).transpose()?;
        self.limit_change(user)?;
        // Members only: a channel's settings shape what its messages cost to notify.
        if !self.access(user, channel).await?.member {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "join the channel to set its notifications",
            ));
        }
        let mut prefs = self.store.channel_notify_prefs(user, channel).await?;
        if let Some(level) = level {
            prefs.level = level;
        }
        if let Some(muted) = req.muted {
            prefs.muted = muted;
        }
        if let Some(ignore) = req.ignore_channel_mentions {
            prefs.ignore_channel_mentions = ignore;
        }
        self.store
            .set_channel_notify_prefs(user, channel, &prefs)
            .await?;
        Ok(prefs)
    }

    /// Sets a workspace's default level: its admins and owners only.
    pub async fn set_workspace_notification_default(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
        level: &str,
    ) -> ChatResult<NotifyLevel> {
        let level = parse_level(level, false)?;
        self.limit_change(user)?;
        if !self.workspace_role(user, ws).await?.is_admin() {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only workspace admins can set notification defaults",
            ));
        }
        self.store.set_workspace_notify_default(ws, level).await?;
        Ok(level)
    }

    /// Follows or unfollows the thread of `id` (its root or any reply); answers whether the
    /// user now follows it.
    pub async fn follow_thread(
        &self,
        user: &UserId,
        id: &MessageId,
        following: bool,
    ) -> ChatResult<bool> {
        self.limit_change(user)?;
        let (message, _) = self.readable_message(user, id).await?;
        let root = message.thread_root_id.unwrap_or(message.id);
        self.store.set_thread_follow(&root, user, following).await?;
        Ok(following)
    }

    /// Whether the user follows the thread whose root is `root`.
    pub async fn follows_thread(&self, user: &UserId, root: &MessageId) -> ChatResult<bool> {
        Ok(self.store.follows_thread(root, user).await?)
    }

    /// The user's push subscriptions, and the key browsers subscribe with (`None`: push is
    /// off on this server).
    pub async fn push_subscriptions(
        &self,
        user: &UserId,
    ) -> ChatResult<(Option<String>, Vec<PushSubscription>)> {
        Ok((
            self.sinks.vapid_public_key.clone(),
            self.store.push_subscriptions(user).await?,
        ))
    }

    /// Registers this device's browser for Web Push; `true` when it is new.
    pub async fn add_push_subscription(
        &self,
        user: &UserId,
        session: &SessionId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> ChatResult<(PushSubscription, bool)> {
        let bad = |why: &'static str| ChatError::refused(ErrorCode::InvalidPushSubscription, why);
        let url = url::Url::parse(endpoint).map_err(|_| bad("endpoint must be a URL"))?;
        let scheme_ok = url.scheme() == "https"
            || (self.config.notify.push_allow_http && url.scheme() == "http");
        if endpoint.len() > MAX_ENDPOINT || !scheme_ok || url.host_str().is_none() {
            return Err(bad(
                "endpoint must be an https:// URL of at most 2048 characters",
            ));
        }
        if !self.config.notify.push_allow_http && !confab_notify::public_host(&url) {
            // Else any member could make this server send requests into its own network.
            return Err(bad("endpoint must be a public push service"));
        }
        let key = Base64UrlUnpadded::decode_vec(p256dh.trim_end_matches('='))
            .map_err(|_| bad("keys.p256dh must be base64url"))?;
        if key.len() != 65 || key[0] != 4 {
            return Err(bad("keys.p256dh must be an uncompressed P-256 public key"));
        }
        let secret = Base64UrlUnpadded::decode_vec(auth.trim_end_matches('='))
            .map_err(|_| bad("keys.auth must be base64url"))?;
        if secret.len() != 16 {
            return Err(bad("keys.auth must be 16 bytes"));
        }
        if self.sinks.push.is_none() {
            return Err(ChatError::refused(
                ErrorCode::NotFound,
                "Web Push is off on this server",
            ));
        }
        self.limit_change(user)?;
        let existing = self.store.push_subscriptions(user).await?;
        if existing.len() >= self.config.notify.max_push_subscriptions
            && !existing.iter().any(|s| s.endpoint == endpoint)
        {
            return Err(ChatError::refused(
                ErrorCode::InvalidPushSubscription,
                format!(
                    "at most {} devices may receive push notifications; remove one first",
                    self.config.notify.max_push_subscriptions
                ),
            ));
        }
        let sub = PushSubscription {
            id: MessageId::generate().to_string(),
            user_id: user.clone(),
            session_id: session.clone(),
            endpoint: endpoint.to_owned(),
            p256dh: Base64UrlUnpadded::encode_string(&key),
            auth: Base64UrlUnpadded::encode_string(&secret),
            created_at: Timestamp::now(),
        };
        Ok(self.store.put_push_subscription(&sub).await?)
    }

    pub async fn remove_push_subscription(&self, user: &UserId, id: &str) -> ChatResult<()> {
        if self.store.delete_push_subscription(user, id).await? {
            Ok(())
        } else {
            Err(ChatError::refused(
                ErrorCode::NotFound,
                "no push subscription of yours has that id",
            ))
        }
    }

    /// The user read `channel` up to `seq`: pending notifications of it are cancelled, what
    /// was pushed is withdrawn, and every device of theirs is told.
    pub(crate) async fn withdraw_notifications(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: i64,
    ) {
        let withdrawn = match self
            .store
            .withdraw_notifications(user, channel, seq, Timestamp::now())
            .await
        {
            Ok(w) => w,
            // The read itself is saved; the worker still checks the cursor before sending.
            Err(error) => {
                tracing::warn!(%error, "withdrawing notifications failed");
                return;
            }
        };
        if withdrawn.pushed {
            self.notify_wake.notify_one();
        }
        if withdrawn.cancelled > 0 || withdrawn.pushed {
            self.publish(BusMessage::User {
                user_id: user.clone(),
                event: UserEvent::NotificationCleared {
                    channel_id: channel.clone(),
                    seq,
                },
            })
            .await;
        }
    }
}
