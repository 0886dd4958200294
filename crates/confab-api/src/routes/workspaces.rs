//! `/workspaces/*` and `/invites/*`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_core::{UserId, WorkspaceId};
use confab_protocol::http::{
    AddWorkspaceMemberRequest, ChannelListItem, ChannelListResponse, ChannelResponse,
    ChannelsQuery, CreateChannelRequest, CreateInviteRequest, CreateWorkspaceRequest,
    InviteResponse, InviteWire, MemberWire, MembersQuery, MembersResponse, OpenDmRequest,
    UserResponse, WorkspaceResponse,
};
use confab_protocol::{ChannelWire, WorkspaceWire};

use crate::error::ApiResult;
use crate::extract::{AuthUser, Json, OptionalJson, Query};
use crate::state::ApiState;
use confab_protocol::http::ErrorResponse;

/// Create a workspace; the caller becomes its owner and `#general` is created.
#[utoipa::path(post, path = "/workspaces", request_body = CreateWorkspaceRequest,
    responses((status = 201, body = WorkspaceResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn create_workspace(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<CreateWorkspaceRequest>,
) -> ApiResult<(StatusCode, axum::Json<WorkspaceResponse>)> {
    let ws = state.chat.create_workspace(&user.id, &req.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WorkspaceResponse {
            workspace: WorkspaceWire::new(&ws, Some(confab_core::Role::Owner)),
        }),
    ))
}

/// Add a user to the workspace (admins only).
#[utoipa::path(post, operation_id = "add_workspace_member", path = "/workspaces/{id}/members", request_body = AddWorkspaceMemberRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = WorkspaceResponse), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn add_member(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<AddWorkspaceMemberRequest>,
) -> ApiResult<(StatusCode, axum::Json<WorkspaceResponse>)> {
    let ws = WorkspaceId::parse(&id)?;
    let target = UserId::parse(&req.user_id)?;
    let workspace = state
        .chat
        .add_workspace_member(&user.id, &ws, &target, req.role.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WorkspaceResponse {
            workspace: WorkspaceWire::new(&workspace, None),
        }),
    ))
}

/// Offboard someone (admins only): they leave the workspace and every channel of it at once;
/// their messages, and their DMs for the others, remain.
#[utoipa::path(delete, operation_id = "remove_workspace_member",
    path = "/workspaces/{id}/members/{user_id}",
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn remove_member(
    State(state): State<ApiState>,
    user: AuthUser,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ws = WorkspaceId::parse(&id)?;
    let target = UserId::parse(&user_id)?;
    state
        .chat
        .remove_workspace_member(&user.id, &ws, &target)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an invite code (any member but guests). The body is optional: without one (or with
/// `{}`) the invite takes the defaults, as Slack's "copy invite link" does.
#[utoipa::path(post, path = "/workspaces/{id}/invites",
    request_body(content = Option<CreateInviteRequest>,
        description = "optional; absent fields take the defaults: 100 uses, 7 days"),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = InviteResponse), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn create_invite(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    OptionalJson(req): OptionalJson<CreateInviteRequest>,
) -> ApiResult<(StatusCode, axum::Json<InviteResponse>)> {
    let ws = WorkspaceId::parse(&id)?;
    let invite = state
        .chat
        .create_invite(&user.id, &ws, req.max_uses, req.expires_in_hours)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(InviteResponse {
            invite: InviteWire {
                code: invite.code,
                workspace_id: invite.workspace_id.to_string(),
                expires_at: invite.expires_at.to_rfc3339(),
                max_uses: invite.max_uses,
            },
        }),
    ))
}

