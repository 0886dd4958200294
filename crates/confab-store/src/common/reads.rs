//! [`crate::ReadStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend). The two statements' texts differ by dialect
//! (`MAX`/`GREATEST`, how a mention list is searched) and are the backend's `dialect`'s.

use async_trait::async_trait;
use confab_core::{ChannelId, UserId, WorkspaceId};
use sqlx::Row;

use super::{Backend, dialect, rows};
use crate::error::DbContext;
use crate::{ChannelView, ReadStore, StoreError, StoreResult};

#[async_trait]
impl ReadStore for Backend {
    async fn list_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelView>> {
        let rows = sqlx::query(&dialect::CHANNEL_LIST)
            .bind(user.as_str())
            .bind(ws.as_str())
            .bind(include_public)
            .fetch_all(self.read_pool())
            .await
            .ctx("listing channels")?;
        rows.iter()
            .map(|row| {
                Ok(ChannelView {
                    channel: rows::channel(row)?,
                    is_member: row.try_get("is_member").ctx("listing channels")?,
                    last_read_seq: row.try_get("last_read_seq").ctx("listing channels")?,
                    unread_count: row.try_get("unread_count").ctx("listing channels")?,
                    mention_count: row.try_get("mention_count").ctx("listing channels")?,
                })
            })
            .collect()
    }

    async fn mark_read(&self, channel: &ChannelId, user: &UserId, seq: i64) -> StoreResult<i64> {
        sqlx::query_scalar(dialect::MARK_READ)
            .bind(seq)
            .bind(channel.as_str())
            .bind(user.as_str())
            .fetch_optional(self.write_pool())
            .await
            .ctx("moving a read cursor")?
            .ok_or(StoreError::NotMember)
    }
}
