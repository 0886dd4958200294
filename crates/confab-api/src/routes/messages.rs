//! `/channels/{id}/messages` and `/messages/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_chat::{HistoryQuery, SendRequest};
use confab_core::{ChannelId, ErrorCode, MessageId, UserId};
use confab_protocol::http::{
    EditMessageRequest, MessageResponse, MessagesQuery, MessagesResponse, PresenceQuery,
    PresenceResponse, PresenceWire, ReadRequest, ReadResponse, SendMessageRequest, ThreadResponse,
};
use confab_protocol::sync::{SyncChannelWire, SyncRequest, SyncResponse};
use confab_protocol::{ChannelWire, MessageWire};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Json, Query};
use crate::state::ApiState;
use confab_protocol::http::ErrorResponse;

const DEFAULT_PAGE: u32 = 50;

/// Send a message: 201 with the stored message, or 200 with the original when this
/// `client_msg_id` was sent before.
#[utoipa::path(post, path = "/channels/{id}/messages", request_body = SendMessageRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = MessageResponse), (status = 200, body = MessageResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn send(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<SendMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageResponse>)> {
    let outcome = state
        .chat
        .send_message(
            &user.id,
            SendRequest {
                channel_id: &id,
                client_msg_id: &req.client_msg_id,
                body: &req.body,
                thread_root_id: req.thread_root_id.as_deref(),
                file_ids: &req.file_ids,
            },
        )
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(MessageResponse {
            message: MessageWire::from(&outcome.message),
        }),
    ))
}

/// The changes feed (`since`), or a history page, newest first: before a message (`before`),
/// around one (`around`), or the newest (none of them).
#[utoipa::path(get, path = "/channels/{id}/messages", params(("id" = String, Path, format = Uuid), MessagesQuery),
    responses((status = 200, body = MessagesResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn list(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<axum::Json<MessagesResponse>> {
    let channel = ChannelId::parse(&id)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    let (query, is_feed) = match (q.since, q.before, q.around) {
        (Some(cursor), None, None) => (HistoryQuery::Since { cursor, limit }, true),
        (None, None, Some(seq)) => (HistoryQuery::Around { seq, limit }, false),
        (None, before, None) => (
            HistoryQuery::Before {
                seq: before.unwrap_or(i64::MAX),
                limit,
            },
            false,
        ),
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "give at most one of since, before and around",
            ));
        }
    };
    let is_around = matches!(query, HistoryQuery::Around { .. });
    let history = state.chat.history(&user.id, &channel, query).await?;
    let page = history.page;
    Ok(axum::Json(MessagesResponse {
        messages: page.messages.iter().map(MessageWire::from).collect(),
        next_cursor: is_feed.then_some(page.next_cursor),
        has_more: page.has_more,
        has_newer: is_around.then_some(history.has_newer),
    }))
}

/// One message the caller can read.
#[utoipa::path(get, path = "/messages/{id}", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MessageResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_message(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MessageResponse>> {
    let message = state
        .chat
        .message(&user.id, &MessageId::parse(&id)?)
        .await?;
    Ok(axum::Json(MessageResponse {
        message: MessageWire::from(&message),
    }))
}

/// Edit a message (its author only).
#[utoipa::path(patch, path = "/messages/{id}", request_body = EditMessageRequest, params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn edit_message(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<EditMessageRequest>,
) -> ApiResult<axum::Json<MessageResponse>> {
    let message = state
        .chat
        .edit_message(&user.id, &MessageId::parse(&id)?, &req.body)
        .await?;
    Ok(axum::Json(MessageResponse {
        message: MessageWire::from(&message),
    }))
}

