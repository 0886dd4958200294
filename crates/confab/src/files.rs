//! Where file bytes go: S3 when `s3_bucket` is set, else the data directory; and the key
//! confab signs its own file URLs with: derived from `cluster_secret` when there is one (so
//! every chat service of a fleet accepts every other's URLs), else made once and kept in the
//! data directory.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use confab_blob::{BlobStore, LocalBlobs, S3Blobs, S3Config};
use confab_chat::FileStorage;
use sha2::{Digest, Sha256};

use crate::config::Config;

pub async fn open(config: &Config) -> anyhow::Result<FileStorage> {
    let blobs: Arc<dyn BlobStore> = match &config.s3_bucket {
        Some(bucket) => {
            let s3 = S3Config::from_env(
                bucket.clone(),
                config.s3_region.clone(),
                config.s3_endpoint.clone(),
            )
            .context("s3_bucket needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")?;
            Arc::new(S3Blobs::new(s3).map_err(anyhow::Error::msg)?)
        }
        None => {
            if config.role == crate::config::Role::Chat {
                tracing::warn!(
                    "files are on this chat service's own disk: in a fleet, set s3_bucket (or \
                     share the data directory) so every chat service can serve every file"
                );
            }
            Arc::new(
                LocalBlobs::open(config.data_dir.join("files"))
                    .await
                    .with_context(|| format!("opening {}/files", config.data_dir.display()))?,
            )
        }
    };
    let key = match &config.cluster_secret {
        Some(secret) => Sha256::digest(format!("confab file urls\n{secret}")).to_vec(),
        None => local_key(&config.data_dir).await?,
    };
    Ok(FileStorage::new(blobs, key, config.files()))
}

/// The data directory's URL key, made on first start.
async fn local_key(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("file-url.key");
    match tokio::fs::read(&path).await {
        Ok(key) if key.len() == 32 => return Ok(key),
        Ok(_) => anyhow::bail!("{} is damaged: remove it to make a new one", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("drawing a key: {e}"))?;
    tokio::fs::create_dir_all(dir).await?;
    tokio::fs::write(&path, &key)
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}
