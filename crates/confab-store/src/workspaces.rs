//! Workspaces: who belongs to which, with what role, invites, and who is where in one.

use async_trait::async_trait;
use confab_core::{Channel, ChannelId, Role, Timestamp, User, UserId, Workspace, WorkspaceId};

use crate::{Committed, StoreResult};

pub struct NewWorkspace {
    pub id: WorkspaceId,
    pub name: String,
    pub owner: UserId,
    pub general_channel_id: ChannelId,
    pub created_at: Timestamp,
}

pub struct NewInvite {
    pub code_hash: Vec<u8>,
    pub workspace_id: WorkspaceId,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub max_uses: i64,
}

/// What a newly added workspace member joined, for the bus.
#[derive(Debug)]
pub struct JoinedWorkspace {
    pub workspace: Workspace,
    /// `#general`, unless the new member is a guest.
    pub general: Option<Channel>,
}

/// Workspaces, their members and invites, and lookups of people by workspace. Both backends implement it from one text (`common/workspaces.rs`).
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    // Workspaces.
    /// Creates the workspace, makes `owner` its owner, and creates `#general` with the owner in
    /// it, in one transaction.
    async fn create_workspace(&self, ws: NewWorkspace) -> StoreResult<Committed<Workspace>>;
    async fn workspace(&self, id: &WorkspaceId) -> StoreResult<Option<Workspace>>;
    async fn workspace_role(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<Option<Role>>;
    async fn user_workspaces(&self, user: &UserId) -> StoreResult<Vec<(Workspace, Role)>>;
    /// Adds a member (non-guests also join `#general`). `AlreadyMember` if they are one.
    async fn add_workspace_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        role: Role,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>>;
    async fn create_invite(&self, invite: NewInvite) -> StoreResult<()>;
    /// Uses one use of an invite and adds the user as a member, atomically.
    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>>;
    /// Ends a workspace membership (not the channel memberships: those are changes of their
    /// own); whether there was one.
    async fn remove_workspace_member(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<bool>;
    /// Every channel of the workspace the user is in, DMs included.
    async fn workspace_channels_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> StoreResult<Vec<ChannelId>>;
    /// The names of every named (non-DM) channel of the workspace, whoever is in them.
    async fn channel_names(&self, ws: &WorkspaceId) -> StoreResult<Vec<(ChannelId, String)>>;
    /// The workspace's members by username, after `after` (exclusive), at most `limit`.
    async fn workspace_members(
        &self,
        ws: &WorkspaceId,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<(User, Role)>>;
    /// IDs of the workspace's members with these (lowercase) usernames, in the given order.
    async fn workspace_users_by_name(
        &self,
        ws: &WorkspaceId,
        usernames: &[String],
    ) -> StoreResult<Vec<UserId>>;
    /// Which of `others` share a workspace with `user`.
    async fn users_sharing_workspace(
        &self,
        user: &UserId,
        others: &[UserId],
    ) -> StoreResult<Vec<UserId>>;
}
