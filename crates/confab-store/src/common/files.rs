//! [`crate::FileStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend). Attaching files is part of each backend's send.

use async_trait::async_trait;
use confab_core::{Change, ChannelEvent, ChannelId, FileId, Timestamp, UserId};
use sqlx::Row;

use super::Backend;
use super::log::{Logged, next_seq, record_change};
use crate::error::DbContext;
use crate::files::{FileState, FilesPage, NewFile, StoredFile};
use crate::rows::stored_id;
use crate::{FileStore, StoreError, StoreResult};

const FILE_COLUMNS: &str = "id, workspace_id, uploader_id, filename, size, declared_type, \
     content_type, state, width, height, thumb_width, thumb_height, message_id, channel_id, \
     message_seq, position, created_at";

/// Live files: what counts against a quota.
const LIVE: &str = "state IN ('pending', 'uploading', 'complete')";

fn stored_file<R: Row>(row: &R) -> StoreResult<StoredFile>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    const CTX: &str = "reading a file";
    let state: String = row.try_get("state").ctx(CTX)?;
    let state: FileState = state.parse().map_err(|_| StoreError::Internal {
        context: CTX,
        source: sqlx::Error::Decode(format!("unknown file state {state:?}").into()),
    })?;
    let content_type: Option<String> = row.try_get("content_type").ctx(CTX)?;
    let declared: String = row.try_get("declared_type").ctx(CTX)?;
    let dim = |name: &str| -> StoreResult<Option<u32>> {
        let v: Option<i64> = row.try_get(name).ctx(CTX)?;
        Ok(v.and_then(|v| u32::try_from(v).ok()))
    };
    let thumbnail = match (dim("thumb_width")?, dim("thumb_height")?) {
        (Some(w), Some(h)) => Some((w, h)),
        _ => None,
    };
    let opt_id = |name: &str| -> StoreResult<Option<String>> { row.try_get(name).ctx(CTX) };
    Ok(StoredFile {
        info: confab_core::FileInfo {
            id: stored_id(row.try_get("id").ctx(CTX)?)?,
            filename: row.try_get("filename").ctx(CTX)?,
            size: u64::try_from(row.try_get::<i64, _>("size").ctx(CTX)?).unwrap_or(0),
            content_type: content_type.unwrap_or(declared),
            width: dim("width")?,
            height: dim("height")?,
            thumbnail,
        },
        workspace_id: stored_id(row.try_get("workspace_id").ctx(CTX)?)?,
        uploader_id: stored_id(row.try_get("uploader_id").ctx(CTX)?)?,
        state,
        message_id: opt_id("message_id")?.map(stored_id).transpose()?,
        channel_id: opt_id("channel_id")?.map(stored_id).transpose()?,
        created_at: Timestamp::from_micros(row.try_get("created_at").ctx(CTX)?),
    })
}

