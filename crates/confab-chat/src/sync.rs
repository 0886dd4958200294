//! `POST /sync`: a client's whole catch-up in one call. Every channel the user is in comes
//! back with its read state and counts, and, for each cursor that is behind, the channel's
//! changes since it (the changes feed's page); channels the user has left, or that are gone,
//! come back as removed. One request replaces one feed read per channel: after a reconnect
//! in a workspace of 200 channels, one round trip instead of 200.

use std::collections::HashMap;

use confab_core::{ChannelId, ErrorCode, UserId};
use confab_store::{ChangesPage, ChannelView};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

/// Cursors one call may carry.
pub const MAX_SYNC_CURSORS: usize = 1000;
/// Messages one answer carries at most, over all its channels; past it, channels still
/// behind say `has_more` and keep their cursor, for the next call.
pub const MAX_SYNC_MESSAGES: u32 = 2000;

/// The largest cursor: what a JSON number carries exactly.
pub const MAX_CURSOR: i64 = (1 << 53) - 1;

/// One channel in a sync answer.
pub struct SyncedChannel {
    pub view: ChannelView,
    /// Changes since the client's cursor: none when the client gave no cursor for it (a
    /// channel new to it, which it loads as it would at start) or was already current.
    pub page: ChangesPage,
}

pub struct SyncOutcome {
    pub channels: Vec<SyncedChannel>,
    /// Cursors given for channels the user is no longer in (or that are not theirs to see).
    pub removed: Vec<ChannelId>,
    /// Every channel given is current: no channel says `has_more`.
    pub complete: bool,
}

impl ChatService {
    /// `limit` is per channel (1 to the feed's page limit). Covers every workspace the user
    /// is in.
    pub async fn sync(
        &self,
        user: &UserId,
        cursors: &HashMap<ChannelId, i64>,
        limit: u32,
    ) -> ChatResult<SyncOutcome> {
        if !(1..=crate::messages::MAX_PAGE).contains(&limit) {
            return Err(ChatError::refused(
                ErrorCode::InvalidLimit,
                format!("limit must be 1 to {}", crate::messages::MAX_PAGE),
            ));
        }
        if cursors.len() > MAX_SYNC_CURSORS {
            return Err(ChatError::refused(
                ErrorCode::InvalidRequest,
                format!("at most {MAX_SYNC_CURSORS} cursors per call"),
            ));
        }
        if cursors.values().any(|c| !(0..=MAX_CURSOR).contains(c)) {
            return Err(ChatError::refused(
                ErrorCode::InvalidCursor,
                "a cursor is a sequence number from 0 to 2^53 - 1",
            ));
        }
        // Every workspace's channels: a cursor the answer does not list is the user's no
        // longer, and the other workspaces' badges come along.
        self.limit_sync(user)?;
        let mut views = Vec::new();
        for (ws, _) in self.store.user_workspaces(user).await? {
            let ws = &ws.id;
            // Only the channels the user is in: a public one they are not in has no feed here.
            views.extend(self.store.list_channels(ws, user, false).await?);
        }
        let mut budget = MAX_SYNC_MESSAGES;
        let mut complete = true;
        let mut channels = Vec::with_capacity(views.len());
        for view in views {
            let last_seq = view.channel.last_seq;
            let page = match cursors.get(&view.channel.id) {
                Some(&cursor) if cursor < last_seq && budget == 0 => ChangesPage {
                    messages: Vec::new(),
                    next_cursor: cursor,
                    has_more: true,
                },
                Some(&cursor) if cursor < last_seq => {
                    let page = self
                        .store
                        .messages_since(&view.channel.id, cursor, limit.min(budget))
                        .await?;
                    budget = budget.saturating_sub(page.messages.len() as u32);
                    page
                }
                // Current, or new to the client: nothing to replay.
                _ => ChangesPage {
                    messages: Vec::new(),
                    next_cursor: last_seq,
                    has_more: false,
                },
            };
            complete &= !page.has_more;
            channels.push(SyncedChannel { view, page });
        }
        let listed: std::collections::HashSet<&ChannelId> =
            channels.iter().map(|c| &c.view.channel.id).collect();
        let removed = cursors
            .keys()
            .filter(|id| !listed.contains(id))
            .cloned()
            .collect();
        Ok(SyncOutcome {
            channels,
            removed,
            complete,
        })
    }
}
