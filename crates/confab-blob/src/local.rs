//! Blobs on local disk, under the data directory: `files/`, `thumbs/` and `uploads/` by file
//! ID, and `partial/` for bytes still arriving. A blob is written to a partial file, synced,
//! and renamed into place only once every declared byte arrived, so a reader never sees half
//! a file and a crash leaves nothing but a partial file for [`BlobStore::clean_partial`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{BlobError, BlobKey, BlobResult, BlobStore, ByteStream, at_most, is_too_large};

/// Chunks read from disk when serving.
const READ_CHUNK: usize = 64 * 1024;

pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Blobs under `root`, which is created if missing.
    pub async fn open(root: impl Into<PathBuf>) -> BlobResult<Self> {
        let root = root.into();
        for dir in ["files", "thumbs", "uploads", "partial"] {
            tokio::fs::create_dir_all(root.join(dir)).await?;
        }
        Ok(Self { root })
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.folder()).join(key.file_id().as_str())
    }

    fn partial(&self, key: &BlobKey) -> BlobResult<PathBuf> {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|e| BlobError::Io(std::io::Error::other(e.to_string())))?;
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        Ok(self
            .root
            .join("partial")
            .join(format!("{}-{}.{nonce}", key.folder(), key.file_id())))
    }
}

async fn write_all(path: &Path, size: u64, body: ByteStream) -> BlobResult<()> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    let mut body = at_most(body, size);
    let mut received = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) if is_too_large(&e) => return Err(BlobError::TooLarge { declared: size }),
            Err(e) => return Err(e.into()),
        };
        received += chunk.len() as u64;
        file.write_all(&chunk).await?;
    }
    if received < size {
        return Err(BlobError::Incomplete {
            declared: size,
            received,
        });
    }
    file.sync_all().await?;
    Ok(())
}

async fn open(path: &Path) -> BlobResult<Option<tokio::fs::File>> {
    match tokio::fs::File::open(path).await {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, key: &BlobKey, size: u64, body: ByteStream) -> BlobResult<()> {
        let partial = self.partial(key)?;
        match write_all(&partial, size, body).await {
            Ok(()) => {
                tokio::fs::rename(&partial, self.path(key)).await?;
                Ok(())
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(e)
            }
        }
    }

    async fn get(&self, key: &BlobKey) -> BlobResult<Option<(u64, ByteStream)>> {
        let Some(file) = open(&self.path(key)).await? else {
            return Ok(None);
        };
        let size = file.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK);
        Ok(Some((size, Box::pin(stream))))
    }

    async fn read_prefix(&self, key: &BlobKey, n: usize) -> BlobResult<Option<Vec<u8>>> {
        let Some(file) = open(&self.path(key)).await? else {
            return Ok(None);
        };
        let mut prefix = Vec::with_capacity(n);
        file.take(n as u64).read_to_end(&mut prefix).await?;
        Ok(Some(prefix))
    }

    async fn size(&self, key: &BlobKey) -> BlobResult<Option<u64>> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn rename(&self, from: &BlobKey, to: &BlobKey) -> BlobResult<()> {
        match tokio::fs::rename(self.path(from), self.path(to)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn takes_direct_uploads(&self) -> bool {
        false
    }

    fn direct_upload(&self, _: &BlobKey, _: u64, _: Duration) -> BlobResult<Option<String>> {
        Ok(None)
    }

    async fn clean_partial(&self, age: Duration) -> BlobResult<u64> {
        let mut removed = 0;
        let mut dir = tokio::fs::read_dir(self.root.join("partial")).await?;
        while let Some(entry) = dir.next_entry().await? {
            let old = entry
                .metadata()
                .await?
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|elapsed| elapsed >= age);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