fn size_column(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

#[async_trait]
impl FileStore for Backend {
    async fn create_file(&self, f: NewFile, quota: Option<u64>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(quota) = quota {
            // On PostgreSQL two uploads of one user racing past the quota each see the other's
            // row only once committed: the user's row is locked first so they take turns.
            sqlx::query(super::dialect::LOCK_USER)
                .bind(f.uploader_id.as_str())
                .execute(&mut *tx)
                .await
                .ctx("locking an uploader")?;
            let used: i64 = sqlx::query_scalar(&format!(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
                 WHERE uploader_id = $1 AND {LIVE}"
            ))
            .bind(f.uploader_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .ctx("reading storage used")?;
            if u64::try_from(used).unwrap_or(0).saturating_add(f.size) > quota {
                return Err(StoreError::QuotaExceeded);
            }
        }
        sqlx::query(
            "INSERT INTO files (id, workspace_id, uploader_id, filename, size, declared_type, \
             state, created_at, upload_open_until) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
        )
        .bind(f.id.as_str())
        .bind(f.workspace_id.as_str())
        .bind(f.uploader_id.as_str())
        .bind(&f.filename)
        .bind(size_column(f.size))
        .bind(&f.declared_type)
        .bind(f.created_at.as_micros())
        .bind(f.upload_open_until.map(|t| t.as_micros()))
        .execute(&mut *tx)
        .await
        .ctx("recording an upload")?;
        tx.commit().await.ctx("committing an upload")
    }

    async fn file(&self, id: &FileId) -> StoreResult<Option<StoredFile>> {
        sqlx::query(&format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.read_pool())
            .await
            .ctx("reading a file")?
            .map(|row| stored_file(&row))
            .transpose()
    }

    async fn move_file(&self, id: &FileId, from: FileState, to: FileState) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE files SET state = $1 WHERE id = $2 AND state = $3")
            .bind(to.as_str())
            .bind(id.as_str())
            .bind(from.as_str())
            .execute(self.write_pool())
            .await
            .ctx("moving a file")?;
        Ok(done.rows_affected() == 1)
    }

    async fn complete_file(
        &self,
        id: &FileId,
        content_type: &str,
        dimensions: Option<(u32, u32)>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE files SET state = 'complete', content_type = $1, width = $2, height = $3 \
             WHERE id = $4 AND state IN ('pending', 'uploading')",
        )
        .bind(content_type)
        .bind(dimensions.map(|d| i64::from(d.0)))
        .bind(dimensions.map(|d| i64::from(d.1)))
        .bind(id.as_str())
        .execute(self.write_pool())
        .await
        .ctx("completing an upload")?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_thumbnail(
        &self,
        id: &FileId,
        size: (u32, u32),
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        // A message's channel is locked before its file, as deleting the message does (the
        // other order deadlocks with it on PostgreSQL). So: where the file is, unlocked; then
        // that channel, then the file; and again if it was attached in between (once at most:
        // a file is attached once).
        for _ in 0..3 {
            let seen: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT message_id, channel_id FROM files WHERE id = $1 AND state = 'complete'",
            )
            .bind(id.as_str())
            .fetch_optional(self.write_pool())
            .await
            .ctx("reading a file")?;
            let Some(seen) = seen else {
                return Err(StoreError::NotFound(crate::Missing::File));
            };
            let mut tx = self.begin().await?;
            let attached = match &seen {
                (Some(message), Some(channel)) => {
                    let channel: ChannelId = stored_id(channel.clone())?;
                    let message: confab_core::MessageId = stored_id(message.clone())?;
                    let seq = next_seq(&mut tx, &channel).await?;
                    Some((message, channel, seq))
                }
                _ => None,
            };
            let now_at: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "UPDATE files SET thumb_width = $1, thumb_height = $2 \
                 WHERE id = $3 AND state = 'complete' RETURNING message_id, channel_id",
            )
            .bind(i64::from(size.0))
            .bind(i64::from(size.1))
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("recording a thumbnail")?;
            match now_at {
                // Deleted or swept meanwhile (the transaction rolls back).
                None => return Err(StoreError::NotFound(crate::Missing::File)),
                Some(now_at) if now_at != seen => continue,
                Some(_) => {}
            }
            let event = match attached {
                None => None,
                Some((message_id, channel, seq)) => {
                    sqlx::query("UPDATE messages SET version = $1 WHERE id = $2")
                        .bind(seq)
                        .bind(message_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .ctx("updating a message")?;
                    record_change(
                        &mut tx,
                        &channel,
                        seq,
                        Logged::message("message.updated", &message_id),
                        now,
                    )
                    .await?;
                    // One text for both backends: PostgreSQL's reader takes an executor, which
                    // the transaction is only once dereferenced; SQLite's would deref by itself.
                    #[allow(clippy::explicit_auto_deref)]
                    let (message, _) =
                        super::message_with_root(&mut *tx, message_id.as_str()).await?;
                    Some(ChannelEvent {
                        channel_id: channel,
                        seq,
                        change: Change::MessageUpdated { message },
                    })
                }
            };
            tx.commit().await.ctx("committing a thumbnail")?;
            return Ok(event);
        }
        Err(StoreError::Internal {
            context: "recording a thumbnail",
            source: sqlx::Error::Protocol("the file kept moving".into()),
        })
    }

    async fn channel_files(
        &self,
        channel: &ChannelId,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<FilesPage> {
        let (seq, position) = after.unwrap_or((i64::MAX, -1));
        let rows = sqlx::query(&format!(
            "SELECT {FILE_COLUMNS} FROM files \
             WHERE channel_id = $1 AND state = 'complete' \
               AND (message_seq < $2 OR (message_seq = $2 AND position > $3)) \
             ORDER BY message_seq DESC, position LIMIT $4"
        ))
        .bind(channel.as_str())
        .bind(seq)
        .bind(position)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.read_pool())
        .await
        .ctx("listing a channel's files")?;
        let more = rows.len() > limit as usize;
        let mut files = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            files.push(stored_file(row)?);
            let seq: Option<i64> = row.try_get("message_seq").ctx("listing files")?;
            let pos: Option<i64> = row.try_get("position").ctx("listing files")?;
            last = seq.zip(pos);
        }
        Ok(FilesPage {
            files,
            next: if more { last } else { None },
        })
    }

    async fn storage_used(&self, user: &UserId) -> StoreResult<u64> {
        let used: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
             WHERE uploader_id = $1 AND {LIVE}"
        ))
        .bind(user.as_str())
        .fetch_one(self.read_pool())
        .await
        .ctx("reading storage used")?;
        Ok(u64::try_from(used).unwrap_or(0))
    }

    async fn claim_sweep(
        &self,
        unattached_before: Timestamp,
        deleted_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FileId>> {
        // One statement that checks again what it claims: on PostgreSQL a send attaching one
        // of these files meanwhile is waited for, and the row it left no longer qualifies.
        let claimable = "(message_id IS NULL AND created_at < $1 \
              AND state IN ('pending', 'uploading', 'complete')) \
             OR (deleted_at IS NOT NULL AND deleted_at < $2) OR state = 'swept'";
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE files SET state = 'swept' \
             WHERE id IN (SELECT id FROM files WHERE {claimable} LIMIT $3) AND ({claimable}) \
             RETURNING id"
        ))
        .bind(unattached_before.as_micros())
        .bind(deleted_before.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.write_pool())
        .await
        .ctx("claiming files to sweep")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn forget_file(&self, id: &FileId) -> StoreResult<()> {
        sqlx::query("DELETE FROM files WHERE id = $1 AND state = 'swept'")
            .bind(id.as_str())
            .execute(self.write_pool())
            .await
            .ctx("forgetting a file")?;
        Ok(())
    }

    async fn closed_uploads(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<FileId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM files WHERE upload_open_until IS NOT NULL AND upload_open_until < $1 \
             AND state IN ('complete', 'deleted') LIMIT $2",
        )
        .bind(now.as_micros())
        .bind(i64::from(limit))
        .fetch_all(self.read_pool())
        .await
        .ctx("listing closed uploads")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn forget_upload(&self, id: &FileId) -> StoreResult<()> {
        sqlx::query("UPDATE files SET upload_open_until = NULL WHERE id = $1")
            .bind(id.as_str())
            .execute(self.write_pool())
            .await
            .ctx("forgetting an upload")?;
        Ok(())
    }
}
