//! Search over the messages a user may read. Both backends keep their index in the
//! transaction of every write to a message's text (sends, edits, deletes), from the text
//! `confab_core::search::index_text` prepares, and turn each term's
//! [`TermMatch`](confab_core::search::TermMatch) into their own lookups.

use async_trait::async_trait;
use confab_core::search::{Has, SearchQuery, TermMatch, plan};
use confab_core::{ChannelId, Message, Timestamp, UserId, WorkspaceId};

use crate::StoreResult;

/// Matches counted for `total_estimate` at most: past this, counting costs more than the
/// number is worth.
pub const SEARCH_COUNT_CAP: i64 = 1000;

/// How results are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchOrder {
    /// Newest first.
    Recent,
    /// Most terms matched as the exact word first, then newest first.
    Relevance,
}

/// Where a page of results continues: after the result with this score and document number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchCursor {
    pub score: i64,
    pub doc: i64,
}

/// One search, as the store runs it: the caller's access is part of the query.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    /// All must match.
    pub terms: Vec<TermMatch>,
    /// None may match.
    pub excluded: Vec<TermMatch>,
    /// Channel names: the message is in one of them (when not empty).
    pub in_channels: Vec<String>,
    /// Channel IDs: the message is in one of them (when not empty).
    pub channel_ids: Vec<ChannelId>,
    /// Usernames: the message is in a DM the caller shares with one of them.
    pub in_dms_with: Vec<String>,
    /// Usernames: one of them sent it.
    pub from_users: Vec<String>,
    /// User IDs: one of them sent it.
    pub from_ids: Vec<UserId>,
    /// Sent at or after…
    pub since: Option<Timestamp>,
    /// …and before.
    pub until: Option<Timestamp>,
    pub has: Has,
    pub is_thread: bool,
    pub order: SearchOrder,
    pub after: Option<SearchCursor>,
    pub limit: u32,
}

#[derive(Clone, Debug)]
pub struct SearchHit {
    pub message: Message,
    pub cursor: SearchCursor,
}

#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub has_more: bool,
    /// Matches the caller may read, counted up to [`SEARCH_COUNT_CAP`].
    pub total_estimate: i64,
}

/// Search over messages. Each backend implements it in its own `search.rs`: FTS5 on SQLite,
/// `tsvector` and `pg_trgm` on PostgreSQL.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Live messages matching `request` in channels of its workspace the user may read now:
    /// public channels (unless the user is a guest there) and channels the user is in. Empty
    /// when the user is not in the workspace.
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchPage>;
    /// Bytes on disk of the search index and, beside it, of the messages, each with a label
    /// (`confab admin storage`, which the benchmark reads).
    async fn storage(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Refreshes the planner's statistics (PostgreSQL's `ANALYZE`; SQLite's `PRAGMA optimize`).
    async fn analyze(&self) -> StoreResult<()>;
}

impl SearchRequest {
    /// A search for what `query` asks, newest first, `limit` results a page.
    pub fn new(
        user_id: UserId,
        workspace_id: WorkspaceId,
        query: &SearchQuery,
        limit: u32,
    ) -> SearchRequest {
        let day = |d: time::Date| {
            let secs = d.midnight().assume_utc().unix_timestamp();
            Timestamp::from_micros(secs.saturating_mul(1_000_000))
        };
        let mut from_ids = Vec::new();
        if query.from_me {
            from_ids.push(user_id.clone());
        }
        SearchRequest {
            terms: query.terms.iter().filter_map(plan).collect(),
            excluded: query.excluded.iter().filter_map(plan).collect(),
            in_channels: query.in_channels.clone(),
            channel_ids: Vec::new(),
            in_dms_with: query.in_dms_with.clone(),
            from_users: query.from_users.clone(),
            from_ids,
            since: query.since.map(day),
            until: query.until.map(day),
            has: query.has,
            is_thread: query.is_thread,
            order: SearchOrder::Recent,
            after: None,
            limit,
            user_id,
            workspace_id,
        }
    }

    /// Whether it asks for nothing: no term an index can find (terms of punctuation alone are
    /// ignored), nothing excluded and no filter. Such a search finds nothing rather than
    /// everything.
    pub fn finds_nothing(&self) -> bool {
        self.terms.is_empty()
            && self.excluded.is_empty()
            && self.in_channels.is_empty()
            && self.channel_ids.is_empty()
            && self.in_dms_with.is_empty()
            && self.from_users.is_empty()
            && self.from_ids.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self.has == Has::default()
            && !self.is_thread
    }
}

/// A page's messages (read back in any order) in the page's order, each with its cursor.
pub(crate) fn in_page_order(
    found: Vec<(String, SearchCursor)>,
    mut messages: Vec<Message>,
) -> Vec<SearchHit> {
    found
        .into_iter()
        .filter_map(|(id, cursor)| {
            let at = messages.iter().position(|m| m.id.as_str() == id)?;
            Some(SearchHit {
                message: messages.swap_remove(at),
                cursor,
            })
        })
        .collect()
}
