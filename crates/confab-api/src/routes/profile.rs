//! `PATCH /me` (display name and status) and the caller's drafts (`/me/drafts`,
//! `/channels/{id}/draft`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_chat::ProfileUpdate;
use confab_core::ChannelId;
use confab_protocol::UserWire;
use confab_protocol::drafts::{
    DraftQuery, DraftResponse, DraftWire, DraftsResponse, PutDraftRequest,
};
use confab_protocol::http::{ErrorResponse, UpdateMeRequest, UserResponse};

use crate::error::ApiResult;
use crate::extract::{AuthUser, Json, Query};
use crate::state::ApiState;

/// Change your display name or status; what is not given stays.
#[utoipa::path(patch, operation_id = "update_me", path = "/me", request_body = UpdateMeRequest,
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn update_me(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<UpdateMeRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let me = state
        .chat
        .update_profile(
            &user.id,
            ProfileUpdate {
                display_name: req.display_name.as_deref(),
                status_text: req.status_text.as_deref(),
                status_expires_in_minutes: req.status_expires_in_minutes,
            },
        )
        .await?;
    Ok(axum::Json(UserResponse {
        user: UserWire::own(&me),
    }))
}

/// Your drafts, most recently saved first.
#[utoipa::path(get, operation_id = "list_drafts", path = "/me/drafts",
    responses((status = 200, body = DraftsResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn list_drafts(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<DraftsResponse>> {
    let drafts = state.chat.drafts(&user.id).await?;
    Ok(axum::Json(DraftsResponse {
        drafts: drafts.iter().map(DraftWire::from).collect(),
    }))
}

/// Save the draft of a channel's composer, or a thread's (`thread_root_id`); an empty body
/// deletes it. Your other sockets get a `draft` frame.
#[utoipa::path(put, operation_id = "put_draft", path = "/channels/{id}/draft", request_body = PutDraftRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DraftResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn put_draft(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<PutDraftRequest>,
) -> ApiResult<axum::Json<DraftResponse>> {
    let draft = state
        .chat
        .save_draft(
            &user.id,
            &ChannelId::parse(&id)?,
            req.thread_root_id.as_deref(),
            &req.body,
        )
        .await?;
    Ok(axum::Json(DraftResponse {
        draft: DraftWire::from(&draft),
    }))
}

/// The draft of a channel's composer, or a thread's; 404 when there is none.
#[utoipa::path(get, operation_id = "get_draft", path = "/channels/{id}/draft",
    params(("id" = String, Path, format = Uuid), DraftQuery),
    responses((status = 200, body = DraftResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "no draft, or the channel is not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_draft(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
) -> ApiResult<axum::Json<DraftResponse>> {
    let draft = state
        .chat
        .draft(
            &user.id,
            &ChannelId::parse(&id)?,
            q.thread_root_id.as_deref(),
        )
        .await?;
    Ok(axum::Json(DraftResponse {
        draft: DraftWire::from(&draft),
    }))
}

/// Delete a draft (none there is fine).
#[utoipa::path(delete, operation_id = "delete_draft", path = "/channels/{id}/draft",
    params(("id" = String, Path, format = Uuid), DraftQuery),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn delete_draft(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
) -> ApiResult<StatusCode> {
    state
        .chat
        .delete_draft(
            &user.id,
            &ChannelId::parse(&id)?,
            q.thread_root_id.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
