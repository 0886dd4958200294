//! Search: what a member asks (`GET /search`) checked, turned into a store search over what
//! they may read now, and each result's matches marked.

use confab_core::search::{Highlight, day, highlights, parse};
use confab_core::{ChannelId, ErrorCode, Message, Timestamp, UserId, WorkspaceId};
use confab_store::{SearchCursor, SearchOrder, SearchRequest};

use crate::{ChatError, ChatResult, ChatService};

/// Results a page holds unless asked otherwise, and at most.
pub const DEFAULT_SEARCH_PAGE: u32 = 20;
pub const MAX_SEARCH_PAGE: u32 = 100;

/// One search as the caller asked it.
#[derive(Debug, Default)]
pub struct SearchInput<'a> {
    pub q: &'a str,
    pub limit: Option<u32>,
    pub cursor: Option<&'a str>,
    pub relevance: bool,
    /// Only this channel.
    pub channel_id: Option<ChannelId>,
    /// Only what this user sent.
    pub from: Option<UserId>,
    /// Only before this day (`YYYY-MM-DD`).
    pub before: Option<&'a str>,
    /// Only after this day.
    pub after: Option<&'a str>,
}

#[derive(Debug)]
pub struct SearchResult {
    pub message: Message,
    pub highlights: Vec<Highlight>,
}

#[derive(Debug)]
pub struct SearchOutput {
    pub results: Vec<SearchResult>,
    pub next_cursor: Option<String>,
    pub total_estimate: i64,
}

fn invalid(code: ErrorCode, message: &'static str) -> ChatError {
    ChatError::refused(code, message)
}

/// The start of a `YYYY-MM-DD` day (UTC).
fn day_start(s: &str, what: &str) -> ChatResult<Timestamp> {
    let d = day(s).ok_or_else(|| {
        ChatError::refused(
            ErrorCode::InvalidRequest,
            format!("{what} must be a YYYY-MM-DD day"),
        )
    })?;
    Ok(Timestamp::from_micros(
        d.midnight().assume_utc().unix_timestamp() * 1_000_000,
    ))
}

fn cursor(s: &str) -> ChatResult<SearchCursor> {
    s.split_once('.')
        .and_then(|(score, doc)| {
            Some(SearchCursor {
                score: score
                    .parse()
                    .ok()
                    .filter(|s: &i64| (0..10_000).contains(s))?,
                doc: doc.parse().ok().filter(|d: &i64| *d >= 0)?,
            })
        })
        .ok_or_else(|| invalid(ErrorCode::InvalidCursor, "cursor is not one we gave"))
}

impl ChatService {
    /// Messages of `ws` that `user` may read now matching `input`, newest first (or by
    /// relevance), with where each matched.
    pub async fn search(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
        input: SearchInput<'_>,
    ) -> ChatResult<SearchOutput> {
        Self::limit(&self.search_limiter, user)?;
        let max_chars = self.config.search_max_query_chars;
        if input.q.chars().count() > max_chars {
            return Err(ChatError::refused(
                ErrorCode::QueryTooLong,
                format!("a search is at most {max_chars} characters"),
            ));
        }
        let limit = input.limit.unwrap_or(DEFAULT_SEARCH_PAGE);
        if !(1..=MAX_SEARCH_PAGE).contains(&limit) {
            return Err(ChatError::refused(
                ErrorCode::InvalidLimit,
                format!("limit must be 1 to {MAX_SEARCH_PAGE}"),
            ));
        }
        let after = input.cursor.map(cursor).transpose()?;
        let before_day = input.before.map(|d| day_start(d, "before")).transpose()?;
        let after_day = input
            .after
            .map(|d| day_start(d, "after"))
            .transpose()?
            .map(|t| t.plus_secs(86_400));
        self.workspace_role(user, ws).await?;
        if let Some(channel) = &input.channel_id {
            // Not found, as for any channel the caller cannot read.
            let access = self.access(user, channel).await?;
            if &access.channel.workspace_id != ws {
                return Err(invalid(ErrorCode::ChannelNotFound, "channel not found"));
            }
        }

        let query = parse(input.q);
        let mut request = SearchRequest::new(user.clone(), ws.clone(), &query, limit);
        request.order = if input.relevance {
            SearchOrder::Relevance
        } else {
            SearchOrder::Recent
        };
        request.after = after;
        request.channel_ids.extend(input.channel_id);
        request.from_ids.extend(input.from);
        if let Some(t) = before_day {
            request.until = Some(request.until.map_or(t, |u| u.min(t)));
        }
        if let Some(t) = after_day {
            request.since = Some(request.since.map_or(t, |s| s.max(t)));
        }
        let page = self.store.search(&request).await?;
        let next_cursor = page
            .has_more
            .then(|| page.hits.last())
            .flatten()
            .map(|h| format!("{}.{}", h.cursor.score, h.cursor.doc));
        let results = page
            .hits
            .into_iter()
            .map(|hit| SearchResult {
                highlights: highlights(hit.message.body.as_deref().unwrap_or(""), &query),
                message: hit.message,
            })
            .collect();
        Ok(SearchOutput {
            results,
            next_cursor,
            total_estimate: page.total_estimate,
        })
    }
}
