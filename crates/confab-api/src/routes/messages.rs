//! `/channels/{id}/messages` and `/messages/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_chat::{HistoryQuery, SendRequest};
use confab_core::{ChannelId, ErrorCode, MessageId};
use confab_protocol::MessageWire;
use confab_protocol::http::{MessageResponse, MessagesQuery, MessagesResponse, SendMessageRequest};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Json, Query};
use crate::state::ApiState;

const DEFAULT_PAGE: u32 = 50;

/// Send a message: 201 with the stored message, or 200 with the original when this
/// `client_msg_id` was sent before.
#[utoipa::path(post, path = "/channels/{id}/messages", request_body = SendMessageRequest,
    params(("id" = String, Path)),
    responses((status = 201, body = MessageResponse), (status = 200, body = MessageResponse),
        (status = 400), (status = 403), (status = 404), (status = 429)))]
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

/// The changes feed (`since`), or a history page (`before`, newest first; neither means the
/// newest page).
#[utoipa::path(get, path = "/channels/{id}/messages", params(("id" = String, Path), MessagesQuery),
    responses((status = 200, body = MessagesResponse), (status = 400), (status = 404)))]
pub async fn list(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<axum::Json<MessagesResponse>> {
    let channel = ChannelId::parse(&id)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    let (query, is_feed) = match (q.since, q.before) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "give either since or before, not both",
            ));
        }
        (Some(cursor), None) => (HistoryQuery::Since { cursor, limit }, true),
        (None, before) => (
            HistoryQuery::Before {
                seq: before.unwrap_or(i64::MAX),
                limit,
            },
            false,
        ),
    };
    let page = state.chat.history(&user.id, &channel, query).await?;
    Ok(axum::Json(MessagesResponse {
        messages: page.messages.iter().map(MessageWire::from).collect(),
        next_cursor: is_feed.then_some(page.next_cursor),
        has_more: page.has_more,
    }))
}

/// One message the caller can read.
#[utoipa::path(get, path = "/messages/{id}", params(("id" = String, Path)),
    responses((status = 200, body = MessageResponse), (status = 404)))]
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
