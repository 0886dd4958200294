//! `/files` and `/channels/{id}/files`: asking to upload, completing a direct upload, a
//! file's record with signed URLs, and a channel's files. The bytes themselves travel on the
//! signed URLs (`content.rs`), never through these JSON calls.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_chat::{FileView, UploadRequest};
use confab_core::ChannelId;
use confab_protocol::files::{
    ChannelFileWire, ChannelFilesQuery, ChannelFilesResponse, CreateUploadRequest, FileResponse,
    FileWire, UploadTicket,
};
use confab_protocol::http::ErrorResponse;

use crate::error::ApiResult;
use crate::extract::{AuthUser, Json, Query};
use crate::state::ApiState;

fn file_response(view: FileView) -> FileResponse {
    FileResponse {
        file: FileWire::from(&view.file.info),
        uploader_id: view.file.uploader_id.to_string(),
        channel_id: view.file.channel_id.as_ref().map(ToString::to_string),
        message_id: view.file.message_id.as_ref().map(ToString::to_string),
        download_url: view.download_url,
        thumbnail_url: view.thumbnail_url,
        urls_expire_at: view.urls_expire_at.to_rfc3339(),
    }
}

/// Ask to upload a file: answers a URL to `PUT` exactly `size` bytes to, once, before it
/// expires. On this server's own storage the upload completes with that PUT; on S3, call
/// `POST /files/{id}/complete` after it (sending a message with the file also does).
#[utoipa::path(post, path = "/files", request_body = CreateUploadRequest,
    responses((status = 201, body = UploadTicket), (status = 400, body = ErrorResponse, description = "bad input: an empty file, a bad name or type"), (status = 404, body = ErrorResponse, description = "no such workspace, or not a member"), (status = 413, body = ErrorResponse, description = "file_too_large (over max_upload_bytes) or quota_exceeded"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn create_upload(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<CreateUploadRequest>,
) -> ApiResult<(StatusCode, axum::Json<UploadTicket>)> {
    let ticket = state
        .chat
        .create_upload(
            &user.id,
            UploadRequest {
                filename: &req.filename,
                size: req.size,
                content_type: &req.content_type,
                workspace_id: &req.workspace_id,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UploadTicket {
            file_id: ticket.file_id.to_string(),
            upload_url: ticket.upload_url,
            expires_at: ticket.expires_at.to_rfc3339(),
        }),
    ))
}

/// A file's record with short-lived URLs for its bytes (and preview), for its uploader and
/// whoever may read the channel it was shared in; 404 for anyone else.
#[utoipa::path(get, path = "/files/{id}", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = FileResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_file(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FileResponse>> {
    let view = state.chat.file_view(&user.id, &id).await?;
    Ok(axum::Json(file_response(view)))
}

/// Complete an upload made straight to object storage: checks the object is there with
/// exactly the declared size, sniffs its type, starts its preview. Complete already: the same
/// answer.
#[utoipa::path(post, path = "/files/{id}/complete", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = FileResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID"), (status = 404, body = ErrorResponse, description = "no such upload of the caller's"), (status = 409, body = ErrorResponse, description = "upload_incomplete: the bytes are not all there"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "a cookie-signed request from another origin"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn complete_upload(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FileResponse>> {
    state.chat.complete_upload(&user.id, &id).await?;
    let view = state.chat.file_view(&user.id, &id).await?;
    Ok(axum::Json(file_response(view)))
}

/// A channel's files, newest message first, for whoever may read the channel.
#[utoipa::path(get, path = "/channels/{id}/files", params(("id" = String, Path, format = Uuid), ChannelFilesQuery),
    responses((status = 200, body = ChannelFilesResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, limit or cursor"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn channel_files(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<ChannelFilesQuery>,
) -> ApiResult<axum::Json<ChannelFilesResponse>> {
    let channel = ChannelId::parse(&id)?;
    let page = state
        .chat
        .channel_files(
            &user.id,
            &channel,
            q.cursor.as_deref(),
            q.limit.unwrap_or(50),
        )
        .await?;
    Ok(axum::Json(ChannelFilesResponse {
        files: page
            .files
            .iter()
            .map(|f| ChannelFileWire {
                file: FileWire::from(&f.info),
                uploader_id: f.uploader_id.to_string(),
                message_id: f
                    .message_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            })
            .collect(),
        next_cursor: page.next.map(|(seq, pos)| format!("{seq}.{pos}")),
    }))
}
