//! File bytes. [`BlobStore`] is the one interface the chat service stores and serves file
//! contents through; each backend (local disk, S3-compatible object storage) implements it
//! and passes the same behaviour suite ([`testsuite`]). Blobs are named by [`BlobKey`], made
//! only from a file's ID, so no client-supplied text ever becomes a path or an object name.
//! Nothing here holds a whole file in memory: bytes stream in and out in chunks.

mod key;
mod local;
mod s3;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

pub use key::{BlobKey, BlobKind};
pub use local::LocalBlobs;
pub use s3::{S3Blobs, S3Config};

/// A blob's bytes, in chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// More bytes arrived than were declared: nothing was stored.
    #[error("more than the declared {declared} bytes")]
    TooLarge { declared: u64 },
    /// The body ended before the declared size: nothing was stored.
    #[error("{received} of the declared {declared} bytes arrived")]
    Incomplete { declared: u64, received: u64 },
    #[error("no such blob")]
    NotFound,
    #[error("blob storage i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The object store answered other than expected.
    #[error("object storage answered {status} to {what}")]
    Backend { what: &'static str, status: u16 },
    #[error("object storage unreachable during {what}: {source}")]
    Unreachable {
        what: &'static str,
        source: reqwest::Error,
    },
    #[error("signing a request: {0}")]
    Signing(String),
}

pub type BlobResult<T> = Result<T, BlobError>;

/// Where file bytes live.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores exactly `size` bytes from `body` under `key`. A body longer than `size` is cut
    /// off with [`BlobError::TooLarge`], a shorter one gives [`BlobError::Incomplete`]; either
    /// way nothing is stored and an earlier blob under `key` stays as it was.
    async fn put(&self, key: &BlobKey, size: u64, body: ByteStream) -> BlobResult<()>;
    /// The blob's size and bytes, or `None`.
    async fn get(&self, key: &BlobKey) -> BlobResult<Option<(u64, ByteStream)>>;
    /// Up to `n` bytes from the start of the blob (to sniff its type).
    async fn read_prefix(&self, key: &BlobKey, n: usize) -> BlobResult<Option<Vec<u8>>>;
    /// The blob's size, or `None`.
    async fn size(&self, key: &BlobKey) -> BlobResult<Option<u64>>;
    /// Moves a blob to another key (an upload, once checked, becomes the file).
    async fn rename(&self, from: &BlobKey, to: &BlobKey) -> BlobResult<()>;
    /// Removes the blob; removing one that is not there is not an error.
    async fn delete(&self, key: &BlobKey) -> BlobResult<()>;
    /// Whether clients upload straight to this store ([`BlobStore::direct_upload`] answers
    /// URLs).
    fn takes_direct_uploads(&self) -> bool;
    /// A URL a client can `PUT` exactly `size` bytes to, under `key`, until `ttl` passes:
    /// `None` when confab receives uploads itself (local disk).
    fn direct_upload(&self, key: &BlobKey, size: u64, ttl: Duration) -> BlobResult<Option<String>>;
    /// Removes partial uploads older than `age` that a crash left behind.
    async fn clean_partial(&self, age: Duration) -> BlobResult<u64>;
}

/// Wraps `body` so it yields at most `size` bytes: one more is an error, so a client that
/// sends more than it declared stops being read at the limit.
pub fn at_most(body: ByteStream, size: u64) -> ByteStream {
    use futures_util::StreamExt;
    let mut seen = 0u64;
    Box::pin(body.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > size {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                BlobError::TooLarge { declared: size },
            ))
        } else {
            Ok(chunk)
        }
    }))
}

/// Whether an I/O error is [`at_most`]'s "too large".
pub(crate) fn is_too_large(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<BlobError>())
        .is_some_and(|b| matches!(b, BlobError::TooLarge { .. }))
}
