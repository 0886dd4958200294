//! `/auth/*`, `/me` and `/ws/ticket`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use confab_chat::Registration;
use confab_protocol::UserWire;
use confab_protocol::WorkspaceWire;
use confab_protocol::http::{
    AuthResponse, LoginRequest, MeResponse, RegisterRequest, TicketResponse,
};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Json};
use crate::state::ApiState;

fn check_auth_rate(state: &ApiState, peer: SocketAddr) -> ApiResult<()> {
    state
        .auth_limiter
        .check(&peer.ip())
        .map_err(|retry_after| ApiError::from(confab_chat::ChatError::RateLimited { retry_after }))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/register", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 400), (status = 409), (status = 429)))]
pub async fn register(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, axum::Json<AuthResponse>)> {
    check_auth_rate(&state, peer)?;
    let session = state
        .chat
        .register(Registration {
            username: &req.username,
            password: &req.password,
            display_name: req.display_name.as_deref(),
            email: req.email.as_deref(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AuthResponse {
            user: UserWire::own(&session.user),
            token: session.token,
        }),
    ))
}

/// Sign in.
#[utoipa::path(post, path = "/auth/login", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401), (status = 429)))]
pub async fn login(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<AuthResponse>> {
    check_auth_rate(&state, peer)?;
    let session = state.chat.login(&req.username, &req.password).await?;
    Ok(axum::Json(AuthResponse {
        user: UserWire::own(&session.user),
        token: session.token,
    }))
}

/// Revoke the token this request carries.
#[utoipa::path(post, path = "/auth/logout", responses((status = 204), (status = 401)))]
pub async fn logout(State(state): State<ApiState>, user: AuthUser) -> ApiResult<StatusCode> {
    state.chat.logout(&user.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and their workspaces.
#[utoipa::path(get, path = "/me", responses((status = 200, body = MeResponse), (status = 401)))]
pub async fn me(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<MeResponse>> {
    let (me, workspaces) = state.chat.me(&user.id).await?;
    Ok(axum::Json(MeResponse {
        user: UserWire::own(&me),
        workspaces: workspaces
            .iter()
            .map(|(w, role)| WorkspaceWire::new(w, Some(*role)))
            .collect(),
    }))
}

/// A single-use ticket, valid 30 seconds, for opening a WebSocket from a browser
/// (`/api/v1/ws?ticket=`).
#[utoipa::path(post, path = "/ws/ticket", responses((status = 200, body = TicketResponse), (status = 401)))]
pub async fn ws_ticket(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<TicketResponse>> {
    let (ticket, expires_at) = state.chat.issue_ticket(&user.id).await?;
    Ok(axum::Json(TicketResponse {
        ticket,
        expires_at: expires_at.to_rfc3339(),
    }))
}
