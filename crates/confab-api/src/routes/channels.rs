//! `/channels/{id}` and its membership.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_core::{ChannelId, UserId};
use confab_protocol::ChannelWire;
use confab_protocol::http::{ChannelMemberRequest, ChannelResponse, UpdateChannelRequest};

use crate::error::ApiResult;
use crate::extract::{AuthUser, Json};
use crate::state::ApiState;
use confab_protocol::http::ErrorResponse;

/// A channel the caller can see.
#[utoipa::path(get, path = "/channels/{id}", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChannelResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_channel(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelResponse>> {
    let channel = state
        .chat
        .channel(&user.id, &ChannelId::parse(&id)?)
        .await?;
    Ok(axum::Json(ChannelResponse {
        channel: ChannelWire::from(&channel),
    }))
}

/// Join a public channel.
#[utoipa::path(post, path = "/channels/{id}/join", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChannelResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn join(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelResponse>> {
    let channel = state
        .chat
        .join_channel(&user.id, &ChannelId::parse(&id)?)
        .await?;
    Ok(axum::Json(ChannelResponse {
        channel: ChannelWire::from(&channel),
    }))
}

/// Leave a channel (not a DM).
#[utoipa::path(post, path = "/channels/{id}/leave", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn leave(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .chat
        .leave_channel(&user.id, &ChannelId::parse(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add someone to a channel you are in: 201 when added, 200 when already a member.
#[utoipa::path(post, operation_id = "add_channel_member", path = "/channels/{id}/members", request_body = ChannelMemberRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = ChannelResponse), (status = 200, body = ChannelResponse), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn add_member(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<ChannelMemberRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelResponse>)> {
    let channel_id = ChannelId::parse(&id)?;
    let target = UserId::parse(&req.user_id)?;
    let added = state
        .chat
        .add_channel_member(&user.id, &channel_id, &target)
        .await?;
    let channel = state.chat.channel(&user.id, &channel_id).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(ChannelResponse {
            channel: ChannelWire::from(&channel),
        }),
    ))
}

/// Remove someone from a channel (workspace admins and the channel's creator; anyone may
/// remove themselves). Their open sockets stop receiving the channel at once.
#[utoipa::path(delete, path = "/channels/{id}/members/{user_id}",
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn remove_member(
    State(state): State<ApiState>,
    user: AuthUser,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let channel_id = ChannelId::parse(&id)?;
    let target = UserId::parse(&user_id)?;
    state
        .chat
        .remove_channel_member(&user.id, &channel_id, &target)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rename a channel (its creator or an admin) or set its topic (any member).
#[utoipa::path(patch, path = "/channels/{id}", request_body = UpdateChannelRequest, params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChannelResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn update_channel(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<UpdateChannelRequest>,
) -> ApiResult<axum::Json<ChannelResponse>> {
    let channel = state
        .chat
        .update_channel(
            &user.id,
            &ChannelId::parse(&id)?,
            req.name.as_deref(),
            req.topic.as_deref(),
        )
        .await?;
    Ok(axum::Json(ChannelResponse {
        channel: ChannelWire::from(&channel),
    }))
}
