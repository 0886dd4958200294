//! [`crate::NotifyStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend). What the engines spell differently (a locking
//! read that skips what others hold, a list parameter, `LEAST`) is each `dialect.rs`'s.

use async_trait::async_trait;
use confab_core::notify::{
    ChannelNotifyPrefs, DndSchedule, NotifyLevel, NotifyPrefs, NotifyReason,
};
use confab_core::{ChannelId, MessageId, Timestamp, User, UserId, WorkspaceId};
use sqlx::Row;

use super::{Backend, dialect};
use crate::error::DbContext;
use crate::notify::{
    DeliveryClaim, NewNotification, NotifyJob, PendingNotification, PushSubscription, Settled,
    Withdrawn,
};
use crate::rows::stored_id;
use crate::{NotifyStore, StoreError, StoreResult};

const PREFS_COLUMNS: &str = "p.level, p.push, p.email, p.email_interval_minutes, p.time_zone, \
     p.dnd_start, p.dnd_end, p.snooze_until";

/// Rows written by one multi-row insert: at 8 parameters a row, 4,000 parameters, well within
/// both engines' limits (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

/// A queue head made due by its new items' time at the latest.
const QUEUE_DUE: &str = "ON CONFLICT (user_id, sink) DO UPDATE SET due_at = CASE \
     WHEN notify_queue.due_at IS NULL OR notify_queue.due_at > excluded.due_at \
     THEN excluded.due_at ELSE notify_queue.due_at END";

/// `($1, …, $k), ($k+1, …), …` (in the dialect's spelling): `rows` rows of `columns`
/// parameters.
fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            dialect::push_param(&mut out, r * columns + c + 1);
        }
        out.push(')');
    }
    out
}

fn bad(context: &'static str, what: String) -> StoreError {
    StoreError::Internal {
        context,
        source: sqlx::Error::Decode(what.into()),
    }
}

fn level(context: &'static str, raw: &str) -> StoreResult<NotifyLevel> {
    NotifyLevel::parse(raw).ok_or_else(|| bad(context, format!("unknown level {raw:?}")))
}

/// A user's preferences from `PREFS_COLUMNS` (all NULL: the user has none saved).
fn prefs<R: Row>(row: &R) -> StoreResult<NotifyPrefs>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    const CTX: &str = "reading notification preferences";
    let Some(raw_level) = row.try_get::<Option<String>, _>("level").ctx(CTX)? else {
        return Ok(NotifyPrefs::default());
    };
    let dnd = match (
        row.try_get::<Option<i64>, _>("dnd_start").ctx(CTX)?,
        row.try_get::<Option<i64>, _>("dnd_end").ctx(CTX)?,
    ) {
        (Some(start), Some(end)) => Some(DndSchedule {
            start_minute: u16::try_from(start).unwrap_or(0),
            end_minute: u16::try_from(end).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(NotifyPrefs {
        level: level(CTX, &raw_level)?,
        push: row
            .try_get::<Option<bool>, _>("push")
            .ctx(CTX)?
            .unwrap_or(true),
        email: row
            .try_get::<Option<bool>, _>("email")
            .ctx(CTX)?
            .unwrap_or(true),
        email_interval_minutes: row
            .try_get::<Option<i64>, _>("email_interval_minutes")
            .ctx(CTX)?
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(15),
        time_zone: row
            .try_get::<Option<String>, _>("time_zone")
            .ctx(CTX)?
            .unwrap_or_else(|| "UTC".to_owned()),
        dnd,
        snooze_until: row
            .try_get::<Option<i64>, _>("snooze_until")
            .ctx(CTX)?
            .map(Timestamp::from_micros),
    })
}

/// A channel's preferences from `c_level`, `c_muted`, `c_ignore` (NULL: defaults).
fn channel_prefs<R: Row>(row: &R) -> StoreResult<ChannelNotifyPrefs>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    const CTX: &str = "reading channel notification preferences";
    let Some(raw_level) = row.try_get::<Option<String>, _>("c_level").ctx(CTX)? else {
        return Ok(ChannelNotifyPrefs::default());
    };
    Ok(ChannelNotifyPrefs {
        level: level(CTX, &raw_level)?,
        muted: row
            .try_get::<Option<bool>, _>("c_muted")
            .ctx(CTX)?
            .unwrap_or(false),
        ignore_channel_mentions: row
            .try_get::<Option<bool>, _>("c_ignore")
            .ctx(CTX)?
            .unwrap_or(false),
    })
}

fn subscription<R: Row>(row: &R) -> StoreResult<PushSubscription>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    const CTX: &str = "reading a push subscription";
    Ok(PushSubscription {
        id: row.try_get("id").ctx(CTX)?,
        user_id: stored_id(row.try_get("user_id").ctx(CTX)?)?,
        session_id: stored_id(row.try_get("session_id").ctx(CTX)?)?,
        endpoint: row.try_get("endpoint").ctx(CTX)?,
        p256dh: row.try_get("p256dh").ctx(CTX)?,
        auth: row.try_get("auth").ctx(CTX)?,
        created_at: Timestamp::from_micros(row.try_get("created_at").ctx(CTX)?),
    })
}

