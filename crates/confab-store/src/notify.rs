//! Notifications' store: preferences, thread follows, push subscriptions, and the outbox.
//!
//! The outbox is written by the message writes themselves (triggers, migrations sqlite 0008
//! and postgres 0007): a message that may notify someone leaves a job in its transaction. A
//! worker claims jobs ([`NotifyStore::claim_jobs`]), decides who hears of each, and completes
//! them ([`NotifyStore::complete_job`]: items and queue heads, and the job's removal, in one
//! transaction, only while its claim holds), then claims queue heads
//! ([`NotifyStore::claim_deliveries`]), reads their due items, delivers one digest per user
//! and sink, and settles ([`NotifyStore::finish_delivery`] / [`NotifyStore::retry_delivery`]).
//! Claims are leases: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two chat services never
//! hold the same one, and a claim whose holder died passes to another when it runs out.

use async_trait::async_trait;
use confab_core::notify::{ChannelNotifyPrefs, NotifyLevel, NotifyPrefs, NotifyReason};
use confab_core::{ChannelId, MessageId, SessionId, Timestamp, User, UserId, WorkspaceId};

use crate::StoreResult;

/// A browser's Web Push subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: String,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: Timestamp,
}

/// A message waiting to be turned into notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyJob {
    pub id: i64,
    pub message_id: MessageId,
    /// An edit: only those it newly mentions are told, those it no longer mentions are not.
    pub edited: bool,
    /// Who the message names: user IDs, then `*`, then those `@here` reached (the store's
    /// `mention_ids`), and the broadcast flags (1 `@channel`, 2 `@here`).
    pub mention_ids: Vec<String>,
    pub flags: i64,
    /// The same before an edit.
    pub old_mention_ids: Vec<String>,
    pub old_flags: i64,
    pub created_at: Timestamp,
    /// The claim's token: completing needs it to be the job's still.
    pub claim: i64,
}

/// One notification to write: to `user`, through `sink`, due at `due_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub sink: &'static str,
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub seq: i64,
    pub reason: NotifyReason,
    pub due_at: Timestamp,
}

/// A user and sink whose next items are due, held by one worker until `claim` is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryClaim {
    pub user_id: UserId,
    pub sink: String,
    pub claim: i64,
    pub attempts: u32,
    pub last_sent_at: Timestamp,
}

/// A pending notification as the worker sees it before delivering: with the recipient's
/// membership and read cursor in its channel now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNotification {
    pub id: i64,
    pub channel_id: ChannelId,
    /// `None` for a withdrawal (`reason` `None` too): the channel's pushed notifications close.
    pub message_id: Option<MessageId>,
    pub seq: i64,
    pub reason: Option<NotifyReason>,
    pub created_at: Timestamp,
    pub member: bool,
    pub last_read_seq: i64,
}

/// What reading a channel withdrew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Withdrawn {
    /// Pending notifications cancelled (counting messages not yet expanded, which may have
    /// been about to notify).
    pub cancelled: u64,
    /// Whether something had been pushed for the channel: a withdrawal push is queued.
    pub pushed: bool,
}

/// How a delivery went, to settle its claim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Items done with: delivered, or dropped as no longer wanted.
    pub done: Vec<i64>,
    /// Whether a digest went out (email batching counts from it).
    pub sent: bool,
    /// The channels a push showed something for, with the highest `seq` shown.
    pub pushed: Vec<(ChannelId, i64)>,
    /// Channels whose pushed notifications were withdrawn by this delivery.
    pub withdrew: Vec<ChannelId>,
    /// Push subscriptions the push service said are gone, removed with the settling: an
    /// error between the two would leave the claim to run out and the digest to go again.
    pub gone: Vec<String>,
}

