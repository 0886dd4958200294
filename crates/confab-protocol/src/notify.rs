//! Notifications on the wire: preferences (`/me/notification-preferences`, a channel's, a
//! workspace's default), thread follows, push subscriptions, and the `notification.cleared`
//! frame (in `ws.rs`).

use confab_core::notify::{ChannelNotifyPrefs, NotifyLevel, NotifyPrefs};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A daily do-not-disturb period in the user's time zone, `HH:MM` to `HH:MM` (spanning
/// midnight when `start` is later than `end`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DndWire {
    #[schema(pattern = r"^[0-2][0-9]:[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = r"^[0-2][0-9]:[0-5][0-9]$")]
    pub end: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotifyPrefsWire {
    /// `default` (the workspace's default), `all`, `mentions` or `none`.
    pub level: String,
    /// Web Push to this user's registered browsers.
    pub push: bool,
    /// Email digests (when the server sends email and the user has an address).
    pub email: bool,
    /// At most one email digest per this many minutes.
    pub email_interval_minutes: u32,
    /// IANA time zone name the DND schedule is read in.
    pub time_zone: String,
    pub dnd: Option<DndWire>,
    /// Snoozed until then (RFC 3339); nothing is sent meanwhile.
    pub snooze_until: Option<String>,
}

impl From<&NotifyPrefs> for NotifyPrefsWire {
    fn from(p: &NotifyPrefs) -> Self {
        Self {
            level: p.level.as_str().to_owned(),
            push: p.push,
            email: p.email,
            email_interval_minutes: p.email_interval_minutes,
            time_zone: p.time_zone.clone(),
            dnd: p.dnd.map(|d| DndWire {
                start: d.start_text(),
                end: d.end_text(),
            }),
            snooze_until: p.snooze_until.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelNotifyPrefsWire {
    pub channel_id: String,
    /// `default` (the user's own level), `all`, `mentions` or `none`.
    pub level: String,
    pub muted: bool,
    /// `@channel`, `@everyone` and `@here` in this channel do not notify.
    pub ignore_channel_mentions: bool,
}

impl ChannelNotifyPrefsWire {
    pub fn new(channel_id: &confab_core::ChannelId, p: &ChannelNotifyPrefs) -> Self {
        Self {
            channel_id: channel_id.to_string(),
            level: p.level.as_str().to_owned(),
            muted: p.muted,
            ignore_channel_mentions: p.ignore_channel_mentions,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceNotifyDefaultWire {
    pub workspace_id: String,
    /// `all`, `mentions` or `none`.
    pub level: String,
}

impl WorkspaceNotifyDefaultWire {
    pub fn new(ws: &confab_core::WorkspaceId, level: NotifyLevel) -> Self {
        Self {
            workspace_id: ws.to_string(),
            level: level.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotifyPrefsResponse {
    pub preferences: NotifyPrefsWire,
    /// Channels with settings of their own.
    pub channels: Vec<ChannelNotifyPrefsWire>,
    /// Each of the user's workspaces' default level.
    pub defaults: Vec<WorkspaceNotifyDefaultWire>,
}

/// What is absent stays as it was.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNotifyPrefsRequest {
    #[serde(default)]
    #[schema(pattern = "^(default|all|mentions|none)$")]
    pub level: Option<String>,
    #[serde(default)]
    pub push: Option<bool>,
    #[serde(default)]
    pub email: Option<bool>,
    #[serde(default, deserialize_with = "crate::integer::option_i64")]
    #[schema(minimum = 0, maximum = 1440)]
    pub email_interval_minutes: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_+\-/]+$")]
    pub time_zone: Option<String>,
    /// A schedule, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::notify::present")]
    #[schema(nullable)]
    pub dnd: Option<Option<DndWire>>,
    /// Snooze for this many minutes from now; 0 ends a snooze.
    #[serde(default, deserialize_with = "crate::integer::option_i64")]
    #[schema(minimum = 0, maximum = 10080)]
    pub snooze_minutes: Option<i64>,
}

/// A field given as `null` is `Some(None)`; absent is `None` (with `#[serde(default)]`).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelNotifyPrefsRequest {
    #[serde(default)]
    #[schema(pattern = "^(default|all|mentions|none)$")]
    pub level: Option<String>,
    #[serde(default)]
    pub muted: Option<bool>,
    #[serde(default)]
    pub ignore_channel_mentions: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceNotifyDefaultRequest {
    #[schema(pattern = "^(all|mentions|none)$")]
    pub level: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FollowResponse {
    pub following: bool,
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionRequest {
    #[schema(max_length = 2048)]
    pub endpoint: String,
    pub keys: PushKeysWire,
    /// Browsers send it; confab does not use it.
    #[serde(default, rename = "expirationTime")]
    #[schema(nullable)]
    pub expiration_time: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushKeysWire {
    /// The browser's P-256 public key, base64url.
    #[schema(max_length = 128)]
    pub p256dh: String,
    /// The browser's authentication secret, base64url.
    #[schema(max_length = 64)]
    pub auth: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionWire {
    pub id: String,
    /// The push service it goes through (`fcm.googleapis.com`), never the whole endpoint.
    pub endpoint_host: String,
    /// The device (session) that registered it.
    pub session_id: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionResponse {
    pub subscription: PushSubscriptionWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionsResponse {
    /// The VAPID public key to subscribe with (base64url); `null` when Web Push is off.
    pub vapid_public_key: Option<String>,
    pub subscriptions: Vec<PushSubscriptionWire>,
}
