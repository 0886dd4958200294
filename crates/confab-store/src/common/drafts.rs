//! [`crate::DraftStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend).

use async_trait::async_trait;
use confab_core::{ChannelId, Draft, MessageId, UserId};
use sqlx::Row;

use super::Backend;
use crate::drafts::{root_key, updated};
use crate::error::DbContext;
use crate::rows::stored_id;
use crate::{DraftStore, StoreResult};

const DRAFT_COLUMNS: &str = "channel_id, thread_root_id, body, updated_at";

fn draft<R: Row>(row: &R) -> StoreResult<Draft>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    let root: String = row.try_get("thread_root_id").ctx("reading a draft")?;
    Ok(Draft {
        channel_id: stored_id(row.try_get("channel_id").ctx("reading a draft")?)?,
        thread_root_id: (!root.is_empty()).then(|| stored_id(root)).transpose()?,
        body: row.try_get("body").ctx("reading a draft")?,
        updated_at: updated(row.try_get("updated_at").ctx("reading a draft")?),
    })
}

#[async_trait]
impl DraftStore for Backend {
    async fn put_draft(&self, user: &UserId, d: &Draft, keep: u32) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO drafts (user_id, channel_id, thread_root_id, body, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, channel_id, thread_root_id) \
             DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(user.as_str())
        .bind(d.channel_id.as_str())
        .bind(root_key(d.thread_root_id.as_ref()))
        .bind(&d.body)
        .bind(d.updated_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("saving a draft")?;
        // The newest `keep` stay: everything as old as the one just past them goes.
        sqlx::query(
            "DELETE FROM drafts WHERE user_id = $1 AND updated_at <= \
             (SELECT updated_at FROM drafts WHERE user_id = $1 \
              ORDER BY updated_at DESC LIMIT 1 OFFSET $2)",
        )
        .bind(user.as_str())
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .ctx("forgetting old drafts")?;
        tx.commit().await.ctx("committing a draft")
    }

    async fn draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&MessageId>,
    ) -> StoreResult<Option<Draft>> {
        sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts \
             WHERE user_id = $1 AND channel_id = $2 AND thread_root_id = $3"
        ))
        .bind(user.as_str())
        .bind(channel.as_str())
        .bind(root_key(thread_root))
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a draft")?
        .map(|row| draft(&row))
        .transpose()
    }

    async fn delete_draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&MessageId>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM drafts WHERE user_id = $1 AND channel_id = $2 AND thread_root_id = $3",
        )
        .bind(user.as_str())
        .bind(channel.as_str())
        .bind(root_key(thread_root))
        .execute(self.write_pool())
        .await
        .ctx("deleting a draft")?;
        Ok(done.rows_affected() > 0)
    }

    async fn user_drafts(&self, user: &UserId, limit: u32) -> StoreResult<Vec<Draft>> {
        sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE user_id = $1 \
             ORDER BY updated_at DESC LIMIT $2"
        ))
        .bind(user.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.read_pool())
        .await
        .ctx("listing drafts")?
        .iter()
        .map(draft)
        .collect()
    }
}