const SUBSCRIPTION_COLUMNS: &str =
    "p.id, p.user_id, p.session_id, p.endpoint, p.p256dh, p.auth, p.created_at";

#[async_trait]
impl NotifyStore for Backend {
    async fn notify_prefs(&self, user: &UserId) -> StoreResult<NotifyPrefs> {
        let row = sqlx::query(&format!(
            "SELECT {PREFS_COLUMNS} FROM notify_prefs p WHERE p.user_id = $1"
        ))
        .bind(user.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading notification preferences")?;
        row.as_ref().map_or(Ok(NotifyPrefs::default()), prefs)
    }

    async fn set_notify_prefs(&self, user: &UserId, p: &NotifyPrefs) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO notify_prefs (user_id, level, push, email, email_interval_minutes, \
               time_zone, dnd_start, dnd_end, snooze_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, push = excluded.push, \
               email = excluded.email, email_interval_minutes = excluded.email_interval_minutes, \
               time_zone = excluded.time_zone, dnd_start = excluded.dnd_start, \
               dnd_end = excluded.dnd_end, snooze_until = excluded.snooze_until",
        )
        .bind(user.as_str())
        .bind(p.level.as_str())
        .bind(p.push)
        .bind(p.email)
        .bind(i64::from(p.email_interval_minutes))
        .bind(&p.time_zone)
        .bind(p.dnd.map(|d| i64::from(d.start_minute)))
        .bind(p.dnd.map(|d| i64::from(d.end_minute)))
        .bind(p.snooze_until.map(Timestamp::as_micros))
        .execute(&mut *tx)
        .await
        .ctx("saving notification preferences")?;
        if p.level == NotifyLevel::All {
            sqlx::query(
                "UPDATE channels SET notify_all = TRUE WHERE id IN \
                 (SELECT channel_id FROM channel_members WHERE user_id = $1)",
            )
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .ctx("noting who wants every message")?;
        }
        tx.commit().await.ctx("committing notification preferences")
    }

