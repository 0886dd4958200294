//! Drafts: what a user typed into a composer and has not sent, kept per channel and thread so
//! it follows them across devices. Sending clears the composer's draft in the send's own
//! transaction (a trigger in both schemas), so a sent message never comes back as a draft.

use async_trait::async_trait;
use confab_core::{ChannelId, Draft, MessageId, Timestamp, UserId};

use crate::StoreResult;

/// Both backends implement it from one text (`common/drafts.rs`).
#[async_trait]
pub trait DraftStore: Send + Sync {
    /// Saves the draft, then forgets the user's oldest ones beyond `keep`, in one transaction.
    async fn put_draft(&self, user: &UserId, draft: &Draft, keep: u32) -> StoreResult<()>;
    async fn draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&MessageId>,
    ) -> StoreResult<Option<Draft>>;
    /// Whether there was one to delete.
    async fn delete_draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&MessageId>,
    ) -> StoreResult<bool>;
    /// The user's drafts, most recently saved first, at most `limit`.
    async fn user_drafts(&self, user: &UserId, limit: u32) -> StoreResult<Vec<Draft>>;
}

/// `drafts.thread_root_id` for a composer: empty for the channel's own.
pub(crate) fn root_key(thread_root: Option<&MessageId>) -> &str {
    thread_root.map_or("", MessageId::as_str)
}

pub(crate) fn updated(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros)
}
