//! SQLite's group commit: every send waiting when the writer is free goes into one
//! transaction, on a thread of its own (`SqliteStore::open`), so one fsync makes a whole batch
//! durable. Sequence numbers of top-level sends are taken here, in arrival order; the
//! `message_created` trigger advances `last_seq` and logs each change.

use std::collections::HashMap;

use confab_core::MessageId;
use confab_core::search::IndexedText;
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::mpsc;

use super::hydrate::{message_in, with_root};
use super::messages::mention_columns;
use crate::error::DbContext;
use crate::send_queue::{self, MAX_BATCH, PendingSend};
use crate::{NewMessage, SendOutcome, StoreError, StoreResult};

/// Group commit: every send waiting when the writer is free goes into one transaction, so one
/// fsync makes a whole batch durable. Nothing is answered before its batch has committed.
pub(super) async fn group_commit(pool: SqlitePool, mut pending: mpsc::Receiver<PendingSend>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&pool, &mut batch).await;
    }
}

async fn commit_batch(pool: &SqlitePool, batch: &mut Vec<PendingSend>) {
    let committed = async {
        let mut tx = pool.begin().await.ctx("starting a transaction")?;
        let results = send_all(&mut tx, batch).await?;
        tx.commit().await.ctx("committing messages")?;
        Ok(results)
    }
    .await;
    send_queue::answer(batch.drain(..), committed);
}

/// What one query learns about every send of a batch before anything is written.
const CHECK_SENDS: &str = "\
SELECT (SELECT id FROM messages WHERE author_id = s.value ->> 0 AND client_msg_id = s.value ->> 1), \
       EXISTS (SELECT 1 FROM channel_members WHERE channel_id = s.value ->> 2 AND user_id = s.value ->> 0), \
       (SELECT last_seq FROM channels WHERE id = s.value ->> 2) \
FROM json_each(?1) s ORDER BY s.key";

/// Stores a run of checked top-level sends with their numbers already taken; the
/// `message_created` trigger advances each channel's `last_seq` to the row's `seq` and logs
/// the change, so rows go in ascending order.
const INSERT_SENDS: &str = "\
INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body, created_at, \
                      mention_ids, mentions_channel) \
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
       value ->> 6, value ->> 7, value ->> 8 \
FROM json_each(?1) ORDER BY key";

/// Indexes a run of stored sends for search, in the same transaction (migration 0007's
/// `search_input` triggers), numbered in arrival order.
const INDEX_SENDS: &str = "\
INSERT INTO search_input (message_id, channel_id, tokens, stems) \
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) ORDER BY key";

/// Every send of a batch, inside its transaction, answered in arrival order.
///
/// Why not one `send_in` per send: each statement is a round trip to sqlx's SQLite thread, and
/// on a busy two-core box every hand-off waits for a core, so a batch of 500 sends spent
/// ~170 ms on its statements. Here the common case, a fresh top-level send by a member, costs
/// no statement of its own: one query checks the whole batch and one insert stores each run of
/// such sends. Sequence numbers are taken here, in arrival order, from the channels' `last_seq`
/// as this transaction sees it; the writer connection is the only one, so nobody else takes
/// numbers meanwhile. Anything unusual (a thread reply, a retry of a send earlier in the same
/// batch) ends the run and goes through `send_in`, which reads the database as it now is.
async fn send_all(
    conn: &mut SqliteConnection,
    batch: &[PendingSend],
) -> StoreResult<Vec<StoreResult<SendOutcome>>> {
    let sends: Vec<&NewMessage> = batch.iter().map(|p| &p.msg).collect();
    let keys: Vec<[&str; 3]> = sends
        .iter()
        .map(|m| {
            [
                m.author_id.as_str(),
                &m.client_msg_id,
                m.channel_id.as_str(),
            ]
        })
        .collect();
    let checked: Vec<(Option<String>, bool, Option<i64>)> = sqlx::query_as(CHECK_SENDS)
        .bind(json(&keys)?)
        .fetch_all(&mut *conn)
        .await
        .ctx("checking sends")?;
    if checked.len() != sends.len() {
        return Err(inconsistent(
            "checking sends",
            format!("{} answers for {} sends", checked.len(), sends.len()),
        ));
    }
    let mut last_seq: HashMap<&str, i64> = HashMap::new();
    for (m, (_, _, last)) in sends.iter().zip(&checked) {
        if let Some(last) = last {
            last_seq.insert(m.channel_id.as_str(), *last);
        }
    }
    let mut seen: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
    let mut results = Vec::with_capacity(sends.len());
    let mut run = Run::default();
    for ((m, pending), (existing, member, _)) in sends.iter().zip(batch).zip(checked) {
        let first_of_key = seen.insert((m.author_id.as_str(), &m.client_msg_id));
        if m.thread_root_id.is_some() || !first_of_key || !m.files.is_empty() {
            run.flush(conn).await?;
            match send_in(conn, m, &pending.indexed).await {
                Ok(outcome) => {
                    if outcome.created {
                        last_seq.insert(m.channel_id.as_str(), outcome.message.seq);
                    }
                    results.push(Ok(outcome));
                }
                // Refusals are decided before the send writes anything: the batch goes on.
                Err(
                    e @ (StoreError::NotMember
                    | StoreError::InvalidThreadRoot
                    | StoreError::FilesUnavailable
                    | StoreError::NotFound(_)),
                ) => results.push(Err(e)),
                // Anything else may have left a half-written send: the whole batch rolls back
                // and nobody in it is acknowledged.
                Err(e) => return Err(e),
            }
            continue;
        }
        if let Some(id) = existing {
            let (message, root) = with_root(conn, &id).await?;
            results.push(Ok(SendOutcome {
                message,
                root,
                created: false,
            }));
            continue;
        }
        if !member {
            results.push(Err(StoreError::NotMember));
            continue;
        }
        let Some(seq) = last_seq.get_mut(m.channel_id.as_str()) else {
            results.push(Err(StoreError::NotFound(crate::Missing::Channel)));
            continue;
        };
        *seq += 1;
        if run.full() {
            run.flush(conn).await?;
        }
        run.push(m, &pending.indexed, *seq);
        results.push(Ok(SendOutcome {
            message: m.stored(*seq, None),
            root: None,
            created: true,
        }));
    }
    run.flush(conn).await?;
    Ok(results)
}

