//! The publisher task: drains the publish queue in order, a pipeline of up to
//! [`MAX_BATCH`] publishes per round trip, over one connection. A failed batch is kept and
//! published again once Redis is back (subscribers drop what they already delivered by its
//! sequence number); typing indicators in it are dropped, being stale by then.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use confab_core::BusMessage;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use super::Shared;

const MAX_BATCH: usize = 512;
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A message encoded for Redis, as queued: its size counts against the queue's byte budget
/// from `publish` until it is sent or dropped.
pub(crate) struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    ephemeral: bool,
}

impl Outgoing {
    pub(crate) fn size(&self) -> usize {
        self.payload.len() + self.channel.len()
    }
}

pub(crate) fn encode(shared: &Shared, msg: &BusMessage) -> Option<Outgoing> {
    match serde_json::to_vec(msg) {
        Ok(payload) => Some(Outgoing {
            channel: shared.channel_name(&msg.topic()),
            payload,
            ephemeral: matches!(msg, BusMessage::Typing { .. }),
        }),
        Err(error) => {
            tracing::error!(%error, "bus message could not be encoded");
            None
        }
    }
}

/// Gives the bytes of messages that left the queue back to its budget.
fn release(queued: &AtomicUsize, gone: impl Iterator<Item = usize>) {
    queued.fetch_sub(gone.sum(), Ordering::AcqRel);
}

/// Drops the typing indicators of a batch that could not go out (stale by the time Redis is
/// back), giving their bytes back.
fn drop_ephemeral(pending: &mut VecDeque<Outgoing>, queued: &AtomicUsize) {
    release(
        queued,
        pending.iter().filter(|o| o.ephemeral).map(Outgoing::size),
    );
    pending.retain(|o| !o.ephemeral);
}

/// A connection, with the server's pub/sub kind learnt on it.
async fn connect(shared: &Shared) -> redis::RedisResult<MultiplexedConnection> {
    let mut c = shared.open().await?;
    shared.probe(&mut c).await?;
    Ok(c)
}

/// `conn`: the connection made at start, if Redis answered then.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut conn: Option<MultiplexedConnection>,
    mut queue: mpsc::Receiver<Outgoing>,
    queued: Arc<AtomicUsize>,
) {
    let mut pending: VecDeque<Outgoing> = VecDeque::new();
    let mut backoff = MIN_BACKOFF;
    loop {
        if pending.is_empty() {
            match queue.recv().await {
                Some(out) => pending.push_back(out),
                None => return,
            }
        }
        while pending.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(out) => pending.push_back(out),
                Err(_) => break,
            }
        }
        let c = match &mut conn {
            Some(c) => c,
            None => match connect(&shared).await {
                Ok(c) => {
                    tracing::info!("redis publisher connected");
                    backoff = MIN_BACKOFF;
                    conn.insert(c)
                }
                Err(error) => {
                    tracing::warn!(%error, "redis publisher cannot connect; retrying");
                    drop_ephemeral(&mut pending, &queued);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        // Known once a connection has been made, as `c` has been.
        let command = if shared.sharded.get().copied().unwrap_or(false) {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        let n = pending.len();
        let mut pipe = redis::pipe();
        for out in &pending {
            pipe.cmd(command)
                .arg(&out.channel)
                .arg(&out.payload[..])
                .ignore();
        }
        match pipe.query_async::<()>(c).await {
            Ok(()) => {
                release(&queued, pending.drain(..n).map(|o| o.size()));
                metrics::counter!("confab_bus_published_total").increment(n as u64);
            }
            Err(error) => {
                tracing::warn!(%error, "redis publish failed; reconnecting");
                conn = None;
                drop_ephemeral(&mut pending, &queued);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