#[async_trait]
pub trait NotifyStore: Send + Sync {
    // Preferences.
    async fn notify_prefs(&self, user: &UserId) -> StoreResult<NotifyPrefs>;
    async fn set_notify_prefs(&self, user: &UserId, prefs: &NotifyPrefs) -> StoreResult<()>;
    async fn channel_notify_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> StoreResult<ChannelNotifyPrefs>;
    /// Saves (a default one forgets) the user's settings for a channel.
    async fn set_channel_notify_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
        prefs: &ChannelNotifyPrefs,
    ) -> StoreResult<()>;
    /// Every channel the user has settings for.
    async fn all_channel_notify_prefs(
        &self,
        user: &UserId,
    ) -> StoreResult<Vec<(ChannelId, ChannelNotifyPrefs)>>;
    /// Several users' own and channel settings at once, for one channel (users without rows
    /// get defaults), in `users`' order; users deactivated or gone are left out, since
    /// nothing may reach them.
    async fn notify_prefs_in(
        &self,
        channel: &ChannelId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, NotifyPrefs, ChannelNotifyPrefs)>>;
    /// The user, if notifications may still reach them: present and not deactivated.
    async fn notify_recipient(&self, user: &UserId) -> StoreResult<Option<User>>;
    async fn workspace_notify_default(&self, ws: &WorkspaceId) -> StoreResult<NotifyLevel>;
    async fn set_workspace_notify_default(
        &self,
        ws: &WorkspaceId,
        level: NotifyLevel,
    ) -> StoreResult<()>;

    // Threads.
    /// Follows (`true`) or unfollows a thread by choice.
    async fn set_thread_follow(
        &self,
        root: &MessageId,
        user: &UserId,
        following: bool,
    ) -> StoreResult<()>;
    /// Whether the user follows the thread: by choice, else by having started or replied in it.
    async fn follows_thread(&self, root: &MessageId, user: &UserId) -> StoreResult<bool>;
    /// Everyone following the thread.
    async fn thread_followers(&self, root: &MessageId) -> StoreResult<Vec<UserId>>;

    // Push subscriptions.
    /// Registers one; the same endpoint again (by anyone: a browser profile changed hands)
    /// becomes this user's and session's, keeping its id. `false` when it was there already.
    async fn put_push_subscription(
        &self,
        sub: &PushSubscription,
    ) -> StoreResult<(PushSubscription, bool)>;
    async fn push_subscriptions(&self, user: &UserId) -> StoreResult<Vec<PushSubscription>>;
    /// Removes the user's subscription; `false` if they have none by that id.
    async fn delete_push_subscription(&self, user: &UserId, id: &str) -> StoreResult<bool>;

    // The outbox.
    /// Claims up to `limit` jobs (the oldest unclaimed or whose claim ran out) until `until`,
    /// marked with `claim` (a token unique to this attempt).
    async fn claim_jobs(
        &self,
        claim: i64,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<NotifyJob>>;
    /// In one transaction, while `job`'s claim holds: writes `add`, removes the message's
    /// pending notifications to `withdraw`, and removes the job. `false` if the claim was
    /// lost (another worker completes it).
    async fn complete_job(
        &self,
        job: &NotifyJob,
        add: &[NewNotification],
        withdraw: &[UserId],
    ) -> StoreResult<bool>;
    /// Claims up to `limit` queue heads due by `now` until `until`.
    async fn claim_deliveries(
        &self,
        claim: i64,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryClaim>>;
    /// A claimed head's items due by `now`, oldest first, at most `limit`.
    async fn due_notifications(
        &self,
        claim: &DeliveryClaim,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<PendingNotification>>;
    /// Removes `settled.done`, records what was pushed or withdrawn, and frees the head (due
    /// again at its next item, or at `not_before` if later), if the claim holds.
    async fn finish_delivery(
        &self,
        claim: &DeliveryClaim,
        settled: &Settled,
        now: Timestamp,
        not_before: Option<Timestamp>,
    ) -> StoreResult<bool>;
    /// A failed attempt: the head is due again at `retry_at`, one more attempt counted.
    async fn retry_delivery(&self, claim: &DeliveryClaim, retry_at: Timestamp)
    -> StoreResult<bool>;
    /// The user read `channel` up to `seq`: cancels pending notifications of it up to there,
    /// and queues a withdrawal push (due `now`) if something was pushed for it.
    async fn withdraw_notifications(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: i64,
        now: Timestamp,
    ) -> StoreResult<Withdrawn>;
    /// How many notifications and jobs wait, for tests and metrics.
    async fn pending_notifications(&self) -> StoreResult<(u64, u64)>;
}
