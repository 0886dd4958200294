//! Messages in PostgreSQL: edits, deletes, reactions, threads, and reading them back (thread
//! replies are `replies.rs`, top-level sends are batched in `sends.rs`).
//! Every write takes the channel's next sequence number, bumps the message's `version` to it
//! and logs the change, in one transaction; what the event carries is read back inside it.

use std::collections::HashMap;

use async_trait::async_trait;
use confab_core::{
    Change, ChannelEvent, ChannelId, Mentions, Message, MessageId, Timestamp, UserId,
};
use sqlx::{PgConnection, PgExecutor};

use super::PgStore;
use super::log::{Logged, channel_in, record_change};
use super::rows;
use super::statements;
use crate::changes::{self, ChangeRow};
use crate::error::DbContext;
use crate::feed;
use crate::{ChangesPage, MessageStore, NewMessage, SendOutcome, StoreError, StoreResult};

pub(super) async fn message_in(db: impl PgExecutor<'_>, id: &str) -> StoreResult<Option<Message>> {
    let row = sqlx::query(&statements::MESSAGE)
        .bind(id)
        .fetch_optional(db)
        .await
        .ctx("reading a message")?;
    row.as_ref().map(rows::message).transpose()
}

/// A message and, for a thread reply, its root, both as they are now, from one statement.
pub(super) async fn with_root(
    db: impl PgExecutor<'_>,
    id: &str,
) -> StoreResult<(Message, Option<Message>)> {
    let rows = sqlx::query(&statements::MESSAGE_WITH_ROOT)
        .bind(id)
        .fetch_all(db)
        .await
        .ctx("reading a message")?;
    let mut messages = rows::messages(&rows)?;
    let at = messages
        .iter()
        .position(|m| m.id.as_str() == id)
        .ok_or(StoreError::NotFound(crate::Missing::Message))?;
    let message = messages.swap_remove(at);
    let root = message
        .thread_root_id
        .as_ref()
        .and_then(|root| messages.into_iter().find(|m| m.id == *root));
    Ok((message, root))
}

/// Takes the next sequence number of the channel of message `id`, if the message was live when
/// the statement began; `Ok(None)` otherwise. The message's channel never changes, so reading
/// it in the same statement is safe; whether it is still live is checked again under the lock.
async fn lock_channel_of(
    conn: &mut PgConnection,
    id: &MessageId,
) -> StoreResult<Option<(ChannelId, i64)>> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "UPDATE channels SET last_seq = last_seq + 1 \
         WHERE id = (SELECT channel_id FROM messages WHERE id = $1 AND NOT deleted) \
         RETURNING id, last_seq",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("taking the next sequence number")?;
    row.map(|(channel, seq)| Ok((crate::rows::stored_id(channel)?, seq)))
        .transpose()
}

/// Why [`lock_channel_of`] found nothing: no such message, or it was deleted.
async fn not_live(conn: &mut PgConnection, id: &MessageId) -> StoreResult<StoreError> {
    let deleted: Option<bool> = sqlx::query_scalar("SELECT deleted FROM messages WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading a message")?;
    Ok(match deleted {
        Some(true) => StoreError::MessageDeleted,
        _ => StoreError::NotFound(crate::Missing::Message),
    })
}

#[async_trait]
impl MessageStore for PgStore {
    async fn send_message(&self, m: NewMessage) -> StoreResult<SendOutcome> {
        // Top-level sends are batched; a reply also changes and returns its thread root, which
        // the one-statement path does.
        // A send with files attaches them in its own transaction, as a reply does.
        if m.thread_root_id.is_none() && m.files.is_empty() {
            self.send_batched(m).await
        } else {
            self.send_message_tx(m).await
        }
    }

