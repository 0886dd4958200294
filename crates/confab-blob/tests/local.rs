//! The blob behaviour suite on local disk, plus what only local disk has: partial files.

use std::sync::Arc;
use std::time::Duration;

use confab_blob::testsuite::{Fixture, chunked};
use confab_blob::{BlobKey, BlobStore, LocalBlobs};
use confab_core::FileId;

async fn local_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = LocalBlobs::open(dir.path()).await.expect("open");
    Fixture {
        blobs: Arc::new(blobs),
        guard: Box::new(dir),
    }
}

confab_blob::blob_behaviour_suite!(local_fixture());

#[tokio::test]
async fn refused_bodies_leave_no_partial_file_and_stale_ones_are_cleaned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = LocalBlobs::open(dir.path()).await.expect("open");
    let key = BlobKey::file(&FileId::generate());
    assert!(blobs.put(&key, 3, chunked(b"toolong", 7)).await.is_err());
    let partial = || {
        std::fs::read_dir(dir.path().join("partial"))
            .expect("dir")
            .count()
    };
    assert_eq!(partial(), 0, "a refused body leaves nothing behind");
    // What a crash mid-upload leaves:
    std::fs::write(dir.path().join("partial").join("files-x.1"), b"half").expect("write");
    assert_eq!(
        blobs
            .clean_partial(Duration::from_secs(3600))
            .await
            .expect("clean"),
        0
    );
    assert_eq!(blobs.clean_partial(Duration::ZERO).await.expect("clean"), 1);
    assert_eq!(partial(), 0);
}
