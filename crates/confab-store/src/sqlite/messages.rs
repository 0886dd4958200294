//! Messages in SQLite: sends, edits, deletes, reactions, threads and history (reading a
//! message back with its reactions and repliers is `hydrate.rs`). Every write takes the channel's next sequence number, bumps
//! the message's `version` to it and logs the change, in one transaction; the message is then
//! read back inside that transaction, so the event published for a change is exactly what a
//! later read of that version returns.

use std::collections::HashMap;

use async_trait::async_trait;
use confab_core::{
    Change, ChannelEvent, ChannelId, Mentions, Message, MessageId, Timestamp, UserId,
};

use super::SqliteStore;
use super::group_commit::json;
use super::hydrate::{live_message, load, message_in, with_root};
use super::log::{Logged, channel_in, next_seq, record_change};
use crate::changes::{self, ChangeRow};
use crate::error::DbContext;
use crate::feed;
use crate::rows::{MENTIONS_CHANNEL, MENTIONS_HERE};
use crate::send_queue;
use crate::{ChangesPage, MessageStore, NewMessage, SendOutcome, StoreError, StoreResult};

/// The `mention_ids` and `mentions_channel` columns for `m`: the named users, then, after a
/// `*`, those `@here` reached (counted as mentioned, never read back; see [`crate::rows`]).
pub(super) fn mention_columns(m: &Mentions) -> (String, i64) {
    let ids = crate::rows::mention_id_list(m).join(" ");
    let flags =
        if m.channel { MENTIONS_CHANNEL } else { 0 } | if m.here { MENTIONS_HERE } else { 0 };
    (ids, flags)
}

#[async_trait]
impl MessageStore for SqliteStore {
    /// Hands a send to the group-commit task and waits for its commit.
    async fn send_message(&self, msg: NewMessage) -> StoreResult<SendOutcome> {
        send_queue::hand_off(&self.sends, msg).await
    }

