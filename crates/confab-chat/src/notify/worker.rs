//! The notification worker: turns the outbox's jobs into notifications (who hears of each
//! message, by their preferences), then delivers what is due as one digest per user and sink,
//! after checking that it is still news: unread, still readable, still wanted, not quiet
//! hours, and no device of theirs active now. Every chat service runs one; claims are leases
//! (`NotifyStore`), so each notification goes out from exactly one of them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use confab_core::notify::{NotifyReason, wants};
use confab_core::{Channel, ChannelKind, Message, Presence, Timestamp, UserId};
use confab_notify::{Digest, DigestItem, PushTarget, Reason, Recipient, SinkError, backoff};
use confab_store::{DeliveryClaim, NewNotification, NotifyJob, PendingNotification, Settled};
use futures_util::StreamExt;

use crate::ChatService;
use crate::error::ChatResult;

/// Jobs and heads one round claims at most.
const CLAIM_BATCH: u32 = 100;
/// Notifications one digest carries at most; the rest follow in the next.
const DIGEST_MAX: u32 = 50;
/// Digests delivered at once by one worker (each sink caps its own requests too).
const CONCURRENT_DIGESTS: usize = 16;
/// The flags of the store's `mentions_channel`.
const FLAG_CHANNEL: i64 = 1;
const FLAG_HERE: i64 = 2;

pub struct NotifyWorker {
    chat: Arc<ChatService>,
}

