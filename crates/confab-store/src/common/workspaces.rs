//! [`crate::WorkspaceStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend). What the dialects spell differently (a locking
//! read, a list parameter) is the backend's `dialect` module.

use async_trait::async_trait;
use confab_core::{
    ChannelEvent, ChannelId, ChannelKind, Role, Timestamp, User, UserId, Workspace, WorkspaceId,
};
use sqlx::Row;

use super::channels::insert_channel;
use super::log::{channel_in, join_channel};
use super::{Backend, Conn, dialect, rows};
use crate::error::{DbContext, is_unique_violation};
use crate::rows::stored_id;
use crate::{
    Committed, JoinedWorkspace, NewChannel, NewInvite, NewWorkspace, StoreError, StoreResult,
    WorkspaceStore,
};

async fn workspace_in(conn: &mut Conn, id: &WorkspaceId) -> StoreResult<Workspace> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM workspaces w WHERE w.id = $1",
        rows::WORKSPACE_COLUMNS
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("reading a workspace")?
    .ok_or(StoreError::NotFound(crate::Missing::Workspace))?;
    rows::workspace(&row)
}

/// Adds a workspace member and, unless a guest, puts them in `#general`.
async fn add_member_in(
    conn: &mut Conn,
    ws: &WorkspaceId,
    user: &UserId,
    role: Role,
    now: Timestamp,
) -> StoreResult<Committed<JoinedWorkspace>> {
    let workspace = workspace_in(conn, ws).await?;
    let result = sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(ws.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(now.as_micros())
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(StoreError::AlreadyMember),
        Err(e) if matches!(&e, sqlx::Error::Database(d) if d.is_foreign_key_violation()) => {
            return Err(StoreError::NotFound(crate::Missing::User));
        }
        Err(e) => return Err(StoreError::db("adding a workspace member", e)),
    }
    let mut events = Vec::new();
    let mut general = None;
    if role != Role::Guest {
        events.extend(join_channel(conn, &workspace.general_channel_id, user, now).await?);
        general = Some(channel_in(conn, &workspace.general_channel_id).await?);
    }
    Ok(Committed {
        value: JoinedWorkspace { workspace, general },
        events,
    })
}

#[async_trait]
impl WorkspaceStore for Backend {
    async fn create_workspace(&self, ws: NewWorkspace) -> StoreResult<Committed<Workspace>> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO workspaces (id, name, general_channel_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ws.id.as_str())
        .bind(&ws.name)
        .bind(ws.general_channel_id.as_str())
        .bind(ws.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("creating a workspace")?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(ws.id.as_str())
        .bind(ws.owner.as_str())
        .bind(ws.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("adding the workspace owner")?;
        let general = NewChannel {
            id: ws.general_channel_id.clone(),
            workspace_id: ws.id.clone(),
            kind: ChannelKind::Public,
            name: Some("general".to_owned()),
            topic: String::new(),
            created_by: ws.owner.clone(),
            created_at: ws.created_at,
            other_members: Vec::new(),
        };
        insert_channel(&mut tx, &general).await?;
        let events: Vec<ChannelEvent> =
            join_channel(&mut tx, &general.id, &ws.owner, ws.created_at)
                .await?
                .into_iter()
                .collect();
        tx.commit().await.ctx("committing a workspace")?;
        Ok(Committed {
            value: Workspace {
                id: ws.id,
                name: ws.name,
                created_at: ws.created_at,
                general_channel_id: ws.general_channel_id,
            },
            events,
        })
    }

    async fn workspace(&self, id: &WorkspaceId) -> StoreResult<Option<Workspace>> {
        sqlx::query(&format!(
            "SELECT {} FROM workspaces w WHERE w.id = $1",
            rows::WORKSPACE_COLUMNS
        ))
        .bind(id.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a workspace")?
        .map(|row| rows::workspace(&row))
        .transpose()
    }

    async fn workspace_role(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(ws.as_str())
        .bind(user.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a workspace role")?;
        role.as_deref().map(rows::role).transpose()
    }

    async fn user_workspaces(&self, user: &UserId) -> StoreResult<Vec<(Workspace, Role)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, wm.role FROM workspaces w \
             JOIN workspace_members wm ON wm.workspace_id = w.id \
             WHERE wm.user_id = $1 ORDER BY w.name, w.id",
            rows::WORKSPACE_COLUMNS
        ))
        .bind(user.as_str())
        .fetch_all(self.read_pool())
        .await
        .ctx("listing workspaces")?;
        rows.iter()
            .map(|row| {
                Ok((
                    rows::workspace(row)?,
                    rows::role(row.try_get("role").ctx("reading a role")?)?,
                ))
            })
            .collect()
    }

