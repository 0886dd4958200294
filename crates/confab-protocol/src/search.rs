//! Search on the wire: `GET /search`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::MessageWire;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Newest first.
    #[default]
    Recent,
    /// Messages holding more of the words exactly as typed first, then newest first.
    Relevance,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQueryParams {
    /// Words (all must match; parts of words, any case or accent, English stems), `"exact
    /// phrases"`, `-excluded`, and the operators `in:#channel`, `in:@user`, `from:@user`,
    /// `from:me`, `before:`/`after:`/`on:YYYY-MM-DD`, `during:YYYY-MM`, `has:file`,
    /// `has:link`, `has:reaction`, `is:thread`. Bad syntax is read as plain words.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: String,
    #[param(format = Uuid)]
    pub workspace_id: String,
    /// 1 to 100; 20 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// A previous page's `next_cursor`.
    #[param(pattern = r"^[0-9]{1,4}\.[0-9]{1,18}$")]
    pub cursor: Option<String>,
    pub sort: Option<SearchSort>,
    /// Only this channel.
    #[param(format = Uuid)]
    pub channel_id: Option<String>,
    /// Only messages this user (an ID) sent.
    #[param(format = Uuid)]
    pub from: Option<String>,
    /// Only messages sent before this day (`YYYY-MM-DD`, UTC).
    #[param(format = Date)]
    pub before: Option<String>,
    /// Only messages sent after this day (`YYYY-MM-DD`, UTC).
    #[param(format = Date)]
    pub after: Option<String>,
}

/// Where a result matched: `[start, end)` of its body in UTF-16 code units (JavaScript
/// string indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HighlightWire {
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResultWire {
    pub message: MessageWire,
    pub channel_id: String,
    pub highlights: Vec<HighlightWire>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    pub results: Vec<SearchResultWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Matches the caller may read, counted up to 1,000.
    pub total_estimate: u32,
}