/// Join a workspace with an invite code.
#[utoipa::path(post, path = "/invites/{code}/accept", params(("code" = String, Path)),
    responses((status = 200, body = WorkspaceResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 410, body = ErrorResponse, description = "gone"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn accept_invite(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<WorkspaceResponse>> {
    let ws = state.chat.accept_invite(&user.id, &code).await?;
    Ok(axum::Json(WorkspaceResponse {
        workspace: WorkspaceWire::new(&ws, Some(confab_core::Role::Member)),
    }))
}

/// Public channels and those the caller is in, with read state; with `browse=true`, only the
/// public channels the caller is not in, with member counts.
#[utoipa::path(get, path = "/workspaces/{id}/channels", params(("id" = String, Path, format = Uuid), ChannelsQuery),
    responses((status = 200, body = ChannelListResponse), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn list_channels(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<ChannelsQuery>,
) -> ApiResult<axum::Json<ChannelListResponse>> {
    let ws = WorkspaceId::parse(&id)?;
    if q.browse == Some(true) {
        let channels = state.chat.browse_channels(&user.id, &ws).await?;
        return Ok(axum::Json(ChannelListResponse {
            channels: channels
                .iter()
                .map(|(c, members)| ChannelListItem {
                    channel: ChannelWire::from(c),
                    is_member: false,
                    last_read_seq: 0,
                    unread_count: 0,
                    mention_count: 0,
                    member_count: Some(*members),
                })
                .collect(),
        }));
    }
    let channels = state.chat.list_channels(&user.id, &ws).await?;
    Ok(axum::Json(ChannelListResponse {
        channels: channels
            .iter()
            .map(|c| ChannelListItem {
                channel: ChannelWire::from(&c.channel),
                is_member: c.is_member,
                last_read_seq: c.last_read_seq,
                unread_count: c.unread_count,
                mention_count: c.mention_count,
                member_count: None,
            })
            .collect(),
    }))
}

/// Create a channel; the caller joins it.
#[utoipa::path(post, path = "/workspaces/{id}/channels", request_body = CreateChannelRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = ChannelResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 409, body = ErrorResponse, description = "conflicts with the current state"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn create_channel(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<CreateChannelRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelResponse>)> {
    let ws = WorkspaceId::parse(&id)?;
    let channel = state
        .chat
        .create_channel(&user.id, &ws, &req.name, req.private, req.topic.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ChannelResponse {
            channel: ChannelWire::from(&channel),
        }),
    ))
}

/// Open the DM with exactly these people (1:1 or group); the same set always yields the same
/// DM: 201 when created, 200 when it existed.
#[utoipa::path(post, path = "/workspaces/{id}/dms", request_body = OpenDmRequest,
    params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = ChannelResponse), (status = 200, body = ChannelResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn open_dm(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<OpenDmRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelResponse>)> {
    let ws = WorkspaceId::parse(&id)?;
    let others = req
        .user_ids
        .iter()
        .map(|u| UserId::parse(u))
        .collect::<Result<Vec<_>, _>>()?;
    let (channel, created) = state.chat.open_dm(&user.id, &ws, &others).await?;
    let status = if created {
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

/// The workspace's members, by username, a page at a time.
#[utoipa::path(get, path = "/workspaces/{id}/members", params(("id" = String, Path, format = Uuid), MembersQuery),
    responses((status = 200, body = MembersResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn list_members(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> ApiResult<axum::Json<MembersResponse>> {
    let ws = WorkspaceId::parse(&id)?;
    let limit = q.limit.unwrap_or(100);
    let members = state
        .chat
        .workspace_members(&user.id, &ws, q.after.as_deref().unwrap_or(""), limit)
        .await?;
    let next_after = (members.len() == limit as usize)
        .then(|| members.last().map(|(u, _)| u.username.clone()))
        .flatten();
    Ok(axum::Json(MembersResponse {
        members: members
            .into_iter()
            .map(|(u, role)| MemberWire {
                status_text: u
                    .status_at(confab_core::Timestamp::now())
                    .map(|(text, _)| text.to_owned()),
                user_id: u.id.to_string(),
                username: u.username,
                display_name: u.display_name,
                role: role.as_str().to_owned(),
            })
            .collect(),
        next_after,
    }))
}

/// A user's profile: someone who shares a workspace with the caller.
#[utoipa::path(get, path = "/users/{id}", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_user(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserResponse>> {
    let id = UserId::parse(&id)?;
    let profile = state.chat.user_profile(&user.id, &id).await?;
    Ok(axum::Json(UserResponse {
        user: if profile.id == user.id {
            confab_protocol::UserWire::own(&profile)
        } else {
            confab_protocol::UserWire::public(&profile)
        },
    }))
}