    async fn edit_message(
        &self,
        id: &MessageId,
        body: &str,
        mentions: &Mentions,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent> {
        let mut tx = self.begin().await?;
        let Some((channel, seq)) = lock_channel_of(&mut tx, id).await? else {
            return Err(not_live(&mut tx, id).await?);
        };
        let (mention_ids, mention_flags) = rows::mention_columns(mentions);
        let edited = sqlx::query(
            "UPDATE messages SET body = $1, edited_at = $2, version = $3, mention_ids = $4, \
             mentions_channel = $5 WHERE id = $6 AND NOT deleted",
        )
        .bind(body)
        .bind(now.as_micros())
        .bind(seq)
        .bind(&mention_ids)
        .bind(mention_flags)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .ctx("editing a message")?
        .rows_affected();
        if edited == 0 {
            return Err(StoreError::MessageDeleted); // deleted while this waited for the lock
        }
        super::search::reindex(&mut tx, id, body).await?;
        record_change(
            &mut tx,
            &channel,
            seq,
            Logged::message("message.edited", id),
            now,
        )
        .await?;
        let message = message_in(&mut *tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?;
        tx.commit().await.ctx("committing an edit")?;
        Ok(ChannelEvent {
            channel_id: channel,
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
        let Some((channel, seq)) = lock_channel_of(&mut tx, id).await? else {
            return match not_live(&mut tx, id).await? {
                StoreError::MessageDeleted => Ok(None),
                e => Err(e),
            };
        };
        // The content goes for good: body, mentions and reactions; a tombstone remains.
        let deleted: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE messages SET deleted = true, body = NULL, mention_ids = '{}', \
             mentions_channel = 0, file_count = 0, version = $1 WHERE id = $2 AND NOT deleted \
             RETURNING thread_root_id",
        )
        .bind(seq)
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .ctx("deleting a message")?;
        let Some(thread_root_id) = deleted else {
            return Ok(None); // a concurrent delete got there first
        };
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
        if let Some(root) = &thread_root_id {
            sqlx::query(
                "UPDATE messages SET reply_count = reply_count - 1, version = $1, last_reply_at = \
                 (SELECT MAX(created_at) FROM messages WHERE thread_root_id = $2 AND NOT deleted) \
                 WHERE id = $2",
            )
            .bind(seq)
            .bind(root)
            .execute(&mut *tx)
            .await
            .ctx("updating a thread root")?;
        }
        record_change(
            &mut tx,
            &channel,
            seq,
            Logged::message("message.deleted", id),
            now,
        )
        .await?;
        let (message, root) = with_root(&mut *tx, id.as_str()).await?;
        tx.commit().await.ctx("committing a delete")?;
        Ok(Some(ChannelEvent {
            channel_id: channel,
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
        let Some((channel, seq)) = lock_channel_of(&mut tx, id).await? else {
            return Err(not_live(&mut tx, id).await?);
        };
        if present {
            // Under the channel's lock: no other reaction to this message is being added.
            let (distinct, this_one): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(DISTINCT emoji), COALESCE(SUM(CASE WHEN emoji = $2 THEN 1 ELSE 0 END), 0) \
                 FROM reactions WHERE message_id = $1",
            )
            .bind(id.as_str())
            .bind(emoji)
            .fetch_one(&mut *tx)
            .await
            .ctx("counting reactions")?;
            if this_one == 0 && distinct >= max_distinct as i64 {
                return Err(StoreError::TooManyReactions(max_distinct));
            }
        }
        let live = sqlx::query("UPDATE messages SET version = $1 WHERE id = $2 AND NOT deleted")
            .bind(seq)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .ctx("versioning a message")?
            .rows_affected();
        if live == 0 {
            return Err(StoreError::MessageDeleted); // deleted while this waited for the lock
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
            // Already so: nothing changes, and the rollback returns the sequence number.
            return Ok(None);
        }
        let kind = if present {
            "reaction.added"
        } else {
            "reaction.removed"
        };
        record_change(
            &mut tx,
            &channel,
            seq,
            Logged::reaction(kind, id, user, emoji),
            now,
        )
        .await?;
        let message = message_in(&mut *tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?;
        tx.commit().await.ctx("committing a reaction")?;
        let (emoji, user_id) = (emoji.to_owned(), user.clone());
        let change = Change::reaction(present, message, emoji, user_id);
        Ok(Some(ChannelEvent {
            channel_id: channel,
            seq,
            change,
        }))
    }

    async fn thread(&self, root: &MessageId) -> StoreResult<Option<(Message, Vec<Message>)>> {
        // The root and its live replies from one statement, so they agree.
        let rows = sqlx::query(&statements::THREAD)
            .bind(root.as_str())
            .fetch_all(&self.pool)
            .await
            .ctx("reading a thread")?;
        let mut messages = rows::messages(&rows)?;
        let Some(at) = messages.iter().position(|m| m.id == *root) else {
            return Ok(None);
        };
        let root_message = messages.remove(at);
        Ok(Some((root_message, messages)))
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        message_in(&self.pool, id.as_str()).await
    }

    async fn messages_since(
        &self,
        channel: &ChannelId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        // One snapshot: the page and the channel's last_seq agree, so next_cursor never skips
        // a change committed in between.
        let mut tx = self.begin_snapshot().await?;
        let last_seq: i64 = sqlx::query_scalar(crate::sql::LAST_SEQ)
            .bind(channel.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a channel's last_seq")?
            .ok_or(StoreError::NotFound(crate::Missing::Channel))?;
        let rows = sqlx::query(&statements::FEED_PAGE)
            .bind(channel.as_str())
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *tx)
            .await
            .ctx("reading messages")?;
        let page = match feed::cut(rows::messages(&rows)?, limit, last_seq, cursor) {
            feed::Cut::Page(page) => page,
            feed::Cut::WholeGroup(version) => {
                let rows = sqlx::query(&statements::FEED_GROUP)
                    .bind(channel.as_str())
                    .bind(version)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx("reading messages")?;
                feed::whole_group(rows::messages(&rows)?, version)
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
        self.timeline_page(&statements::HISTORY_PAGE, channel, before, limit)
            .await
    }

    async fn messages_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        self.timeline_page(&statements::HISTORY_AFTER, channel, after, limit)
            .await
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChannelEvent>> {
        let mut tx = self.begin_snapshot().await?;
        let changes: Vec<ChangeRow> = sqlx::query_as(crate::sql::CHANGE_LOG)
            .bind(channel.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .ctx("reading channel changes")?;
        // Every message the changes name, and their thread roots, in one statement.
        let ids = changes::message_ids(&changes);
        let mut messages: HashMap<String, Message> = HashMap::new();
        if !ids.is_empty() {
            let rows = sqlx::query(&statements::MESSAGES_WITH_ROOTS)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await
                .ctx("reading changed messages")?;
            for message in rows::messages(&rows)? {
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
    /// A page of the channel's timeline by `statement` (`$1` channel, `$2` sequence number,
    /// `$3` limit), and whether there is more beyond it: one row past the limit is asked for.
    async fn timeline_page(
        &self,
        statement: &str,
        channel: &ChannelId,
        seq: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        let rows = sqlx::query(statement)
            .bind(channel.as_str())
            .bind(seq)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await
            .ctx("reading messages")?;
        let mut messages = rows::messages(&rows)?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        Ok((messages, has_more))
    }
}