    async fn add_workspace_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        role: Role,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>> {
        let mut tx = self.begin().await?;
        let committed = add_member_in(&mut tx, ws, user, role, now).await?;
        tx.commit().await.ctx("committing a workspace member")?;
        Ok(committed)
    }

    async fn create_invite(&self, i: NewInvite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invites (code_hash, workspace_id, created_by, created_at, expires_at, max_uses) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.code_hash)
        .bind(i.workspace_id.as_str())
        .bind(i.created_by.as_str())
        .bind(i.created_at.as_micros())
        .bind(i.expires_at.as_micros())
        .bind(i.max_uses)
        .execute(self.write_pool())
        .await
        .ctx("creating an invite")?;
        Ok(())
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>> {
        let mut tx = self.begin().await?;
        let (ws, expires_at, max_uses, uses): (String, i64, i64, i64) =
            sqlx::query_as(dialect::INVITE_FOR_USE)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading an invite")?
                .ok_or(StoreError::NotFound(crate::Missing::Invite))?;
        if expires_at < now.as_micros() || uses >= max_uses {
            return Err(StoreError::InviteExpired);
        }
        let ws: WorkspaceId = stored_id(ws)?;
        let committed = add_member_in(&mut tx, &ws, user, Role::Member, now).await?;
        sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code_hash = $1")
            .bind(code_hash)
            .execute(&mut *tx)
            .await
            .ctx("using an invite")?;
        tx.commit().await.ctx("committing an invite")?;
        Ok(committed)
    }

    async fn remove_workspace_member(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<bool> {
        // Their invites go first: one made just before would otherwise let them back in.
        sqlx::query("DELETE FROM invites WHERE workspace_id = $1 AND created_by = $2")
            .bind(ws.as_str())
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("removing a member's invites")?;
        let removed =
            sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws.as_str())
                .bind(user.as_str())
                .execute(self.write_pool())
                .await
                .ctx("removing a workspace member")?
                .rows_affected();
        Ok(removed > 0)
    }

    async fn workspace_channels_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> StoreResult<Vec<ChannelId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT cm.channel_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id \
             WHERE c.workspace_id = $1 AND cm.user_id = $2",
        )
        .bind(ws.as_str())
        .bind(user.as_str())
        .fetch_all(self.write_pool())
        .await
        .ctx("listing a member's channels")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn channel_names(&self, ws: &WorkspaceId) -> StoreResult<Vec<(ChannelId, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, name FROM channels WHERE workspace_id = $1 AND kind <> 'dm' AND name IS NOT NULL",
        )
        .bind(ws.as_str())
        .fetch_all(self.read_pool())
        .await
        .ctx("listing channel names")?;
        rows.into_iter()
            .map(|(id, name)| Ok((stored_id(id)?, name)))
            .collect()
    }

    async fn workspace_members(
        &self,
        ws: &WorkspaceId,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<(User, Role)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, wm.role FROM users u JOIN workspace_members wm ON wm.user_id = u.id \
             WHERE wm.workspace_id = $1 AND u.username > $2 ORDER BY u.username LIMIT $3",
            rows::USER_COLUMNS
        ))
        .bind(ws.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.read_pool())
        .await
        .ctx("listing workspace members")?;
        rows.iter()
            .map(|row| {
                Ok((
                    rows::user(row)?,
                    rows::role(row.try_get("role").ctx("reading a role")?)?,
                ))
            })
            .collect()
    }

    async fn workspace_users_by_name(
        &self,
        ws: &WorkspaceId,
        usernames: &[String],
    ) -> StoreResult<Vec<UserId>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let rows = dialect::members_named(self.read_pool(), ws, usernames).await?;
        let mut found: Vec<(usize, UserId)> = Vec::with_capacity(rows.len());
        for (id, name) in rows {
            if let Some(pos) = usernames.iter().position(|n| *n == name) {
                found.push((pos, stored_id(id)?));
            }
        }
        // In the order the names were mentioned.
        found.sort_by_key(|(pos, _)| *pos);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn users_sharing_workspace(
        &self,
        user: &UserId,
        others: &[UserId],
    ) -> StoreResult<Vec<UserId>> {
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let ids = dialect::sharing_a_workspace(self.read_pool(), user, others).await?;
        ids.into_iter().map(stored_id).collect()
    }
}
