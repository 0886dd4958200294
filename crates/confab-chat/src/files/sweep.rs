//! The file sweep: uploads never attached within the grace period, and the files of deleted
//! messages once theirs has passed, lose their blobs and then their records; direct uploads'
//! objects go once their URLs have expired. A file is
//! claimed first (no send can attach it after), so a sweep that dies part-way is finished by
//! the next.

use std::time::Duration;

use confab_blob::BlobKey;
use confab_core::Timestamp;

use crate::ChatService;
use crate::error::ChatResult;

/// Files claimed per round.
const BATCH: u32 = 100;

fn before(ttl: Duration) -> Timestamp {
    Timestamp::from_micros(Timestamp::now().as_micros() - ttl.as_micros() as i64)
}

impl ChatService {
    /// One sweep; how many files went.
    pub async fn sweep_files(&self) -> ChatResult<usize> {
        let files = self.files()?;
        let unattached = before(files.config.unattached_grace);
        let deleted = before(files.config.deleted_grace);
        let mut swept = 0;
        loop {
            let claimed = self.store.claim_sweep(unattached, deleted, BATCH).await?;
            for id in &claimed {
                for key in BlobKey::all(id) {
                    if let Err(error) = files.blobs.delete(&key).await {
                        // Left claimed: the next sweep tries again.
                        tracing::warn!(file = %id, %error, "sweeping a blob");
                        return Ok(swept);
                    }
                }
                self.store.forget_file(id).await?;
                swept += 1;
            }
            if claimed.len() < BATCH as usize {
                break;
            }
        }
        // A direct upload's URL can write its object again after completion moved it away;
        // once the URL has expired, whatever it wrote goes for good.
        loop {
            let closed = self.store.closed_uploads(Timestamp::now(), BATCH).await?;
            for id in &closed {
                if let Err(error) = files.blobs.delete(&BlobKey::upload(id)).await {
                    tracing::warn!(file = %id, %error, "sweeping an upload object");
                    return Ok(swept);
                }
                self.store.forget_upload(id).await?;
            }
            if closed.len() < BATCH as usize {
                break;
            }
        }
        // A partial upload outlives its URL only if the process died while receiving it.
        let stale = files.config.upload_url_ttl * 2;
        if let Err(error) = files.blobs.clean_partial(stale).await {
            tracing::warn!(%error, "cleaning partial uploads");
        }
        if swept > 0 {
            tracing::info!(swept, "files swept");
        }
        Ok(swept)
    }
}