/// Bodies held in one run before it is written: a batch of long bodies becomes several
/// inserts rather than one JSON text of hundreds of megabytes.
const RUN_BYTES: usize = 4 << 20;

/// Checked sends waiting to be inserted together.
#[derive(Default)]
struct Run {
    rows: Vec<serde_json::Value>,
    /// Each row's message ID and text as the search index stores it.
    indexed: Vec<[String; 4]>,
    bytes: usize,
}

impl Run {
    fn full(&self) -> bool {
        self.bytes >= RUN_BYTES
    }

    fn push(&mut self, m: &NewMessage, indexed: &IndexedText, seq: i64) {
        self.bytes += m.body.len() + indexed.tokens.len();
        self.indexed.push([
            m.id.as_str().to_owned(),
            m.channel_id.as_str().to_owned(),
            indexed.tokens.clone(),
            indexed.stems.clone(),
        ]);
        let (mention_ids, mention_flags) = mention_columns(&m.mentions);
        self.rows.push(serde_json::json!([
            m.id.as_str(),
            m.channel_id.as_str(),
            seq,
            m.author_id.as_str(),
            m.client_msg_id,
            m.body,
            m.ts.as_micros(),
            mention_ids,
            mention_flags,
        ]));
    }

    async fn flush(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        self.bytes = 0;
        let stored = sqlx::query(INSERT_SENDS)
            .bind(json(&rows)?)
            .execute(&mut *conn)
            .await
            .ctx("storing messages")?
            .rows_affected();
        if stored != rows.len() as u64 {
            return Err(inconsistent(
                "storing messages",
                format!("{stored} rows for {} messages", rows.len()),
            ));
        }
        let indexed = std::mem::take(&mut self.indexed);
        sqlx::query(INDEX_SENDS)
            .bind(json(&indexed)?)
            .execute(&mut *conn)
            .await
            .ctx("indexing messages")?;
        Ok(())
    }
}

/// A batch statement answered other than it must: roll the batch back, acknowledge nothing.
fn inconsistent(context: &'static str, what: String) -> StoreError {
    StoreError::Internal {
        context,
        source: sqlx::Error::Protocol(what),
    }
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| inconsistent("encoding a batch", e.to_string()))
}