    async fn channel_notify_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> StoreResult<ChannelNotifyPrefs> {
        let row = sqlx::query(
            "SELECT level AS c_level, muted AS c_muted, ignore_channel_mentions AS c_ignore \
             FROM channel_notify_prefs WHERE user_id = $1 AND channel_id = $2",
        )
        .bind(user.as_str())
        .bind(channel.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading channel notification preferences")?;
        row.as_ref()
            .map_or(Ok(ChannelNotifyPrefs::default()), channel_prefs)
    }

    async fn set_channel_notify_prefs(
        &self,
        user: &UserId,
        channel: &ChannelId,
        p: &ChannelNotifyPrefs,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if p.is_default() {
            sqlx::query("DELETE FROM channel_notify_prefs WHERE user_id = $1 AND channel_id = $2")
                .bind(user.as_str())
                .bind(channel.as_str())
                .execute(&mut *tx)
                .await
                .ctx("forgetting channel notification preferences")?;
        } else {
            sqlx::query(
                "INSERT INTO channel_notify_prefs (user_id, channel_id, level, muted, \
                   ignore_channel_mentions) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, channel_id) DO UPDATE SET level = excluded.level, \
                   muted = excluded.muted, ignore_channel_mentions = excluded.ignore_channel_mentions",
            )
            .bind(user.as_str())
            .bind(channel.as_str())
            .bind(p.level.as_str())
            .bind(p.muted)
            .bind(p.ignore_channel_mentions)
            .execute(&mut *tx)
            .await
            .ctx("saving channel notification preferences")?;
        }
        if p.level == NotifyLevel::All {
            sqlx::query("UPDATE channels SET notify_all = TRUE WHERE id = $1")
                .bind(channel.as_str())
                .execute(&mut *tx)
                .await
                .ctx("noting who wants every message")?;
        }
        tx.commit()
            .await
            .ctx("committing channel notification preferences")
    }

    async fn all_channel_notify_prefs(
        &self,
        user: &UserId,
    ) -> StoreResult<Vec<(ChannelId, ChannelNotifyPrefs)>> {
        let rows = sqlx::query(
            "SELECT channel_id, level AS c_level, muted AS c_muted, \
               ignore_channel_mentions AS c_ignore \
             FROM channel_notify_prefs WHERE user_id = $1 ORDER BY channel_id",
        )
        .bind(user.as_str())
        .fetch_all(self.read_pool())
        .await
        .ctx("listing channel notification preferences")?;
        rows.iter()
            .map(|row| {
                Ok((
                    stored_id(
                        row.try_get("channel_id")
                            .ctx("listing channel notification preferences")?,
                    )?,
                    channel_prefs(row)?,
                ))
            })
            .collect()
    }

    async fn notify_prefs_in(
        &self,
        channel: &ChannelId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, NotifyPrefs, ChannelNotifyPrefs)>> {
        const CTX: &str = "reading notification preferences";
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = users.iter().map(UserId::as_str).collect();
        let rows = sqlx::query(&format!(
            "SELECT u.value AS user_id, {PREFS_COLUMNS}, c.level AS c_level, \
               c.muted AS c_muted, c.ignore_channel_mentions AS c_ignore \
             FROM {} \
             JOIN users a ON a.id = u.value AND a.deactivated_at IS NULL \
             LEFT JOIN notify_prefs p ON p.user_id = u.value \
             LEFT JOIN channel_notify_prefs c ON c.user_id = u.value AND c.channel_id = $1",
            dialect::LIST_TABLE
        ))
        .bind(channel.as_str())
        .bind(dialect::list_param(&ids))
        .fetch_all(self.read_pool())
        .await
        .ctx(CTX)?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("user_id").ctx(CTX)?;
            found.insert(id, (prefs(row)?, channel_prefs(row)?));
        }
        Ok(users
            .iter()
            .filter_map(|u| {
                found
                    .remove(u.as_str())
                    .map(|(own, here)| (u.clone(), own, here))
            })
            .collect())
    }

