//! Channels and their membership: every change of either is a change of the channel, with its
//! next sequence number.

use async_trait::async_trait;
use confab_core::{
    Channel, ChannelEvent, ChannelId, ChannelKind, Role, Timestamp, UserId, WorkspaceId,
};

use crate::{Committed, StoreResult};

pub struct NewChannel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub topic: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// Members besides the creator, joined in the same transaction (DMs).
    pub other_members: Vec<UserId>,
}

/// Channels (public, private, DMs) and who is in them. Both backends implement it from one text (`common/channels.rs`).
#[async_trait]
pub trait ChannelStore: Send + Sync {
    // Channels.
    /// Creates a channel with its creator (and `other_members`) in it.
    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Committed<Channel>>;
    /// The DM with exactly this member set, if it exists.
    async fn find_dm(&self, ws: &WorkspaceId, members: &[UserId]) -> StoreResult<Option<Channel>>;
    async fn channel(&self, id: &ChannelId) -> StoreResult<Option<Channel>>;
    async fn is_channel_member(&self, channel: &ChannelId, user: &UserId) -> StoreResult<bool>;
    /// A channel with the user's role in its workspace (if any) and whether they are a member:
    /// everything an access decision needs, in one read.
    async fn channel_access(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> StoreResult<Option<(Channel, Option<Role>, bool)>>;
    /// Every channel the user is in, across workspaces: what a gateway subscribes a socket to.
    async fn user_channel_ids(&self, user: &UserId) -> StoreResult<Vec<ChannelId>>;
    /// Adds a member; `None` when they already are one (nothing changes).
    async fn add_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// Removes a member; `None` when they were not one.
    async fn remove_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// Renames a channel or sets its topic, as a change.
    async fn update_channel(
        &self,
        channel: &ChannelId,
        name: Option<&str>,
        topic: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent>;
    async fn channel_member_ids(&self, channel: &ChannelId) -> StoreResult<Vec<UserId>>;
    /// The workspace's public channels `user` is not in, by name, each with its member
    /// count: what "Browse channels" lists. At most `limit`.
    async fn browse_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<(Channel, i64)>>;
}
