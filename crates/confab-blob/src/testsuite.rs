//! The blob behaviour suite: written once against [`BlobStore`], instantiated for every
//! backend with [`blob_behaviour_suite!`](crate::blob_behaviour_suite).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use confab_core::FileId;
use futures_util::StreamExt;

use crate::{BlobError, BlobKey, BlobStore, ByteStream};

/// A backend under test and whatever must live as long as it.
pub struct Fixture {
    pub blobs: Arc<dyn BlobStore>,
    pub guard: Box<dyn Any + Send>,
}

#[macro_export]
macro_rules! blob_behaviour_suite {
    ($make:expr) => {
        $crate::blob_behaviour_suite!(@tests $make;
            blobs_round_trip_byte_for_byte,
            a_body_longer_than_declared_stores_nothing,
            a_body_shorter_than_declared_stores_nothing,
            blobs_are_renamed_and_deleted,
            direct_uploads_take_exactly_the_declared_bytes_once_signed
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let fixture: $crate::testsuite::Fixture = $make.await;
                $crate::testsuite::$name(&*fixture.blobs).await;
                drop(fixture);
            }
        )*
    };
}

/// Bytes that differ at every offset, so a reordered or dropped chunk shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// `data` as a stream of `chunk`-byte pieces.
pub fn chunked(data: &[u8], chunk: usize) -> ByteStream {
    let pieces: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures_util::stream::iter(pieces))
}

pub async fn read_all(blobs: &dyn BlobStore, key: &BlobKey) -> Option<Vec<u8>> {
    let (size, mut stream) = blobs.get(key).await.expect("get")?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(size, out.len() as u64, "the size given matches the bytes");
    Some(out)
}

pub async fn blobs_round_trip_byte_for_byte(blobs: &dyn BlobStore) {
    let key = BlobKey::file(&FileId::generate());
    let data = pattern(3 * 1024 * 1024 + 17);
    blobs
        .put(&key, data.len() as u64, chunked(&data, 64 * 1024 + 3))
        .await
        .expect("put");
    assert_eq!(read_all(blobs, &key).await.as_deref(), Some(&data[..]));
    assert_eq!(
        blobs.size(&key).await.expect("size"),
        Some(data.len() as u64)
    );
    assert_eq!(
        blobs
            .read_prefix(&key, 10)
            .await
            .expect("prefix")
            .as_deref(),
        Some(&data[..10])
    );
    let missing = BlobKey::file(&FileId::generate());
    assert!(blobs.get(&missing).await.expect("get").is_none());
    assert!(blobs.size(&missing).await.expect("size").is_none());
    assert!(
        blobs
            .read_prefix(&missing, 10)
            .await
            .expect("prefix")
            .is_none()
    );
}

pub async fn a_body_longer_than_declared_stores_nothing(blobs: &dyn BlobStore) {
    let key = BlobKey::file(&FileId::generate());
    let data = pattern(200_000);
    let refused = blobs.put(&key, 100_000, chunked(&data, 8192)).await;
    assert!(refused.is_err(), "a longer body is refused");
    assert!(
        blobs.size(&key).await.expect("size").is_none(),
        "nothing stored"
    );
    // What was there stays.
    blobs.put(&key, 5, chunked(b"hello", 5)).await.expect("put");
    assert!(blobs.put(&key, 5, chunked(b"hello!", 6)).await.is_err());
    assert_eq!(read_all(blobs, &key).await.as_deref(), Some(&b"hello"[..]));
}

pub async fn a_body_shorter_than_declared_stores_nothing(blobs: &dyn BlobStore) {
    let key = BlobKey::file(&FileId::generate());
    let refused = blobs.put(&key, 10, chunked(b"short", 5)).await;
    assert!(refused.is_err(), "a shorter body is refused");
    assert!(
        blobs.size(&key).await.expect("size").is_none(),
        "nothing stored"
    );
}

pub async fn blobs_are_renamed_and_deleted(blobs: &dyn BlobStore) {
    let id = FileId::generate();
    let (upload, file) = (BlobKey::upload(&id), BlobKey::file(&id));
    blobs
        .put(&upload, 4, chunked(b"data", 4))
        .await
        .expect("put");
    blobs.rename(&upload, &file).await.expect("rename");
    assert!(blobs.size(&upload).await.expect("size").is_none());
    assert_eq!(read_all(blobs, &file).await.as_deref(), Some(&b"data"[..]));
    assert!(matches!(
        blobs.rename(&upload, &file).await,
        Err(BlobError::NotFound)
    ));
    blobs.delete(&file).await.expect("delete");
    blobs.delete(&file).await.expect("deleting twice is fine");
    assert!(blobs.get(&file).await.expect("get").is_none());
}

/// Backends whose clients upload straight to them: the URL takes exactly the declared bytes
/// and nothing else; tampered with, it is refused (403). Backends without direct uploads
/// (confab receives the bytes itself) pass by saying so.
pub async fn direct_uploads_take_exactly_the_declared_bytes_once_signed(blobs: &dyn BlobStore) {
    let id = FileId::generate();
    let key = BlobKey::upload(&id);
    let Some(url) = blobs
        .direct_upload(&key, 5, Duration::from_secs(60))
        .expect("sign")
    else {
        return;
    };
    let http = reqwest::Client::new();
    let put = |url: String, body: &'static [u8]| {
        let http = http.clone();
        async move {
            http.put(url)
                .body(body)
                .send()
                .await
                .expect("put")
                .status()
                .as_u16()
        }
    };
    assert_eq!(put(url.clone(), b"hello!").await, 403, "one byte too many");
    assert!(blobs.size(&key).await.expect("size").is_none());
    assert_eq!(put(url.clone(), b"hell").await, 403, "one byte too few");
    // The signature is the URL's last parameter: change its last digit.
    let mut tampered = url.clone();
    let last = tampered.pop().expect("a signature");
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(put(tampered, b"hello").await, 403, "a tampered signature");
    let other = url.replace(id.as_str(), FileId::generate().as_str());
    assert_eq!(put(other, b"hello").await, 403, "another object");
    assert_eq!(put(url, b"hello").await, 200);
    assert_eq!(blobs.size(&key).await.expect("size"), Some(5));
    let expired = blobs
        .direct_upload(
            &BlobKey::upload(&FileId::generate()),
            5,
            Duration::from_secs(1),
        )
        .expect("sign")
        .expect("direct");
    // Signatures expire by the clock, at one-second resolution: nothing to await but time.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(put(expired, b"hello").await, 403, "an expired URL");
}
