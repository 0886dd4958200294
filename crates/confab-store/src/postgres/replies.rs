//! Thread replies on PostgreSQL: one statement each, which also updates the thread's root
//! (top-level sends are batched instead: `sends.rs`).

use std::hash::{Hash, Hasher};

use confab_core::MessageId;

use super::PgStore;
use super::messages::{message_in, with_root};
use super::rows;
use crate::error::{DbContext, is_unique_violation};
use crate::{NewMessage, SendOutcome, StoreError, StoreResult};

/// A thread reply in one statement (top-level sends are batched instead: `sends.rs`).
///
/// The author's membership row is locked `FOR SHARE` before the channel row is updated: a
/// removal committed earlier hides the row, and one that comes later waits for this send, so
/// no message from a member lands after their `member.left`. The sequence number is taken only
/// when every check passes; a retry whose original commits while this statement waits for the
/// channel's lock hits the `(author_id, client_msg_id)` unique key instead, and the failed
/// statement undoes its increment. A reply also updates its thread's root.
///
/// `$1` id, `$2` channel, `$3` author, `$4` client_msg_id, `$5` body, `$6` created_at,
/// `$7` the message replied to, `$8` mention_ids, `$9` mentions_channel, `$10` how many files
/// it carries, `$11` and `$12` its text as the search index stores it.
const SEND: &str = "\
WITH member AS (
    SELECT 1 FROM channel_members WHERE channel_id = $2 AND user_id = $3 FOR SHARE
), root AS (
    SELECT COALESCE(p.thread_root_id, p.id) AS id FROM messages p
    WHERE p.id = $7 AND p.channel_id = $2
), taken AS (
    UPDATE channels SET last_seq = last_seq + 1
    WHERE id = $2
      AND EXISTS (SELECT 1 FROM member)
      AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM root))
      AND NOT EXISTS (SELECT 1 FROM messages WHERE author_id = $3 AND client_msg_id = $4)
    RETURNING last_seq
), inserted AS (
    INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body,
                          created_at, thread_root_id, mention_ids, mentions_channel, file_count)
    SELECT $1, $2, last_seq, last_seq, $3, $4, $5, $6, (SELECT id FROM root), $8, $9, $10
    FROM taken
    RETURNING seq, thread_root_id
), logged AS (
    INSERT INTO channel_changes (channel_id, seq, kind, message_id, created_at)
    SELECT $2, seq, 'message.created', $1, $6 FROM inserted
), indexed AS (
    INSERT INTO message_search (message_id, words, stems) SELECT $1, $11, $12 FROM inserted
), thread AS (
    UPDATE messages SET reply_count = reply_count + 1, last_reply_at = $6, version = inserted.seq
    FROM inserted WHERE messages.id = inserted.thread_root_id
)
SELECT seq, thread_root_id FROM inserted";

/// Times a send is tried again when it wrote nothing yet every check passes when looked at
/// again (the author joined in between).
const SEND_ATTEMPTS: usize = 3;

/// What one run of [`SEND`] did.
enum Sent {
    Created(Box<SendOutcome>),
    /// A check failed; nothing was written.
    Refused,
    /// The files named are not the author's to attach here; nothing was written.
    FilesRefused,
    /// A concurrent send with the same `(author, client_msg_id)` committed first.
    Duplicate(sqlx::Error),
}

/// Replies in this process queue by `(author, client_msg_id)`, first come first served: a retry
/// that arrives while its original is still being written waits for it and then finds it,
/// instead of racing it to the channel's lock and possibly creating the message itself. Keys
/// share a fixed set of FIFO locks by hash, so there is nothing to clean up; two unrelated
/// sends that collide merely wait for each other. Across processes the race stays, and is
/// harmless: one creates, the other returns it.
pub(super) struct SendTurns(Box<[tokio::sync::Mutex<()>]>);

impl SendTurns {
    const STRIPES: usize = 256;

    pub(super) fn new() -> Self {
        Self((0..Self::STRIPES).map(|_| Default::default()).collect())
    }

    async fn take(&self, m: &NewMessage) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::hash::DefaultHasher::new();
        (m.author_id.as_str(), m.client_msg_id.as_str()).hash(&mut hasher);
        let stripe = (hasher.finish() % Self::STRIPES as u64) as usize;
        self.0[stripe].lock().await
    }
}

