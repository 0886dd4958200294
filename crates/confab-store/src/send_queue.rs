//! Both ends of group commit, the same for every backend: a send handed to the batching queue
//! waits for its answer, and a committed (or failed) batch answers everyone in it at once.
//! What differs per backend is only how a batch is written.

use confab_core::search::{IndexedText, index_text};
use tokio::sync::{mpsc, oneshot};

use crate::{NewMessage, SendOutcome, StoreError, StoreResult};

/// Sends queued for the batching side before senders wait for room.
pub(crate) const SEND_QUEUE: usize = 4096;
/// Most sends written in one transaction.
pub(crate) const MAX_BATCH: usize = 512;

pub(crate) struct PendingSend {
    pub(crate) msg: NewMessage,
    /// The body as the search index stores it, prepared on the sender's task: the batching
    /// side (one thread for SQLite) only writes it.
    pub(crate) indexed: IndexedText,
    reply: oneshot::Sender<StoreResult<SendOutcome>>,
}

/// Queues a send and waits until its batch has committed (or failed).
pub(crate) async fn hand_off(
    queue: &mpsc::Sender<PendingSend>,
    msg: NewMessage,
) -> StoreResult<SendOutcome> {
    let (reply, outcome) = oneshot::channel();
    let closed = || StoreError::Unavailable {
        context: "sending a message",
        source: sqlx::Error::PoolClosed,
    };
    queue
        .send(PendingSend {
            indexed: index_text(&msg.body),
            msg,
            reply,
        })
        .await
        .map_err(|_| closed())?;
    outcome.await.map_err(|_| closed())?
}

/// Answers every send of a batch: each its own result once the batch committed, or all the
/// batch's error when it did not (nobody in it was acknowledged).
pub(crate) fn answer(
    batch: impl ExactSizeIterator<Item = PendingSend>,
    committed: StoreResult<Vec<StoreResult<SendOutcome>>>,
) {
    match committed {
        Ok(results) => {
            for (pending, result) in batch.zip(results) {
                let _ = pending.reply.send(result);
            }
        }
        Err(error) => {
            // The database away is an outage the callers retry through, not a bug.
            if matches!(error, StoreError::Unavailable { .. }) {
                tracing::warn!(
                    ?error,
                    sends = batch.len(),
                    "a batch of sends failed; none was acknowledged"
                );
            } else {
                tracing::error!(
                    ?error,
                    sends = batch.len(),
                    "a batch of sends failed; none was acknowledged"
                );
            }
            for pending in batch {
                let _ = pending.reply.send(Err(error.for_each_caller()));
            }
        }
    }
}