    async fn notify_recipient(&self, user: &UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {} FROM users WHERE id = $1 AND deactivated_at IS NULL",
            crate::rows::USER_COLUMNS
        ))
        .bind(user.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a notification's recipient")?
        .map(|row| crate::rows::user(&row))
        .transpose()
    }

    async fn workspace_notify_default(&self, ws: &WorkspaceId) -> StoreResult<NotifyLevel> {
        let raw: Option<String> = sqlx::query_scalar(
            "SELECT level FROM workspace_notify_defaults WHERE workspace_id = $1",
        )
        .bind(ws.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a workspace's notification default")?;
        match raw {
            Some(raw) => level("reading a workspace's notification default", &raw),
            None => Ok(NotifyLevel::Mentions),
        }
    }

    async fn set_workspace_notify_default(
        &self,
        ws: &WorkspaceId,
        level: NotifyLevel,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workspace_notify_defaults (workspace_id, level) VALUES ($1, $2) \
             ON CONFLICT (workspace_id) DO UPDATE SET level = excluded.level",
        )
        .bind(ws.as_str())
        .bind(level.as_str())
        .execute(self.write_pool())
        .await
        .ctx("saving a workspace's notification default")?;
        Ok(())
    }

    async fn set_thread_follow(
        &self,
        root: &MessageId,
        user: &UserId,
        following: bool,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO thread_follows (root_id, user_id, following) VALUES ($1, $2, $3) \
             ON CONFLICT (root_id, user_id) DO UPDATE SET following = excluded.following",
        )
        .bind(root.as_str())
        .bind(user.as_str())
        .bind(following)
        .execute(self.write_pool())
        .await
        .ctx("following a thread")?;
        Ok(())
    }

    async fn follows_thread(&self, root: &MessageId, user: &UserId) -> StoreResult<bool> {
        let chosen: Option<bool> = sqlx::query_scalar(
            "SELECT following FROM thread_follows WHERE root_id = $1 AND user_id = $2",
        )
        .bind(root.as_str())
        .bind(user.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a thread follow")?;
        if let Some(chosen) = chosen {
            return Ok(chosen);
        }
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND author_id = $2) \
                 OR EXISTS (SELECT 1 FROM messages WHERE thread_root_id = $1 AND author_id = $2 \
                            AND NOT deleted)",
        )
        .bind(root.as_str())
        .bind(user.as_str())
        .fetch_one(self.read_pool())
        .await
        .ctx("reading a thread follow")
    }

    async fn thread_followers(&self, root: &MessageId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT author_id FROM messages WHERE id = $1 \
             UNION SELECT author_id FROM messages WHERE thread_root_id = $1 AND NOT deleted \
             UNION SELECT user_id FROM thread_follows WHERE root_id = $1 AND following \
             EXCEPT SELECT user_id FROM thread_follows WHERE root_id = $1 AND NOT following",
        )
        .bind(root.as_str())
        .fetch_all(self.read_pool())
        .await
        .ctx("reading a thread's followers")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn put_push_subscription(
        &self,
        sub: &PushSubscription,
    ) -> StoreResult<(PushSubscription, bool)> {
        let row = sqlx::query(
            "INSERT INTO push_subscriptions (id, user_id, session_id, endpoint, p256dh, auth, \
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, \
               session_id = excluded.session_id, p256dh = excluded.p256dh, auth = excluded.auth \
             RETURNING id, user_id, session_id, endpoint, p256dh, auth, created_at",
        )
        .bind(&sub.id)
        .bind(sub.user_id.as_str())
        .bind(sub.session_id.as_str())
        .bind(&sub.endpoint)
        .bind(&sub.p256dh)
        .bind(&sub.auth)
        .bind(sub.created_at.as_micros())
        .fetch_one(self.write_pool())
        .await
        .ctx("registering a push subscription")?;
        let stored = subscription(&row)?;
        let created = stored.id == sub.id;
        Ok((stored, created))
    }

    async fn push_subscriptions(&self, user: &UserId) -> StoreResult<Vec<PushSubscription>> {
        // A signed-out device hears nothing more: its session is gone.
        let rows = sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions p WHERE p.user_id = $1 \
             AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = p.session_id) \
             ORDER BY p.created_at, p.id"
        ))
        .bind(user.as_str())
        .fetch_all(self.read_pool())
        .await
        .ctx("listing push subscriptions")?;
        rows.iter().map(subscription).collect()
    }

    async fn delete_push_subscription(&self, user: &UserId, id: &str) -> StoreResult<bool> {
        let gone = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2")
            .bind(user.as_str())
            .bind(id)
            .execute(self.write_pool())
            .await
            .ctx("removing a push subscription")?
            .rows_affected();
        Ok(gone > 0)
    }

    async fn claim_jobs(
        &self,
        claim: i64,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<NotifyJob>> {
        const CTX: &str = "claiming notification jobs";
        let rows = sqlx::query(&format!(
            "UPDATE notify_jobs SET claim = $1, claimed_until = $2 WHERE id IN \
               (SELECT id FROM notify_jobs j WHERE claimed_until <= $3 \
                AND NOT EXISTS (SELECT 1 FROM notify_jobs o \
                                WHERE o.message_id = j.message_id AND o.id < j.id) \
                ORDER BY id LIMIT $4{}) \
             RETURNING id, message_id, kind, mention_ids, flags, old_mention_ids, old_flags, created_at",
            dialect::SKIP_LOCKED
        ))
        .bind(claim)
        .bind(until.as_micros())
        .bind(now.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.write_pool())
        .await
        .ctx(CTX)?;
        let mut jobs = rows
            .iter()
            .map(|row| {
                let old: String = row.try_get("old_mention_ids").ctx(CTX)?;
                let now: String = row.try_get("mention_ids").ctx(CTX)?;
                let kind: String = row.try_get("kind").ctx(CTX)?;
                Ok(NotifyJob {
                    id: row.try_get("id").ctx(CTX)?,
                    message_id: stored_id(row.try_get("message_id").ctx(CTX)?)?,
                    edited: kind == "edited",
                    mention_ids: now.split_whitespace().map(str::to_owned).collect(),
                    flags: row.try_get("flags").ctx(CTX)?,
                    old_mention_ids: old.split_whitespace().map(str::to_owned).collect(),
                    old_flags: row.try_get("old_flags").ctx(CTX)?,
                    created_at: Timestamp::from_micros(row.try_get("created_at").ctx(CTX)?),
                    claim,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn complete_job(
        &self,
        job: &NotifyJob,
        add: &[NewNotification],
        withdraw: &[UserId],
    ) -> StoreResult<bool> {
        const CTX: &str = "completing a notification job";
        let mut tx = self.begin().await?;
        let held = sqlx::query("DELETE FROM notify_jobs WHERE id = $1 AND claim = $2")
            .bind(job.id)
            .bind(job.claim)
            .execute(&mut *tx)
            .await
            .ctx(CTX)?
            .rows_affected();
        if held == 0 {
            return Ok(false);
        }
        if !withdraw.is_empty() {
            let ids: Vec<&str> = withdraw.iter().map(UserId::as_str).collect();
            sqlx::query(&format!(
                "DELETE FROM notify_items WHERE message_id = $1 \
                 AND reason IN ('mention', 'channel', 'here') AND user_id {}$2{}",
                dialect::IN_LIST.0,
                dialect::IN_LIST.1
            ))
            .bind(job.message_id.as_str())
            .bind(dialect::list_param(&ids))
            .execute(&mut *tx)
            .await
            .ctx(CTX)?;
        }
        // Many rows a statement: an `@channel` in a large channel is thousands of items, and
        // a statement each held the writer (SQLite's only one) for as long.
        for chunk in add.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO notify_items (user_id, sink, channel_id, message_id, seq, reason, \
                   created_at, due_at) VALUES {}",
                placeholders(chunk.len(), 8)
            );
            let mut insert = sqlx::query(&sql);
            for n in chunk {
                insert = insert
                    .bind(n.user_id.as_str())
                    .bind(n.sink)
                    .bind(n.channel_id.as_str())
                    .bind(n.message_id.as_str())
                    .bind(n.seq)
                    .bind(n.reason.as_str())
                    .bind(job.created_at.as_micros())
                    .bind(n.due_at.as_micros());
            }
            insert.execute(&mut *tx).await.ctx(CTX)?;
        }
        // One head per user and sink, due at its earliest item; a statement may not name a
        // row twice for `ON CONFLICT … DO UPDATE`, so duplicates fold first (`add` comes
        // sorted by user and sink, the order every worker writes in).
        let mut heads: Vec<(&UserId, &str, Timestamp)> = Vec::with_capacity(add.len());
        for n in add {
            match heads.last_mut() {
                Some((user, sink, due)) if *user == &n.user_id && *sink == n.sink => {
                    *due = (*due).min(n.due_at);
                }
                _ => heads.push((&n.user_id, n.sink, n.due_at)),
            }
        }
        queue_due(&mut tx, &heads).await?;
        tx.commit().await.ctx(CTX)?;
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        claim: i64,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryClaim>> {
        const CTX: &str = "claiming notification deliveries";
        let rows = sqlx::query(&format!(
            "UPDATE notify_queue SET claim = $1, claimed_until = $2 WHERE (user_id, sink) IN \
               (SELECT user_id, sink FROM notify_queue WHERE due_at IS NOT NULL AND due_at <= $3 \
                AND claimed_until <= $3 ORDER BY due_at LIMIT $4{}) \
             RETURNING user_id, sink, attempts, last_sent_at",
            dialect::SKIP_LOCKED
        ))
        .bind(claim)
        .bind(until.as_micros())
        .bind(now.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.write_pool())
        .await
        .ctx(CTX)?;
        rows.iter()
            .map(|row| {
                Ok(DeliveryClaim {
                    user_id: stored_id(row.try_get("user_id").ctx(CTX)?)?,
                    sink: row.try_get("sink").ctx(CTX)?,
                    claim,
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts").ctx(CTX)?)
                        .unwrap_or(u32::MAX),
                    last_sent_at: Timestamp::from_micros(row.try_get("last_sent_at").ctx(CTX)?),
                })
            })
            .collect()
    }

    async fn due_notifications(
        &self,
        claim: &DeliveryClaim,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<PendingNotification>> {
        const CTX: &str = "reading due notifications";
        let rows = sqlx::query(
            "SELECT i.id, i.channel_id, i.message_id, i.seq, i.reason, i.created_at, \
               cm.user_id IS NOT NULL AS member, COALESCE(cm.last_read_seq, 0) AS last_read_seq \
             FROM notify_items i \
             LEFT JOIN channel_members cm ON cm.channel_id = i.channel_id AND cm.user_id = i.user_id \
             WHERE i.user_id = $1 AND i.sink = $2 AND i.due_at <= $3 ORDER BY i.id LIMIT $4",
        )
        .bind(claim.user_id.as_str())
        .bind(&claim.sink)
        .bind(now.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.read_pool())
        .await
        .ctx(CTX)?;
        rows.iter()
            .map(|row| {
                let message: Option<String> = row.try_get("message_id").ctx(CTX)?;
                let reason: String = row.try_get("reason").ctx(CTX)?;
                Ok(PendingNotification {
                    id: row.try_get("id").ctx(CTX)?,
                    channel_id: stored_id(row.try_get("channel_id").ctx(CTX)?)?,
                    message_id: message.map(stored_id).transpose()?,
                    seq: row.try_get("seq").ctx(CTX)?,
                    reason: NotifyReason::parse(&reason),
                    created_at: Timestamp::from_micros(row.try_get("created_at").ctx(CTX)?),
                    member: row.try_get("member").ctx(CTX)?,
                    last_read_seq: row.try_get("last_read_seq").ctx(CTX)?,
                })
            })
            .collect()
    }

    async fn finish_delivery(
        &self,
        claim: &DeliveryClaim,
        settled: &Settled,
        now: Timestamp,
        not_before: Option<Timestamp>,
    ) -> StoreResult<bool> {
        const CTX: &str = "settling a notification delivery";
        let user = claim.user_id.as_str();
        let mut tx = self.begin().await?;
        let held: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT claim FROM notify_queue WHERE user_id = $1 AND sink = $2 AND claim = $3{}",
            dialect::FOR_UPDATE
        ))
        .bind(user)
        .bind(&claim.sink)
        .bind(claim.claim)
        .fetch_optional(&mut *tx)
        .await
        .ctx(CTX)?;
        if held.is_none() {
            return Ok(false);
        }
        if !settled.done.is_empty() {
            sqlx::query(&format!(
                "DELETE FROM notify_items WHERE user_id = $1 AND id {}$2{}",
                dialect::ID_LIST.0,
                dialect::ID_LIST.1
            ))
            .bind(user)
            .bind(dialect::id_list_param(&settled.done))
            .execute(&mut *tx)
            .await
            .ctx(CTX)?;
        }
        if !settled.gone.is_empty() {
            let ids: Vec<&str> = settled.gone.iter().map(String::as_str).collect();
            sqlx::query(&format!(
                "DELETE FROM push_subscriptions WHERE user_id = $1 AND id {}$2{}",
                dialect::IN_LIST.0,
                dialect::IN_LIST.1
            ))
            .bind(user)
            .bind(dialect::list_param(&ids))
            .execute(&mut *tx)
            .await
            .ctx(CTX)?;
        }
        for channel in &settled.withdrew {
            sqlx::query("DELETE FROM notify_pushed WHERE user_id = $1 AND channel_id = $2")
                .bind(user)
                .bind(channel.as_str())
                .execute(&mut *tx)
                .await
                .ctx(CTX)?;
        }
        for (channel, seq) in &settled.pushed {
            // Read meanwhile (on another device, while this push was on its way): the read
            // found nothing pushed to withdraw, so the withdrawal is queued here.
            let read: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT last_read_seq FROM channel_members WHERE channel_id = $1 AND user_id = $2{}",
                dialect::FOR_SHARE
            ))
            .bind(channel.as_str())
            .bind(user)
            .fetch_optional(&mut *tx)
            .await
            .ctx(CTX)?;
            if read.is_none_or(|read| read >= *seq) {
                queue_clear(&mut tx, &claim.user_id, channel, *seq, now).await?;
                continue;
            }
            sqlx::query(&format!(
                "INSERT INTO notify_pushed (user_id, channel_id, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, channel_id) DO UPDATE SET seq = {}(notify_pushed.seq, excluded.seq)",
                dialect::GREATEST
            ))
            .bind(user)
            .bind(channel.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .ctx(CTX)?;
        }
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(due_at) FROM notify_items WHERE user_id = $1 AND sink = $2",
        )
        .bind(user)
        .bind(&claim.sink)
        .fetch_one(&mut *tx)
        .await
        .ctx(CTX)?;
        let due = next.map(|next| match not_before {
            Some(nb) => next.max(nb.as_micros()),
            None => next,
        });
        let last_sent = if settled.sent {
            now
        } else {
            claim.last_sent_at
        };
        sqlx::query(
            "UPDATE notify_queue SET claim = 0, claimed_until = 0, attempts = 0, due_at = $3, \
               last_sent_at = $4 WHERE user_id = $1 AND sink = $2",
        )
        .bind(user)
        .bind(&claim.sink)
        .bind(due)
        .bind(last_sent.as_micros())
        .execute(&mut *tx)
        .await
        .ctx(CTX)?;
        tx.commit().await.ctx(CTX)?;
        Ok(true)
    }

    async fn retry_delivery(
        &self,
        claim: &DeliveryClaim,
        retry_at: Timestamp,
    ) -> StoreResult<bool> {
        let held = sqlx::query(
            "UPDATE notify_queue SET claim = 0, claimed_until = 0, attempts = attempts + 1, \
               due_at = $4 WHERE user_id = $1 AND sink = $2 AND claim = $3",
        )
        .bind(claim.user_id.as_str())
        .bind(&claim.sink)
        .bind(claim.claim)
        .bind(retry_at.as_micros())
        .execute(self.write_pool())
        .await
        .ctx("scheduling a notification retry")?
        .rows_affected();
        Ok(held > 0)
    }

    async fn withdraw_notifications(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: i64,
        now: Timestamp,
    ) -> StoreResult<Withdrawn> {
        const CTX: &str = "withdrawing notifications";
        let mut tx = self.begin().await?;
        let cancelled = sqlx::query(
            "DELETE FROM notify_items WHERE user_id = $1 AND channel_id = $2 AND seq <= $3 \
             AND message_id IS NOT NULL",
        )
        .bind(user.as_str())
        .bind(channel.as_str())
        .bind(seq)
        .execute(&mut *tx)
        .await
        .ctx(CTX)?
        .rows_affected();
        // Messages not yet expanded may be about to notify this user: they count as pending
        // (their items, once written, are dropped by the read cursor before delivery).
        let unexpanded: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notify_jobs j JOIN messages m ON m.id = j.message_id \
             WHERE m.channel_id = $1 AND m.seq <= $2 AND m.author_id <> $3",
        )
        .bind(channel.as_str())
        .bind(seq)
        .bind(user.as_str())
        .fetch_one(&mut *tx)
        .await
        .ctx(CTX)?;
        let cancelled = cancelled + u64::try_from(unexpanded).unwrap_or(0);
        let pushed = sqlx::query(
            "DELETE FROM notify_pushed WHERE user_id = $1 AND channel_id = $2 AND seq <= $3",
        )
        .bind(user.as_str())
        .bind(channel.as_str())
        .bind(seq)
        .execute(&mut *tx)
        .await
        .ctx(CTX)?
        .rows_affected()
            > 0;
        if pushed {
            queue_clear(&mut tx, user, channel, seq, now).await?;
            queue_due(&mut tx, &[(user, "push", now)]).await?;
        }
        tx.commit().await.ctx(CTX)?;
        Ok(Withdrawn { cancelled, pushed })
    }

    async fn pending_notifications(&self) -> StoreResult<(u64, u64)> {
        let (items, jobs): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM notify_items), (SELECT COUNT(*) FROM notify_jobs)",
        )
        .fetch_one(self.read_pool())
        .await
        .ctx("counting pending notifications")?;
        Ok((
            u64::try_from(items).unwrap_or(0),
            u64::try_from(jobs).unwrap_or(0),
        ))
    }
}