impl PgStore {
    /// A thread reply or a send with files (other top-level sends take `send_batched`).
    pub(super) async fn send_message_tx(&self, m: NewMessage) -> StoreResult<SendOutcome> {
        let _turn = self.send_turns.take(&m).await;
        for _ in 0..SEND_ATTEMPTS {
            let (duplicate, files_refused) = match self.try_send(&m).await? {
                Sent::Created(outcome) => return Ok(*outcome),
                Sent::Duplicate(e) => (Some(e), false),
                Sent::Refused => (None, false),
                Sent::FilesRefused => (None, true),
            };
            // Nothing was written. Decide as the SQLite backend does: a retry finds its
            // original first, then a non-member is refused, then a bad thread root.
            let (existing, member, root_ok): (Option<String>, bool, bool) = sqlx::query_as(
                "SELECT (SELECT id FROM messages WHERE author_id = $1 AND client_msg_id = $2), \
                        EXISTS (SELECT 1 FROM channel_members WHERE channel_id = $3 AND user_id = $1), \
                        EXISTS (SELECT 1 FROM messages WHERE id = $4 AND channel_id = $3)",
            )
            .bind(m.author_id.as_str())
            .bind(&m.client_msg_id)
            .bind(m.channel_id.as_str())
            .bind(m.thread_root_id.as_ref().map(MessageId::as_str))
            .fetch_one(&self.pool)
            .await
            .ctx("checking a send")?;
            if let Some(id) = existing {
                let (message, root) = with_root(&self.pool, &id).await?;
                return Ok(SendOutcome {
                    message,
                    root,
                    created: false,
                });
            }
            if let Some(e) = duplicate {
                // A unique key other than the client's ID: not a retry.
                return Err(StoreError::db("storing a message", e));
            }
            if !member {
                return Err(StoreError::NotMember);
            }
            if m.thread_root_id.is_some() && !root_ok {
                return Err(StoreError::InvalidThreadRoot);
            }
            if files_refused {
                return Err(StoreError::FilesUnavailable);
            }
        }
        Err(StoreError::NotMember)
    }

    async fn try_send(&self, m: &NewMessage) -> StoreResult<Sent> {
        let (mention_ids, mention_flags) = rows::mention_columns(&m.mentions);
        let indexed = confab_core::search::index_text(&m.body);
        let query = sqlx::query_as::<_, (i64, Option<String>)>(SEND)
            .bind(m.id.as_str())
            .bind(m.channel_id.as_str())
            .bind(m.author_id.as_str())
            .bind(&m.client_msg_id)
            .bind(&m.body)
            .bind(m.ts.as_micros())
            .bind(m.thread_root_id.as_ref().map(MessageId::as_str))
            .bind(&mention_ids)
            .bind(mention_flags)
            .bind(m.files.len() as i32)
            .bind(&indexed.words)
            .bind(&indexed.stems);
        // A reply returns its root as changed by it, read in the same transaction so nothing
        // can change the root in between.
        let mut tx = self.begin().await?;
        let files: Vec<&str> = m.files.iter().map(|f| f.as_str()).collect();
        if !files.is_empty() {
            // Each must be a complete upload of the author's, in the channel's workspace, on
            // no other message. Their rows stay locked to the commit: a concurrent send of the
            // same file waits here, then finds it taken.
            let free: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM files WHERE id = ANY ($1) AND uploader_id = $2 \
                 AND state = 'complete' AND message_id IS NULL \
                 AND workspace_id = (SELECT workspace_id FROM channels WHERE id = $3) \
                 FOR UPDATE",
            )
            .bind(&files)
            .bind(m.author_id.as_str())
            .bind(m.channel_id.as_str())
            .fetch_all(&mut *tx)
            .await
            .ctx("checking a send's files")?;
            if free.len() != files.len() {
                return Ok(Sent::FilesRefused);
            }
        }
        let (seq, thread_root_id) = match query.fetch_optional(&mut *tx).await {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(Sent::Refused),
            Err(e) if is_unique_violation(&e) => return Ok(Sent::Duplicate(e)),
            Err(e) => return Err(StoreError::db("storing a message", e)),
        };
        let root = match &thread_root_id {
            Some(root) => message_in(&mut *tx, root).await?,
            None => None,
        };
        let message = if files.is_empty() {
            m.stored(seq, thread_root_id.map(crate::rows::stored_id).transpose()?)
        } else {
            sqlx::query(
                "UPDATE files SET message_id = $1, channel_id = $2, message_seq = $3, \
                 position = array_position($4, id) WHERE id = ANY ($4)",
            )
            .bind(m.id.as_str())
            .bind(m.channel_id.as_str())
            .bind(seq)
            .bind(&files)
            .execute(&mut *tx)
            .await
            .ctx("attaching files")?;
            message_in(&mut *tx, m.id.as_str())
                .await?
                .ok_or(StoreError::NotFound(crate::Missing::Message))?
        };
        tx.commit().await.ctx("committing a message")?;
        Ok(Sent::Created(Box::new(SendOutcome {
            message,
            root,
            created: true,
        })))
    }
}
