//! Group commit of top-level sends on PostgreSQL: sends queue for batching workers, which
//! stores every send waiting with one call of `confab_send_batch` (migration 0002, where the
//! locking and the decisions are) and answers each caller only after that call has committed.
//!
//! Why: a send written on its own costs a statement and a commit, each a wake-up of a
//! PostgreSQL backend and of this process; on a small box those, not the disk, are the limit.
//! A batch pays them once for up to [`MAX_BATCH`] sends, and being one statement outside any
//! explicit transaction it is also one round trip: BEGIN and COMMIT ride along with it, and
//! its result arrives only after the commit (the server answers a statement's Sync after
//! committing its implicit transaction, and the driver reads up to that answer).
//!
//! In the call, in one transaction: the authors' membership rows are locked `FOR SHARE`, sorted;
//! then their channels, in id order; then every refusal is decided before anything is written,
//! in arrival order (a retry returns its original, stored or earlier in the batch; then a
//! non-member is refused); the rest take their channels' next numbers in arrival order, and
//! the messages, their `channel_changes` rows and the channels' `last_seq` are written in one
//! statement. Refusals take no number.
//!
//! A retry racing its original in a batch not yet committed (another process's, or another
//! batch of this one) hits the `(author_id, client_msg_id)` unique key: the call rolls back,
//! nothing was taken, and it runs again, now finding the original. Any other database error
//! fails the whole batch: nobody in it is acknowledged, and each caller gets the error,
//! retryable where [`StoreError::db`] says so.
//!
//! Thread replies do not come here: they keep the one-statement path in `messages.rs`, which
//! also returns the thread root as the reply left it.

use std::collections::HashMap;
use std::sync::Arc;

use confab_core::Message;
use confab_core::search::IndexedText;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use tokio::sync::{Mutex, mpsc};

use super::PgStore;
use super::rows;
use crate::error::{DbContext, is_unique_violation};
use crate::send_queue::{self, MAX_BATCH, PendingSend};
use crate::{NewMessage, SendOutcome, StoreError, StoreResult};

/// Batches in flight at once, each on its own connection: while one waits for its commit the
/// next gathers what arrived meanwhile and starts, and a batch waiting for a channel lock held
/// by another process does not hold up every other send. More only make batches smaller:
/// on the two-core bench box 3 and 4 were slower, and 1 was ~4 % faster but serialises
/// everything behind one batch.
const IN_FLIGHT: usize = 2;
/// Times a batch is run when a retry in it raced its original to the unique key.
const BATCH_ATTEMPTS: usize = 3;

/// `$1` ids, `$2` channels, `$3` authors, `$4` client_msg_ids, `$5` bodies, `$6` created_at,
/// `$7` mention_ids (each an array literal), `$8` mentions_channel, `$9` and `$10` the text
/// the search index stores (migration 0006).
const SEND_BATCH: &str = "\
SELECT pos, seq, same_as, original_id \
FROM confab_send_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

impl PgStore {
    /// Hands a top-level send to the batching workers and waits for its batch's commit.
    pub(super) async fn send_batched(&self, msg: NewMessage) -> StoreResult<SendOutcome> {
        send_queue::hand_off(&self.sends, msg).await
    }
}

/// The batching workers: whichever is free takes every send waiting (up to [`MAX_BATCH`]) and
/// stores it. They end when the store is dropped.
/// How long a worker keeps its connection while waiting for its turn at the queue.
const IDLE_HOLD: std::time::Duration = std::time::Duration::from_millis(5);

pub(super) fn spawn_workers(pool: &PgPool, pending: mpsc::Receiver<PendingSend>) {
    let pending = Arc::new(Mutex::new(pending));
    for _ in 0..IN_FLIGHT {
        tokio::spawn(worker(pool.clone(), pending.clone()));
    }
}