fn token() -> i64 {
    // A claim's token only has to differ from every other worker's and round's.
    getrandom::u64().map_or_else(|_| Timestamp::now().as_micros(), |r| (r >> 1) as i64)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn later(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_micros(t.as_micros().saturating_add(micros(d)))
}

fn reason_wire(r: NotifyReason) -> Reason {
    match r {
        NotifyReason::Dm => Reason::Dm,
        NotifyReason::Mention => Reason::Mention,
        NotifyReason::Thread => Reason::Thread,
        NotifyReason::Channel => Reason::Channel,
        NotifyReason::Here => Reason::Here,
        NotifyReason::All => Reason::All,
    }
}

/// Who a message's mention columns name, with why: the named (before the store's `*`), those
/// `@here` reached (after it), everyone for `@channel` (`members`).
fn mentioned(ids: &[String], flags: i64, members: &[UserId]) -> HashMap<UserId, NotifyReason> {
    let mut out = HashMap::new();
    if flags & FLAG_CHANNEL != 0 {
        for m in members {
            out.insert(m.clone(), NotifyReason::Channel);
        }
    }
    let mut here = false;
    for id in ids {
        if id == "*" {
            here = true;
            continue;
        }
        let Ok(user) = UserId::parse(id) else {
            continue;
        };
        let reason = if here && flags & FLAG_HERE != 0 {
            NotifyReason::Here
        } else {
            NotifyReason::Mention
        };
        let slot = out.entry(user).or_insert(reason);
        *slot = (*slot).min(reason);
    }
    out
}

impl NotifyWorker {
    pub fn new(chat: Arc<ChatService>) -> Self {
        Self { chat }
    }

    /// Runs rounds until `shutdown` resolves: one at once, then every `poll` or when this
    /// process queued something due now.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        loop {
            loop {
                match self.round().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(error) => {
                        tracing::warn!(%error, "notification round failed; trying again");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.chat.notify_wake.notified() => {}
                _ = tokio::time::sleep(self.chat.config.notify.poll) => {}
            }
        }
    }

    /// One round: expand claimed jobs, deliver claimed heads. `true` if it found a full batch
    /// of either (more may be waiting).
    pub async fn round(&self) -> ChatResult<bool> {
        let chat = &self.chat;
        let now = Timestamp::now();
        let lease = later(now, chat.config.notify.lease);
        let jobs = chat
            .store
            .claim_jobs(token(), now, lease, CLAIM_BATCH)
            .await?;
        for job in &jobs {
            if let Err(error) = self.expand(job).await {
                // Left claimed: another round takes it once the lease is over.
                tracing::warn!(%error, job = job.id, "expanding a notification job failed");
            }
        }
        // Only as many heads as are delivered at once, each leased from now: a head claimed
        // early and delivered late could outlive its lease and be sent by another worker too.
        let now = Timestamp::now();
        let heads = chat
            .store
            .claim_deliveries(
                token(),
                now,
                later(now, chat.config.notify.lease),
                CONCURRENT_DIGESTS as u32,
            )
            .await?;
        let full = jobs.len() as u32 == CLAIM_BATCH || heads.len() == CONCURRENT_DIGESTS;
        futures_util::stream::iter(heads)
            .for_each_concurrent(CONCURRENT_DIGESTS, |head| async move {
                if let Err(error) = self.deliver(&head).await {
                    tracing::warn!(%error, sink = head.sink, "a notification delivery failed");
                }
            })
            .await;
        // What waits, for operators (a growing backlog) and tests (all settled), and when it
        // was counted.
        let (items, jobs) = chat.store.pending_notifications().await?;
        metrics::gauge!("confab_notifications_pending", "what" => "items").set(items as f64);
        metrics::gauge!("confab_notifications_pending", "what" => "jobs").set(jobs as f64);
        metrics::gauge!("confab_notifications_counted_at_seconds")
            .set(Timestamp::now().as_micros() as f64 / 1e6);
        Ok(full)
    }

    /// Who hears of the job's message, and through which sinks, by their preferences now.
    async fn expand(&self, job: &NotifyJob) -> ChatResult<()> {
        let chat = &self.chat;
        let Some(message) = chat.store.message(&job.message_id).await? else {
            chat.store.complete_job(job, &[], &[]).await?;
            return Ok(());
        };
        let channel = match chat.store.channel(&message.channel_id).await? {
            Some(c) if !message.deleted => c,
            _ => {
                chat.store.complete_job(job, &[], &[]).await?;
                return Ok(());
            }
        };
        let members = chat.store.channel_member_ids(&channel.id).await?;
        let member_set: HashSet<&UserId> = members.iter().collect();
        let now_named = mentioned(&job.mention_ids, job.flags, &members);
        let mut reached: HashMap<UserId, NotifyReason>;
        let mut withdraw = Vec::new();
        if job.edited {
            // An edit tells only those it newly names, and takes back (if still pending) what
            // it no longer names.
            let before = mentioned(&job.old_mention_ids, job.old_flags, &members);
            withdraw = before
                .keys()
                .filter(|u| !now_named.contains_key(*u))
                .cloned()
                .collect();
            reached = now_named
                .into_iter()
                .filter(|(u, _)| !before.contains_key(u))
                .collect();
        } else {
            reached = now_named;
            let mut add = |user: &UserId, reason: NotifyReason| {
                let slot = reached.entry(user.clone()).or_insert(reason);
                *slot = (*slot).min(reason);
            };
            if channel.kind == ChannelKind::Dm {
                for m in &members {
                    add(m, NotifyReason::Dm);
                }
            }
            if let Some(root) = &message.thread_root_id {
                for f in chat.store.thread_followers(root).await? {
                    add(&f, NotifyReason::Thread);
                }
            }
            // Everyone else may want every message; their preferences decide below.
            for m in &members {
                add(m, NotifyReason::All);
            }
        }
        reached.remove(&message.author_id);
        reached.retain(|u, _| member_set.contains(u));
        let users: Vec<UserId> = reached.keys().cloned().collect();
        // Only accounts still active: a deactivated one keeps its memberships (its words
        // stay), but nothing reaches it.
        let prefs = chat.store.notify_prefs_in(&channel.id, &users).await?;
        let default = chat
            .store
            .workspace_notify_default(&channel.workspace_id)
            .await?;
        let sinks = &chat.sinks;
        let mut add = Vec::new();
        for (user, own, here) in &prefs {
            let reason = reached[user];
            if !wants(own, here, default, reason) {
                continue;
            }
            let mut push = |sink: &'static str, delay: Duration| {
                add.push(NewNotification {
                    user_id: user.clone(),
                    sink,
                    channel_id: channel.id.clone(),
                    message_id: message.id.clone(),
                    // An edit is news from its own change on: one who read past the message
                    // before it was edited has not seen the mention it adds.
                    seq: if job.edited {
                        message.version
                    } else {
                        message.seq
                    },
                    reason,
                    due_at: later(job.created_at, delay),
                });
            };
            if sinks.push.is_some() && own.push {
                push("push", chat.config.notify.push_delay);
            }
            if sinks.email.is_some() && own.email {
                push("email", chat.config.notify.email_delay);
            }
            if sinks.webhook.is_some() {
                push("webhook", chat.config.notify.webhook_delay);
            }
        }
        // One order for every worker, so two completing jobs of one channel never wait on
        // each other's queue rows (PostgreSQL would abort one as a deadlock).
        add.sort_by(|a, b| (&a.user_id, a.sink).cmp(&(&b.user_id, b.sink)));
        withdraw.sort();
        chat.store.complete_job(job, &add, &withdraw).await?;
        Ok(())
    }

    /// Delivers one user's due notifications through one sink, as one digest.
    async fn deliver(&self, head: &DeliveryClaim) -> ChatResult<()> {
        let chat = &self.chat;
        let store = &chat.store;
        let now = Timestamp::now();
        let due = store.due_notifications(head, now, DIGEST_MAX).await?;
        let drop_all = |due: &[PendingNotification]| Settled {
            done: due.iter().map(|n| n.id).collect(),
            ..Settled::default()
        };
        let (Some(sink), Some(user)) = (
            chat.sinks.by_name(&head.sink),
            store.notify_recipient(&head.user_id).await?,
        ) else {
            // A sink since switched off, or a user since deactivated or removed: nothing to
            // deliver to.
            store
                .finish_delivery(head, &drop_all(&due), now, None)
                .await?;
            return Ok(());
        };
        let prefs = store.notify_prefs(&user.id).await?;
        if head.sink == "email" && prefs.email_interval_minutes > 0 {
            let next = head
                .last_sent_at
                .plus_secs(i64::from(prefs.email_interval_minutes) * 60);
            if next > now {
                // Batching: the digest waits for the interval, gathering what else comes.
                store
                    .finish_delivery(head, &Settled::default(), now, Some(next))
                    .await?;
                return Ok(());
            }
        }
        // Switched off since it was queued (an email batch may wait a day): nothing more goes,
        // but withdrawals still do.
        let switched_off = (head.sink == "push" && !prefs.push)
            || (head.sink == "email" && (!prefs.email || user.email.is_none()));
        let quiet = prefs.quiet_at(now);
        let active = chat
            .presence
            .status(std::slice::from_ref(&user.id))
            .await
            .first()
            == Some(&Presence::Online);
        let mut settled = Settled::default();
        let mut items = Vec::new();
        let mut clear = Vec::new();
        let mut channels: HashMap<confab_core::ChannelId, Option<Channel>> = HashMap::new();
        let mut pushed: BTreeMap<confab_core::ChannelId, i64> = BTreeMap::new();
        for n in &due {
            settled.done.push(n.id);
            let (Some(message_id), Some(reason)) = (&n.message_id, n.reason) else {
                // A withdrawal: the devices close what they show for the channel.
                if !clear.contains(&n.channel_id) {
                    clear.push(n.channel_id.clone());
                }
                continue;
            };
            // Still news? Read since on some device, left the channel, a device active now,
            // quiet hours: each drops it (a notification is never late, only absent).
            if !n.member || n.last_read_seq >= n.seq || quiet || active || switched_off {
                continue;
            }
            let Some(message) = store.message(message_id).await? else {
                continue;
            };
            if message.deleted {
                continue;
            }
            if !channels.contains_key(&n.channel_id) {
                let c = store.channel(&n.channel_id).await?;
                channels.insert(n.channel_id.clone(), c);
            }
            let Some(channel) = channels[&n.channel_id].clone() else {
                continue;
            };
            let here = store.channel_notify_prefs(&user.id, &channel.id).await?;
            let default = store
                .workspace_notify_default(&channel.workspace_id)
                .await?;
            if !wants(&prefs, &here, default, reason) {
                continue;
            }
            items.push(self.item(&channel, &message, reason).await?);
            let top = pushed.entry(channel.id.clone()).or_insert(0);
            *top = (*top).max(message.seq);
        }
        if items.is_empty() && clear.is_empty() {
            store.finish_delivery(head, &settled, now, None).await?;
            return Ok(());
        }
        let targets: Vec<PushTarget> = if head.sink == "push" {
            store
                .push_subscriptions(&user.id)
                .await?
                .into_iter()
                .map(|s| PushTarget {
                    id: s.id,
                    endpoint: s.endpoint,
                    p256dh: s.p256dh,
                    auth: s.auth,
                })
                .collect()
        } else {
            Vec::new()
        };
        if head.sink == "push" && targets.is_empty() {
            store.finish_delivery(head, &settled, now, None).await?;
            return Ok(());
        }
        if head.sink != "push" && items.is_empty() {
            // Only withdrawals, which only a push can act on.
            store.finish_delivery(head, &settled, now, None).await?;
            return Ok(());
        }
        let digest = Digest {
            recipient: Recipient {
                user_id: user.id.to_string(),
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                email: user.email.clone(),
            },
            items,
            clear: clear.iter().map(ToString::to_string).collect(),
        };
        match sink.deliver(&digest, &targets).await {
            Ok(delivered) => {
                settled.gone = delivered.gone;
                settled.sent = true;
                if head.sink == "push" {
                    settled.pushed = pushed.into_iter().collect();
                    settled.withdrew = clear;
                }
                metrics::counter!("confab_notifications_delivered_total", "sink" => head.sink.clone())
                    .increment(digest.items.len() as u64);
                store
                    .finish_delivery(head, &settled, Timestamp::now(), None)
                    .await?;
            }
            Err(SinkError::Retry(why)) if head.attempts + 1 < chat.config.notify.max_attempts => {
                let wait = backoff(
                    head.attempts,
                    chat.config.notify.retry_base,
                    chat.config.notify.retry_max,
                );
                tracing::info!(sink = head.sink, %why, ?wait, "notification delivery will be retried");
                store
                    .retry_delivery(head, later(Timestamp::now(), wait))
                    .await?;
            }
            Err(error) => {
                tracing::warn!(sink = head.sink, %error, "notification delivery given up");
                metrics::counter!("confab_notifications_failed_total", "sink" => head.sink.clone())
                    .increment(digest.items.len() as u64);
                store
                    .finish_delivery(head, &settled, Timestamp::now(), None)
                    .await?;
            }
        }
        Ok(())
    }

    /// A message as a digest shows it.
    async fn item(
        &self,
        channel: &Channel,
        message: &Message,
        reason: NotifyReason,
    ) -> ChatResult<DigestItem> {
        let store = &self.chat.store;
        let author = store
            .user(&message.author_id)
            .await?
            .map_or_else(|| "someone".to_owned(), |u| u.display_name);
        // A reply's link opens its thread's root: permalinks land in the channel.
        let anchor = match &message.thread_root_id {
            Some(root) => store.message(root).await?.map_or(message.seq, |r| r.seq),
            None => message.seq,
        };
        let channel_label = match &channel.name {
            Some(name) => format!("#{name}"),
            None => "a direct message".to_owned(),
        };
        Ok(DigestItem {
            channel_id: channel.id.to_string(),
            channel_label,
            author_name: author,
            body: (!self.chat.config.notify.hide_content)
                .then(|| message.body.clone())
                .flatten(),
            reason: reason_wire(reason),
            message_id: message.id.to_string(),
            seq: message.seq,
            ts: message.ts.to_rfc3339(),
            path: format!("/w/{}/c/{}/m/{anchor}", channel.workspace_id, channel.id),
        })
    }
}