    async fn edit_message(
        &self,
        id: &MessageId,
        body: &str,
        mentions: &Mentions,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent> {
        let mut tx = self.begin().await?;
        let message = live_message(&mut tx, id).await?;
        let seq = next_seq(&mut tx, &message.channel_id).await?;
        let (mention_ids, mention_flags) = mention_columns(mentions);
        sqlx::query(
            "UPDATE messages SET body = ?, edited_at = ?, version = ?, mention_ids = ?, mentions_channel = ? WHERE id = ?",
        )
        .bind(body)
        .bind(now.as_micros())
        .bind(seq)
        .bind(mention_ids)
        .bind(mention_flags)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .ctx("editing a message")?;
        super::search::reindex(&mut tx, id, body).await?;
        record_change(
            &mut tx,
            &message.channel_id,
            seq,
            Logged::message("message.edited", id),
            now,
        )
        .await?;
        let message = message_in(&mut tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?;
        tx.commit().await.ctx("committing an edit")?;
        Ok(ChannelEvent {
            channel_id: message.channel_id.clone(),
            seq,
            change: Change::MessageEdited { message },
        })
    }

    async fn delete_message(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.begin().await?;
        let message = message_in(&mut tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?;
        if message.deleted {
            return Ok(None);
        }
        let seq = next_seq(&mut tx, &message.channel_id).await?;
        // The content goes for good: body, mentions and reactions; a tombstone remains.
        sqlx::query(
            "UPDATE messages SET deleted = 1, body = NULL, mention_ids = '', mentions_channel = 0, file_count = 0, \
             version = ? WHERE id = ?",
        )
        .bind(seq)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .ctx("deleting a message")?;
        super::search::unindex(&mut tx, id).await?;
        sqlx::query(crate::sql::DELETE_REACTIONS)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .ctx("deleting reactions")?;
        sqlx::query(crate::sql::DELETE_MESSAGE_FILES)
            .bind(id.as_str())
            .bind(now.as_micros())
            .execute(&mut *tx)
            .await
            .ctx("deleting a message's files")?;
        if let Some(root) = &message.thread_root_id {
            sqlx::query(
                "UPDATE messages SET reply_count = reply_count - 1, version = ?, last_reply_at = \
                 (SELECT MAX(created_at) FROM messages WHERE thread_root_id = ? AND deleted = 0) WHERE id = ?",
            )
            .bind(seq)
            .bind(root.as_str())
            .bind(root.as_str())
            .execute(&mut *tx)
            .await
            .ctx("updating a thread root")?;
        }
        record_change(
            &mut tx,
            &message.channel_id,
            seq,
            Logged::message("message.deleted", id),
            now,
        )
        .await?;
        let (message, root) = with_root(&mut tx, id.as_str()).await?;
        tx.commit().await.ctx("committing a delete")?;
        Ok(Some(ChannelEvent {
            channel_id: message.channel_id.clone(),
            seq,
            change: Change::MessageDeleted { message, root },
        }))
    }

    async fn set_reaction(
        &self,
        id: &MessageId,
        emoji: &str,
        user: &UserId,
        present: bool,
        max_distinct: usize,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.begin().await?;
        let message = live_message(&mut tx, id).await?;
        let new_emoji = !message.reactions.iter().any(|r| r.emoji == emoji);
        if present && new_emoji && message.reactions.len() >= max_distinct {
            return Err(StoreError::TooManyReactions(max_distinct));
        }
        let changed = if present {
            sqlx::query(crate::sql::ADD_REACTION)
                .bind(id.as_str())
                .bind(emoji)
                .bind(user.as_str())
                .bind(now.as_micros())
                .execute(&mut *tx)
                .await
        } else {
            sqlx::query(crate::sql::REMOVE_REACTION)
                .bind(id.as_str())
                .bind(emoji)
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
        }
        .ctx("changing a reaction")?
        .rows_affected();
        if changed == 0 {
            return Ok(None); // Already so: nothing changes, no sequence number is taken.
        }
        let seq = next_seq(&mut tx, &message.channel_id).await?;
        sqlx::query("UPDATE messages SET version = ? WHERE id = ?")
            .bind(seq)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .ctx("versioning a message")?;
        let kind = if present {
            "reaction.added"
        } else {
            "reaction.removed"
        };
        record_change(
            &mut tx,
            &message.channel_id,
            seq,
            Logged::reaction(kind, id, user, emoji),
            now,
        )
        .await?;
        let message = message_in(&mut tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?;
        tx.commit().await.ctx("committing a reaction")?;
        let channel_id = message.channel_id.clone();
        let (emoji, user_id) = (emoji.to_owned(), user.clone());
        let change = Change::reaction(present, message, emoji, user_id);
        Ok(Some(ChannelEvent {
            channel_id,
            seq,
            change,
        }))
    }

    async fn thread(&self, root: &MessageId) -> StoreResult<Option<(Message, Vec<Message>)>> {
        let mut conn = self.reader.acquire().await.ctx("acquiring a reader")?;
        let Some(root_message) = message_in(&mut conn, root.as_str()).await? else {
            return Ok(None);
        };
        let replies = load(
            &mut conn,
            "m.thread_root_id = ? AND m.deleted = 0 ORDER BY m.seq",
            &[root.as_str()],
        )
        .await?;
        Ok(Some((root_message, replies)))
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        let mut conn = self.reader.acquire().await.ctx("acquiring a reader")?;
        message_in(&mut conn, id.as_str()).await
    }

    async fn messages_since(
        &self,
        channel: &ChannelId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        // One read transaction: the page and the channel's last_seq come from one snapshot, so
        // next_cursor never skips a change committed in between.
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let last_seq: i64 = sqlx::query_scalar(crate::sql::LAST_SEQ)
            .bind(channel.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a channel's last_seq")?
            .ok_or(StoreError::NotFound(crate::Missing::Channel))?;
        let (cursor_s, limit_s) = (cursor.to_string(), (i64::from(limit) + 1).to_string());
        let messages = load(
            &mut tx,
            "m.channel_id = ? AND m.version > CAST(? AS INTEGER) ORDER BY m.version LIMIT CAST(? AS INTEGER)",
            &[channel.as_str(), &cursor_s, &limit_s],
        )
        .await?;
        let page = match feed::cut(messages, limit, last_seq, cursor) {
            feed::Cut::Page(page) => page,
            feed::Cut::WholeGroup(version) => {
                let group = load(
                    &mut tx,
                    "m.channel_id = ? AND m.version = CAST(? AS INTEGER)",
                    &[channel.as_str(), &version.to_string()],
                )
                .await?;
                feed::whole_group(group, version)
            }
        };
        tx.commit().await.ctx("ending a read")?;
        Ok(page)
    }

    async fn messages_before(
        &self,
        channel: &ChannelId,
        before: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        // The channel's timeline: thread replies live in their thread.
        self.timeline_page(
            "m.channel_id = ? AND m.seq < CAST(? AS INTEGER) AND m.thread_root_id IS NULL \
             ORDER BY m.seq DESC LIMIT CAST(? AS INTEGER)",
            channel,
            before,
            limit,
        )
        .await
    }

    async fn messages_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        self.timeline_page(
            "m.channel_id = ? AND m.seq > CAST(? AS INTEGER) AND m.thread_root_id IS NULL \
             ORDER BY m.seq LIMIT CAST(? AS INTEGER)",
            channel,
            after,
            limit,
        )
        .await
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChannelEvent>> {
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let changes: Vec<ChangeRow> = sqlx::query_as(crate::sql::CHANGE_LOG)
            .bind(channel.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .ctx("reading channel changes")?;
        // Every message the changes name, and their thread roots, in one read (it was a few
        // statements per change, each a hand-off to the database thread).
        let ids = changes::message_ids(&changes);
        let mut messages: HashMap<String, Message> = HashMap::new();
        if !ids.is_empty() {
            let ids = json(&ids)?;
            let loaded = load(
                &mut tx,
                "m.id IN (SELECT value FROM json_each(?1)) OR m.id IN \
                 (SELECT thread_root_id FROM messages WHERE id IN (SELECT value FROM json_each(?1)))",
                &[&ids],
            )
            .await?;
            for message in loaded {
                messages.insert(message.id.as_str().to_owned(), message);
            }
        }
        let channel_now = if changes::names_the_channel(&changes) {
            Some(channel_in(&mut tx, channel).await?)
        } else {
            None
        };
        tx.commit().await.ctx("ending a read")?;
        changes::events(channel, changes, &messages, channel_now.as_ref())
    }
}

impl super::Backend {
    /// A page of the channel's timeline by `where_sql` (binds: channel, sequence number,
    /// limit), and whether there is more beyond it: one row past the limit is asked for.
    async fn timeline_page(
        &self,
        where_sql: &str,
        channel: &ChannelId,
        seq: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        let mut conn = self.reader.acquire().await.ctx("acquiring a reader")?;
        let (seq_s, limit_s) = (seq.to_string(), (i64::from(limit) + 1).to_string());
        let mut messages =
            load(&mut conn, where_sql, &[channel.as_str(), &seq_s, &limit_s]).await?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        Ok((messages, has_more))
    }
}