/// Delete a message (its author, a channel or workspace admin): a tombstone remains.
#[utoipa::path(delete, path = "/messages/{id}", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn delete_message(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .chat
        .delete_message(&user.id, &MessageId::parse(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add your reaction (idempotent). `emoji` is a Unicode emoji or a `:short_code:`.
#[utoipa::path(put, path = "/messages/{id}/reactions/{emoji}", params(("id" = String, Path, format = Uuid), ("emoji" = String, Path, description = "a `:short_code:` or one Unicode emoji", pattern = r"^(:[a-z0-9_+-]{1,64}:|[^\u0000-\u0022\u0024-\u0029\u002b-\u002f\u003a-\u00a8]{1,16})$")),
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn add_reaction(
    State(state): State<ApiState>,
    user: AuthUser,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<axum::Json<MessageResponse>> {
    let message = state
        .chat
        .set_reaction(&user.id, &MessageId::parse(&id)?, &emoji, true)
        .await?;
    Ok(axum::Json(MessageResponse {
        message: MessageWire::from(&message),
    }))
}

/// Remove your reaction (idempotent).
#[utoipa::path(delete, path = "/messages/{id}/reactions/{emoji}", params(("id" = String, Path, format = Uuid), ("emoji" = String, Path, description = "a `:short_code:` or one Unicode emoji", pattern = r"^(:[a-z0-9_+-]{1,64}:|[^\u0000-\u0022\u0024-\u0029\u002b-\u002f\u003a-\u00a8]{1,16})$")),
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn remove_reaction(
    State(state): State<ApiState>,
    user: AuthUser,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<axum::Json<MessageResponse>> {
    let message = state
        .chat
        .set_reaction(&user.id, &MessageId::parse(&id)?, &emoji, false)
        .await?;
    Ok(axum::Json(MessageResponse {
        message: MessageWire::from(&message),
    }))
}

/// A thread: its root and live replies, by the root or any reply.
#[utoipa::path(get, path = "/messages/{id}/thread", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ThreadResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn thread(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ThreadResponse>> {
    let (root, replies) = state.chat.thread(&user.id, &MessageId::parse(&id)?).await?;
    let following = state.chat.follows_thread(&user.id, &root.id).await?;
    Ok(axum::Json(ThreadResponse {
        root: MessageWire::from(&root),
        replies: replies.iter().map(MessageWire::from).collect(),
        following,
    }))
}

/// Move your read cursor forward (never backwards); all your devices are told.
#[utoipa::path(post, path = "/channels/{id}/read", request_body = ReadRequest, params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ReadResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn mark_read(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<ReadRequest>,
) -> ApiResult<axum::Json<ReadResponse>> {
    let last_read_seq = state
        .chat
        .mark_read(&user.id, &ChannelId::parse(&id)?, req.seq)
        .await?;
    Ok(axum::Json(ReadResponse { last_read_seq }))
}

/// Presence of users who share a workspace with you (others are left out).
#[utoipa::path(get, path = "/users/presence", params(PresenceQuery),
    responses((status = 200, body = PresenceResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn presence(
    State(state): State<ApiState>,
    user: AuthUser,
    Query(q): Query<PresenceQuery>,
) -> ApiResult<axum::Json<PresenceResponse>> {
    let ids = q
        .ids
        .split(',')
        .filter(|s| !s.is_empty())
        .map(UserId::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let statuses = state.chat.presence_of(&user.id, &ids).await?;
    Ok(axum::Json(PresenceResponse {
        presence: statuses
            .into_iter()
            .map(|(user_id, status)| PresenceWire {
                user_id: user_id.to_string(),
                status: status.as_str().to_owned(),
            })
            .collect(),
    }))
}

/// Catch up on everything at once: each channel you are in with its read state and counts,
/// and the changes since each cursor you give (a page per channel, 2,000 messages in all);
/// channels you left since come back as `removed`.
#[utoipa::path(post, path = "/sync", request_body = SyncRequest,
    responses((status = 200, body = SyncResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn sync(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<SyncRequest>,
) -> ApiResult<axum::Json<SyncResponse>> {
    let cursors = req
        .cursors
        .iter()
        .map(|(id, seq)| Ok((ChannelId::parse(id)?, *seq)))
        .collect::<Result<std::collections::HashMap<_, _>, ApiError>>()?;
    let outcome = state
        .chat
        .sync(&user.id, &cursors, req.limit.unwrap_or(DEFAULT_PAGE))
        .await?;
    Ok(axum::Json(SyncResponse {
        channels: outcome
            .channels
            .iter()
            .map(|c| SyncChannelWire {
                channel: ChannelWire::from(&c.view.channel),
                last_read_seq: c.view.last_read_seq,
                unread_count: c.view.unread_count,
                mention_count: c.view.mention_count,
                messages: c.page.messages.iter().map(MessageWire::from).collect(),
                next_cursor: c.page.next_cursor,
                has_more: c.page.has_more,
            })
            .collect(),
        removed: outcome.removed.iter().map(ToString::to_string).collect(),
        complete: outcome.complete,
    }))
}