async fn worker(pool: PgPool, pending: Arc<Mutex<mpsc::Receiver<PendingSend>>>) {
    // The connection is kept from one batch to the next while sends keep coming: taking one
    // from the pool costs a round trip of its own (the pool pings it first), as much as the
    // batch's. It goes back whenever the queue is empty, so an idle store holds none and
    // closing the pool is not kept waiting.
    let mut conn: Option<PoolConnection<Postgres>> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // Another worker holds the queue while it waits for sends: if that lasts, this
            // one's connection is idle too and goes back (a small pool must not lose every
            // connection to idle workers).
            let mut pending = match tokio::time::timeout(IDLE_HOLD, pending.lock()).await {
                Ok(pending) => pending,
                Err(_) => {
                    conn = None;
                    pending.lock().await
                }
            };
            if pending.is_empty() {
                conn = None;
            }
            if pending.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        commit_batch(&pool, &mut conn, std::mem::take(&mut batch)).await;
    }
}

/// Why an attempt at a batch wrote nothing.
enum Failed {
    /// A send's `(author, client_msg_id)` was committed by someone else meanwhile.
    Raced(sqlx::Error),
    Error(StoreError),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Error(e)
    }
}

async fn commit_batch(
    pool: &PgPool,
    conn: &mut Option<PoolConnection<Postgres>>,
    batch: Vec<PendingSend>,
) {
    let sends: Vec<&NewMessage> = batch.iter().map(|p| &p.msg).collect();
    let indexed: Vec<&IndexedText> = batch.iter().map(|p| &p.indexed).collect();
    let mut attempt = 1;
    let committed = loop {
        match write_batch(pool, conn, &sends, &indexed).await {
            Ok(results) => break Ok(results),
            Err(Failed::Raced(_)) if attempt < BATCH_ATTEMPTS => attempt += 1,
            Err(Failed::Raced(e)) => break Err(StoreError::db("storing messages", e)),
            Err(Failed::Error(e)) => break Err(e),
        }
    };
    send_queue::answer(batch.into_iter(), committed);
}

/// What a send in the batch came to.
enum Decision {
    /// Stored with this sequence number.
    Created(i64),
    /// A retry of the send at this position earlier in the batch.
    SameAs(usize),
    /// A retry of this stored message.
    Original(String),
    Refused(StoreError),
}

/// One attempt at a batch: one statement, committed on its own. The results in the order of
/// `sends`.
async fn write_batch(
    pool: &PgPool,
    conn: &mut Option<PoolConnection<Postgres>>,
    sends: &[&NewMessage],
    indexed: &[&IndexedText],
) -> Result<Vec<StoreResult<SendOutcome>>, Failed> {
    let words: Vec<&str> = indexed.iter().map(|t| t.words.as_str()).collect();
    let stems: Vec<&str> = indexed.iter().map(|t| t.stems.as_str()).collect();
    let ids: Vec<&str> = sends.iter().map(|m| m.id.as_str()).collect();
    let channels: Vec<&str> = sends.iter().map(|m| m.channel_id.as_str()).collect();
    let authors: Vec<&str> = sends.iter().map(|m| m.author_id.as_str()).collect();
    let client_ids: Vec<&str> = sends.iter().map(|m| m.client_msg_id.as_str()).collect();
    let bodies: Vec<&str> = sends.iter().map(|m| m.body.as_str()).collect();
    let created_at: Vec<i64> = sends.iter().map(|m| m.ts.as_micros()).collect();
    let mut mention_ids = Vec::with_capacity(sends.len());
    let mut mention_flags = Vec::with_capacity(sends.len());
    for m in sends {
        let (ids, flags) = rows::mention_columns(&m.mentions);
        mention_ids.push(array_literal(&ids));
        mention_flags.push(flags);
    }
    let db = match conn {
        Some(db) => db,
        None => conn.insert(pool.acquire().await.ctx("storing messages")?),
    };
    type Row = (i64, Option<i64>, Option<i64>, Option<String>);
    let stored: Result<Vec<Row>, sqlx::Error> = sqlx::query_as(SEND_BATCH)
        .bind(&ids)
        .bind(&channels)
        .bind(&authors)
        .bind(&client_ids)
        .bind(&bodies)
        .bind(&created_at)
        .bind(&mention_ids)
        .bind(&mention_flags)
        .bind(&words)
        .bind(&stems)
        .fetch_all(&mut **db)
        .await;
    let rows = match stored {
        Ok(rows) => rows,
        Err(e) if is_unique_violation(&e) => return Err(Failed::Raced(e)),
        Err(e) => {
            // The connection may be what failed: the next batch takes one the pool has tested.
            *conn = None;
            return Err(StoreError::db("storing messages", e).into());
        }
    };
    // One row per send, in order; anything else is a broken function, and nothing can be
    // told about any send of the batch (it has committed, so retries will find the truth).
    let mismatch = || StoreError::Internal {
        context: "storing messages",
        source: sqlx::Error::Protocol("confab_send_batch returned other rows than sent".into()),
    };
    if rows.len() != sends.len() {
        return Err(mismatch().into());
    }
    let mut decisions = Vec::with_capacity(rows.len());
    for (at, (pos, seq, same_as, original)) in rows.into_iter().enumerate() {
        let earlier = |p: i64| usize::try_from(p - 1).ok().filter(|p| *p < at);
        decisions.push(match (seq, same_as, original) {
            _ if usize::try_from(pos - 1).ok() != Some(at) => return Err(mismatch().into()),
            (Some(seq), None, None) => Decision::Created(seq),
            (None, Some(first), None) => Decision::SameAs(earlier(first).ok_or_else(mismatch)?),
            (None, None, Some(id)) => Decision::Original(id),
            (None, None, None) => Decision::Refused(StoreError::NotMember),
            _ => return Err(mismatch().into()),
        });
    }
    // Committed: from here on a failure concerns only the retries that read their originals.
    let originals = read_originals(pool, &decisions).await;
    Ok(outcomes(sends, decisions, originals))
}

