//! [`crate::ChannelStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend).

use async_trait::async_trait;
use confab_core::{
    Change, Channel, ChannelEvent, ChannelId, ChannelKind, Role, Timestamp, UserId, WorkspaceId,
};
use sqlx::Row;

use super::log::{Logged, channel_in, join_channel, next_seq, record_change};
use super::{Backend, Conn, rows};
use crate::error::{DbContext, is_unique_violation};
use crate::rows::stored_id;
use crate::{ChannelStore, Committed, NewChannel, StoreError, StoreResult};

/// Every channel a user is in (what a gateway subscribes a socket to).
pub(super) const USER_CHANNELS: &str = "SELECT channel_id FROM channel_members WHERE user_id = $1";

/// Stores a new channel (no members yet).
pub(super) async fn insert_channel(conn: &mut Conn, c: &NewChannel) -> StoreResult<()> {
    let dm_key = (c.kind == ChannelKind::Dm).then(|| {
        let mut members = c.other_members.clone();
        members.push(c.created_by.clone());
        rows::dm_key(&members)
    });
    let result = sqlx::query(
        "INSERT INTO channels (id, workspace_id, kind, name, topic, dm_key, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id.as_str())
    .bind(c.workspace_id.as_str())
    .bind(c.kind.as_str())
    .bind(c.name.as_deref())
    .bind(&c.topic)
    .bind(dm_key)
    .bind(c.created_by.as_str())
    .bind(c.created_at.as_micros())
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::ChannelNameTaken),
        Err(e) => Err(StoreError::db("creating a channel", e)),
    }
}

#[async_trait]
impl ChannelStore for Backend {
    async fn browse_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<(Channel, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, (SELECT COUNT(*) FROM channel_members n WHERE n.channel_id = c.id) \
                AS member_count \
             FROM channels c WHERE c.workspace_id = $1 AND c.kind = 'public' \
               AND NOT EXISTS (SELECT 1 FROM channel_members cm \
                               WHERE cm.channel_id = c.id AND cm.user_id = $2) \
             ORDER BY c.name, c.id LIMIT $3",
            rows::CHANNEL_COLUMNS
        ))
        .bind(ws.as_str())
        .bind(user.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.read_pool())
        .await
        .ctx("browsing channels")?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get("member_count").ctx("browsing channels")?;
                Ok((rows::channel(row)?, count))
            })
            .collect()
    }

    async fn create_channel(&self, c: NewChannel) -> StoreResult<Committed<Channel>> {
        let mut tx = self.begin().await?;
        insert_channel(&mut tx, &c).await?;
        let mut events = Vec::new();
        events.extend(join_channel(&mut tx, &c.id, &c.created_by, c.created_at).await?);
        for member in &c.other_members {
            events.extend(join_channel(&mut tx, &c.id, member, c.created_at).await?);
        }
        let channel = channel_in(&mut tx, &c.id).await?;
        tx.commit().await.ctx("committing a channel")?;
        Ok(Committed {
            value: channel,
            events,
        })
    }

    async fn find_dm(&self, ws: &WorkspaceId, members: &[UserId]) -> StoreResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {} FROM channels c WHERE c.workspace_id = $1 AND c.kind = 'dm' AND c.dm_key = $2",
            rows::CHANNEL_COLUMNS
        ))
        .bind(ws.as_str())
        .bind(rows::dm_key(members))
        .fetch_optional(self.read_pool())
        .await
        .ctx("finding a dm")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn channel(&self, id: &ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {} FROM channels c WHERE c.id = $1",
            rows::CHANNEL_COLUMNS
        ))
        .bind(id.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a channel")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn is_channel_member(&self, channel: &ChannelId, user: &UserId) -> StoreResult<bool> {
        let row: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        )
        .bind(channel.as_str())
        .bind(user.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("checking channel membership")?;
        Ok(row.is_some())
    }

    async fn channel_access(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> StoreResult<Option<(Channel, Option<Role>, bool)>> {
        let row = sqlx::query(&format!(
            "SELECT {}, wm.role AS member_role, cm.user_id IS NOT NULL AS is_member \
             FROM channels c \
             LEFT JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = $1 \
             LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1 \
             WHERE c.id = $2",
            rows::CHANNEL_COLUMNS
        ))
        .bind(user.as_str())
        .bind(channel.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading channel access")?;
        let Some(row) = row else { return Ok(None) };
        let role: Option<String> = row.try_get("member_role").ctx("reading channel access")?;
        Ok(Some((
            rows::channel(&row)?,
            role.as_deref().map(rows::role).transpose()?,
            row.try_get("is_member").ctx("reading channel access")?,
        )))
    }

    async fn user_channel_ids(&self, user: &UserId) -> StoreResult<Vec<ChannelId>> {
        let ids: Vec<String> = sqlx::query_scalar(USER_CHANNELS)
            .bind(user.as_str())
            .fetch_all(self.read_pool())
            .await
            .ctx("listing a user's channels")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn add_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.begin().await?;
        let event = join_channel(&mut tx, channel, user, now).await?;
        tx.commit().await.ctx("committing a channel member")?;
        Ok(event)
    }

    async fn remove_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.begin().await?;
        // On PostgreSQL deleting the row waits for any send holding it (`messages::SEND`,
        // migration 0002's `confab_send_batch`), so every message the member sent takes a
        // number before their `member.left`.
        let removed =
            sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                .bind(channel.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
                .ctx("removing a channel member")?
                .rows_affected();
        if removed == 0 {
            return Ok(None);
        }
        let seq = next_seq(&mut tx, channel).await?;
        record_change(
            &mut tx,
            channel,
            seq,
            Logged::member("member.left", user),
            now,
        )
        .await?;
        tx.commit().await.ctx("committing a member removal")?;
        Ok(Some(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change: Change::MemberLeft {
                user_id: user.clone(),
            },
        }))
    }

    async fn update_channel(
        &self,
        channel: &ChannelId,
        name: Option<&str>,
        topic: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent> {
        let mut tx = self.begin().await?;
        let result = sqlx::query(
            "UPDATE channels SET name = COALESCE($1, name), topic = COALESCE($2, topic) WHERE id = $3",
        )
        .bind(name)
        .bind(topic)
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 0 => {
                return Err(StoreError::NotFound(crate::Missing::Channel));
            }
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::ChannelNameTaken),
            Err(e) => return Err(StoreError::db("updating a channel", e)),
        }
        let seq = next_seq(&mut tx, channel).await?;
        record_change(
            &mut tx,
            channel,
            seq,
            Logged::channel("channel.updated"),
            now,
        )
        .await?;
        let updated = channel_in(&mut tx, channel).await?;
        tx.commit().await.ctx("committing a channel update")?;
        Ok(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change: Change::ChannelUpdated { channel: updated },
        })
    }

    async fn channel_member_ids(&self, channel: &ChannelId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM channel_members WHERE channel_id = $1")
                .bind(channel.as_str())
                .fetch_all(self.read_pool())
                .await
                .ctx("listing channel members")?;
        ids.into_iter().map(stored_id).collect()
    }
}