/// Queues a withdrawal push (due `now`) of what was shown for `channel` up to `seq`.
async fn queue_clear(
    tx: &mut super::Tx,
    user: &UserId,
    channel: &ChannelId,
    seq: i64,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO notify_items (user_id, sink, channel_id, message_id, seq, reason, \
           created_at, due_at) VALUES ($1, 'push', $2, NULL, $3, 'clear', $4, $4)",
    )
    .bind(user.as_str())
    .bind(channel.as_str())
    .bind(seq)
    .bind(now.as_micros())
    .execute(&mut **tx)
    .await
    .ctx("queueing a withdrawal")?;
    Ok(())
}

/// Makes each user's head for its sink due by its time at the latest (each user and sink once:
/// `ON CONFLICT … DO UPDATE` may not meet a row twice in one statement).
async fn queue_due(tx: &mut super::Tx, heads: &[(&UserId, &str, Timestamp)]) -> StoreResult<()> {
    for chunk in heads.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO notify_queue (user_id, sink, due_at) VALUES {} {QUEUE_DUE}",
            placeholders(chunk.len(), 3)
        );
        let mut insert = sqlx::query(&sql);
        for (user, sink, due) in chunk {
            insert = insert.bind(user.as_str()).bind(*sink).bind(due.as_micros());
        }
        insert
            .execute(&mut **tx)
            .await
            .ctx("queueing a notification")?;
    }
    Ok(())
}