/// A PostgreSQL array literal of `items`, each quoted: a message's mention IDs travel as one
/// text element of a batch's array (arrays of arrays must be rectangular).
fn array_literal(items: &[&str]) -> String {
    let mut literal = String::from("{");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            literal.push(',');
        }
        literal.push('"');
        for c in item.chars() {
            if c == '"' || c == '\\' {
                literal.push('\\');
            }
            literal.push(c);
        }
        literal.push('"');
    }
    literal.push('}');
    literal
}

/// The stored messages retries return, with their thread roots, by id.
async fn read_originals(
    pool: &PgPool,
    decisions: &[Decision],
) -> StoreResult<HashMap<String, Message>> {
    let ids: Vec<&str> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Original(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&super::statements::MESSAGES_WITH_ROOTS)
        .bind(&ids)
        .fetch_all(pool)
        .await
        .ctx("reading messages")?;
    Ok(rows::messages(&rows)?
        .into_iter()
        .map(|m| (m.id.as_str().to_owned(), m))
        .collect())
}

fn outcomes(
    sends: &[&NewMessage],
    decisions: Vec<Decision>,
    originals: StoreResult<HashMap<String, Message>>,
) -> Vec<StoreResult<SendOutcome>> {
    let mut results: Vec<StoreResult<SendOutcome>> = Vec::with_capacity(sends.len());
    for (m, decision) in sends.iter().zip(decisions) {
        let result = match decision {
            Decision::Created(seq) => Ok(SendOutcome {
                message: m.stored(seq, None),
                root: None,
                created: true,
            }),
            Decision::SameAs(first) => match results.get(first) {
                Some(Ok(first)) => Ok(SendOutcome {
                    message: first.message.clone(),
                    root: first.root.clone(),
                    created: false,
                }),
                // Only a created send is a retry's original: not reached.
                _ => Err(StoreError::NotFound(crate::Missing::Message)),
            },
            Decision::Original(id) => match &originals {
                Ok(originals) => match originals.get(&id) {
                    Some(message) => Ok(SendOutcome {
                        root: message
                            .thread_root_id
                            .as_ref()
                            .and_then(|root| originals.get(root.as_str()))
                            .cloned(),
                        message: message.clone(),
                        created: false,
                    }),
                    // Messages are never removed, only tombstoned: not reached.
                    None => Err(StoreError::NotFound(crate::Missing::Message)),
                },
                Err(e) => Err(e.for_each_caller()),
            },
            Decision::Refused(e) => Err(e),
        };
        results.push(result);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::array_literal;

    #[test]
    fn array_literals_quote_every_item() {
        assert_eq!(array_literal(&[]), "{}");
        assert_eq!(array_literal(&["a", "b c"]), r#"{"a","b c"}"#);
        assert_eq!(array_literal(&[r#"x"y\z"#]), r#"{"x\"y\\z"}"#);
    }
}
