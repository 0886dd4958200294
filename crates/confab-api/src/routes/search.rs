//! `GET /search`: messages the caller may read, by words and Slack's operators.

use axum::extract::State;
use confab_chat::SearchInput;
use confab_core::{ChannelId, UserId, WorkspaceId};
use confab_protocol::MessageWire;
use confab_protocol::http::ErrorResponse;
use confab_protocol::search::{
    HighlightWire, SearchQueryParams, SearchResponse, SearchResultWire, SearchSort,
};

use crate::error::ApiResult;
use crate::extract::{AuthUser, Query};
use crate::state::ApiState;

/// Messages of a workspace the caller may read now (public channels unless a guest, and the
/// channels and DMs they are in) matching `q`, newest first unless `sort=relevance`.
#[utoipa::path(get, path = "/search", params(SearchQueryParams),
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, limit, cursor or day, or a query too long"), (status = 404, body = ErrorResponse, description = "the workspace or channel is not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn search(
    State(state): State<ApiState>,
    user: AuthUser,
    Query(p): Query<SearchQueryParams>,
) -> ApiResult<axum::Json<SearchResponse>> {
    let ws = WorkspaceId::parse(&p.workspace_id)?;
    let channel_id = p.channel_id.as_deref().map(ChannelId::parse).transpose()?;
    let from = p.from.as_deref().map(UserId::parse).transpose()?;
    let out = state
        .chat
        .search(
            &user.id,
            &ws,
            SearchInput {
                q: &p.q,
                limit: p.limit,
                cursor: p.cursor.as_deref(),
                relevance: p.sort == Some(SearchSort::Relevance),
                channel_id,
                from,
                before: p.before.as_deref(),
                after: p.after.as_deref(),
            },
        )
        .await?;
    Ok(axum::Json(SearchResponse {
        results: out
            .results
            .iter()
            .map(|r| SearchResultWire {
                channel_id: r.message.channel_id.to_string(),
                message: MessageWire::from(&r.message),
                highlights: r
                    .highlights
                    .iter()
                    .map(|h| HighlightWire {
                        start: h.start as u32,
                        end: h.end as u32,
                    })
                    .collect(),
            })
            .collect(),
        next_cursor: out.next_cursor,
        total_estimate: out.total_estimate.clamp(0, i64::from(u32::MAX)) as u32,
    }))
}
