//! The blob behaviour suite on a real S3-compatible server (`s3s-fs`, which checks SigV4
//! signatures as S3 does).

use std::sync::Arc;

use confab_blob::testsuite::Fixture;
use confab_blob::{S3Blobs, S3Config};
use confab_testkit::PrivateS3;

async fn s3_fixture() -> Fixture {
    let server = PrivateS3::start().expect("start s3s-fs");
    let blobs = S3Blobs::new(S3Config {
        endpoint: server.endpoint(),
        bucket: server.bucket.into(),
        region: "us-east-1".into(),
        access_key_id: server.access_key.into(),
        secret_access_key: server.secret_key.into(),
        session_token: None,
    })
    .expect("client");
    Fixture {
        blobs: Arc::new(blobs),
        guard: Box::new(server),
    }
}

confab_blob::blob_behaviour_suite!(s3_fixture());
