//! Read state: each member's read cursor, and the unread and mention counts the channel list
//! shows from it.

use async_trait::async_trait;
use confab_core::{Channel, ChannelId, UserId, WorkspaceId};

use crate::StoreResult;

/// A channel as one user sees it in the channel list.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub channel: Channel,
    pub is_member: bool,
    pub last_read_seq: i64,
    pub unread_count: i64,
    pub mention_count: i64,
}

/// What each member has read. Both backends implement it from one text (`common/reads.rs`).
#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Public channels of the workspace (when `include_public`) and every channel the user is
    /// in, by name.
    async fn list_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelView>>;
    /// Moves a member's read cursor forward (never back, never past the channel's end) and
    /// returns where it is. `NotMember` for non-members.
    async fn mark_read(&self, channel: &ChannelId, user: &UserId, seq: i64) -> StoreResult<i64>;
}