/// One send inside a batch's transaction: every check first, then the writes.
async fn send_in(
    conn: &mut SqliteConnection,
    m: &NewMessage,
    indexed: &IndexedText,
) -> StoreResult<SendOutcome> {
    // One statement for both checks: a retry finds its original, a non-member is refused.
    let (existing, member): (Option<String>, bool) = sqlx::query_as(
        "SELECT (SELECT id FROM messages WHERE author_id = ?1 AND client_msg_id = ?2), \
                EXISTS (SELECT 1 FROM channel_members WHERE channel_id = ?3 AND user_id = ?1)",
    )
    .bind(m.author_id.as_str())
    .bind(&m.client_msg_id)
    .bind(m.channel_id.as_str())
    .fetch_one(&mut *conn)
    .await
    .ctx("checking a send")?;
    if let Some(id) = existing {
        let (message, root) = with_root(conn, &id).await?;
        return Ok(SendOutcome {
            message,
            root,
            created: false,
        });
    }
    if !member {
        return Err(StoreError::NotMember);
    }
    let thread_root_id = match &m.thread_root_id {
        None => None,
        Some(root) => {
            let row = sqlx::query("SELECT channel_id, thread_root_id FROM messages WHERE id = ?")
                .bind(root.as_str())
                .fetch_optional(&mut *conn)
                .await
                .ctx("reading a thread root")?
                .ok_or(StoreError::InvalidThreadRoot)?;
            if row.try_get::<&str, _>(0).ctx("reading a thread root")? != m.channel_id.as_str() {
                return Err(StoreError::InvalidThreadRoot);
            }
            // A reply to a reply belongs to the same thread as its parent.
            let parent_root: Option<String> = row.try_get(1).ctx("reading a thread root")?;
            Some(
                parent_root
                    .map(crate::rows::stored_id)
                    .transpose()?
                    .unwrap_or_else(|| root.clone()),
            )
        }
    };
    let files = json(&m.files.iter().map(|f| f.as_str()).collect::<Vec<_>>())?;
    if !m.files.is_empty() {
        // Each must be a complete upload of the author's, in the channel's workspace, on no
        // other message. Decided before anything is written, on the one writer connection, so
        // nothing can attach them between this check and the update below.
        let free: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM files WHERE id IN (SELECT value FROM json_each(?1)) \
             AND uploader_id = ?2 AND state = 'complete' AND message_id IS NULL \
             AND workspace_id = (SELECT workspace_id FROM channels WHERE id = ?3)",
        )
        .bind(&files)
        .bind(m.author_id.as_str())
        .bind(m.channel_id.as_str())
        .fetch_one(&mut *conn)
        .await
        .ctx("checking a send's files")?;
        if free != m.files.len() as i64 {
            return Err(StoreError::FilesUnavailable);
        }
    }
    let (mention_ids, mention_flags) = mention_columns(&m.mentions);
    // Takes the channel's next sequence number; the `message_created` trigger advances
    // `last_seq` and logs the change in the same statement (migration 0003).
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body, created_at, \
         thread_root_id, mention_ids, mentions_channel, file_count) \
         SELECT ?1, ?2, c.last_seq + 1, c.last_seq + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM channels c WHERE c.id = ?2 \
         RETURNING seq",
    )
    .bind(m.id.as_str())
    .bind(m.channel_id.as_str())
    .bind(m.author_id.as_str())
    .bind(&m.client_msg_id)
    .bind(&m.body)
    .bind(m.ts.as_micros())
    .bind(thread_root_id.as_ref().map(MessageId::as_str))
    .bind(mention_ids)
    .bind(mention_flags)
    .bind(m.files.len() as i64)
    .fetch_optional(&mut *conn)
    .await
    .ctx("storing a message")?
    .ok_or(StoreError::NotFound(crate::Missing::Channel))?;
    super::search::index(conn, &m.id, &m.channel_id, indexed).await?;
    let root = match &thread_root_id {
        None => None,
        Some(root) => {
            // The root changes with its thread: same change, same version.
            sqlx::query("UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?, version = ? WHERE id = ?")
                .bind(m.ts.as_micros())
                .bind(seq)
                .bind(root.as_str())
                .execute(&mut *conn)
                .await
                .ctx("updating a thread root")?;
            message_in(conn, root.as_str()).await?
        }
    };
    let message = if m.files.is_empty() {
        m.stored(seq, thread_root_id)
    } else {
        sqlx::query(
            "UPDATE files SET message_id = ?1, channel_id = ?2, message_seq = ?3, \
             position = (SELECT key FROM json_each(?4) WHERE value = files.id) \
             WHERE id IN (SELECT value FROM json_each(?4))",
        )
        .bind(m.id.as_str())
        .bind(m.channel_id.as_str())
        .bind(seq)
        .bind(&files)
        .execute(&mut *conn)
        .await
        .ctx("attaching files")?;
        message_in(conn, m.id.as_str())
            .await?
            .ok_or(StoreError::NotFound(crate::Missing::Message))?
    };
    Ok(SendOutcome {
        message,
        root,
        created: true,
    })
}
