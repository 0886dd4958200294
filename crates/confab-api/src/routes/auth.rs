//! `/auth/*`, `/me` and `/ws/ticket`.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use confab_chat::{ClientInfo, Registration};
use confab_core::SessionId;
use confab_protocol::UserWire;
use confab_protocol::WorkspaceWire;
use confab_protocol::http::{
    AuthResponse, BrowserSessionResponse, LoginRequest, MeResponse, PasswordChangeRequest,
    PasswordResetRequest, RegisterRequest, RevokedResponse, SessionWire, SessionsResponse,
    TicketResponse,
};

use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Json};
use crate::state::ApiState;
use confab_protocol::http::ErrorResponse;

/// Who is signing in: the name the client gives, else its User-Agent; and its address.
fn client<'a>(name: Option<&'a str>, headers: &'a HeaderMap, peer: IpAddr) -> ClientInfo<'a> {
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    ClientInfo {
        name: name.or(agent).unwrap_or(""),
        address: peer.to_string(),
    }
}

fn check_auth_rate(state: &ApiState, peer: IpAddr) -> ApiResult<()> {
    state
        .auth_limiter
        .check(&peer)
        .map_err(|retry_after| ApiError::from(confab_chat::ChatError::RateLimited { retry_after }))
}

/// Registering, the same for an API client and a browser (only the answer differs).
async fn register_session(
    state: &ApiState,
    peer: IpAddr,
    headers: &HeaderMap,
    req: &RegisterRequest,
) -> ApiResult<confab_chat::Session> {
    check_auth_rate(state, peer)?;
    Ok(state
        .chat
        .register(
            Registration {
                username: &req.username,
                password: &req.password,
                display_name: req.display_name.as_deref(),
                email: req.email.as_deref(),
                invite_code: req.invite_code.as_deref(),
            },
            client(req.client_name.as_deref(), headers, peer),
        )
        .await?)
}

/// Signing in, the same for an API client and a browser (which brings its device token in a
/// cookie).
async fn login_session(
    state: &ApiState,
    peer: IpAddr,
    headers: &HeaderMap,
    req: &LoginRequest,
    device_token: Option<&str>,
) -> ApiResult<confab_chat::Session> {
    check_auth_rate(state, peer)?;
    Ok(state
        .chat
        .login(
            &req.username,
            &req.password,
            client(req.client_name.as_deref(), headers, peer),
            device_token,
        )
        .await?)
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/register", request_body = RegisterRequest, security(()),
    responses((status = 201, body = AuthResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "registration is closed, or needs an invite"), (status = 404, body = ErrorResponse, description = "the invite is unknown, expired or used up"), (status = 409, body = ErrorResponse, description = "the username is taken"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn register(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Json(req): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, axum::Json<AuthResponse>)> {
    let session = register_session(&state, peer, &headers, &req).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AuthResponse {
            user: UserWire::own(&session.user),
            token: session.token,
            device_token: session.device_token,
        }),
    ))
}

/// Sign in.
#[utoipa::path(post, path = "/auth/login", request_body = LoginRequest, security(()),
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn login(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<AuthResponse>> {
    let session = login_session(&state, peer, &headers, &req, req.device_token.as_deref()).await?;
    Ok(axum::Json(AuthResponse {
        user: UserWire::own(&session.user),
        token: session.token,
        device_token: session.device_token,
    }))
}

/// What a browser keeps of a sign-in: the session and device tokens as `HttpOnly` cookies.
fn browser_signed_in(
    state: &ApiState,
    session: confab_chat::Session,
    status: StatusCode,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let policy = state.browser();
    let mut response = (
        status,
        axum::Json(BrowserSessionResponse {
            user: UserWire::own(&session.user),
        }),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.append(
        axum::http::header::SET_COOKIE,
        policy.cookie(
            crate::browser::SESSION_COOKIE,
            &session.token,
            policy.session_max_age,
        ),
    );
    headers.append(
        axum::http::header::SET_COOKIE,
        policy.cookie(
            crate::browser::DEVICE_COOKIE,
            &session.device_token,
            crate::browser::DEVICE_MAX_AGE,
        ),
    );
    response
}

/// Create an account and sign this browser in: as `/auth/register`, with the session in an
/// `HttpOnly` cookie instead of the body (for the web client).
#[utoipa::path(post, path = "/auth/browser/register", request_body = RegisterRequest, security(()),
    responses((status = 201, body = BrowserSessionResponse, description = "signed in; the session is in the `confab_session` cookie"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "registration is closed, or needs an invite"), (status = 404, body = ErrorResponse, description = "the invite is unknown, expired or used up"), (status = 409, body = ErrorResponse, description = "the username is taken"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn browser_register(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Json(req): Json<RegisterRequest>,
) -> ApiResult<axum::response::Response> {
    let session = register_session(&state, peer, &headers, &req).await?;
    Ok(browser_signed_in(&state, session, StatusCode::CREATED))
}

/// Sign this browser in: as `/auth/login`, with the session in an `HttpOnly` cookie instead
/// of the body, and the device token read from and kept in a cookie too.
#[utoipa::path(post, path = "/auth/browser/login", request_body = LoginRequest, security(()),
    responses((status = 200, body = BrowserSessionResponse, description = "signed in; the session is in the `confab_session` cookie"), (status = 401, body = ErrorResponse, description = "wrong username or password"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn browser_login(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::response::Response> {
    let device = req
        .device_token
        .as_deref()
        .or_else(|| crate::browser::cookie(&headers, crate::browser::DEVICE_COOKIE));
    let session = login_session(&state, peer, &headers, &req, device).await?;
    Ok(browser_signed_in(&state, session, StatusCode::OK))
}

/// Sign out: revokes the session this request's token belongs to, its unredeemed tickets
/// and every socket it opened.
#[utoipa::path(post, path = "/auth/logout", responses((status = 204), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn logout(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, HeaderMap)> {
    state.chat.logout(&user.caller(), &user.token).await?;
    let mut headers = HeaderMap::new();
    if user.by_cookie {
        headers.insert(
            axum::http::header::SET_COOKIE,
            state.browser().cleared(crate::browser::SESSION_COOKIE),
        );
    }
    Ok((StatusCode::NO_CONTENT, headers))
}

/// Change the caller's password (the current one is required); every other session of the
/// caller's is signed out.
#[utoipa::path(post, path = "/me/password", request_body = PasswordChangeRequest,
    responses((status = 200, body = RevokedResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn change_password(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    user: AuthUser,
    Json(req): Json<PasswordChangeRequest>,
) -> ApiResult<axum::Json<RevokedResponse>> {
    // Guessing the current password here is guessing it at login.
    check_auth_rate(&state, peer)?;
    let revoked = state
        .chat
        .change_password(&user.caller(), &req.current_password, &req.new_password)
        .await?;
    Ok(axum::Json(RevokedResponse { revoked }))
}

/// Set a new password with a one-time reset token (from `confab admin reset-password`); every
/// session of the user's is signed out.
#[utoipa::path(post, path = "/auth/reset-password", request_body = PasswordResetRequest,
    security(()),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn reset_password(
    State(state): State<ApiState>,
    ClientAddr(peer): ClientAddr,
    Json(req): Json<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    check_auth_rate(&state, peer)?;
    state
        .chat
        .reset_password(&req.token, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivate an account server-wide (server administrators only, not their own): it can no
/// longer sign in, its sessions are signed out and its sockets close; its messages stay.
#[utoipa::path(post, path = "/admin/users/{user_id}/deactivate",
    params(("user_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn deactivate_user(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let target = confab_core::UserId::parse(&user_id)?;
    state.chat.deactivate_user(Some(&user.id), &target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's signed-in sessions (devices), most recently used first.
#[utoipa::path(get, path = "/me/sessions",
    responses((status = 200, body = SessionsResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn sessions(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<SessionsResponse>> {
    let sessions = state.chat.sessions(&user.caller()).await?;
    Ok(axum::Json(SessionsResponse {
        sessions: sessions
            .into_iter()
            .map(|s| SessionWire {
                current: s.id == user.session,
                id: s.id.to_string(),
                client_name: s.client_name,
                created_from: s.created_from,
                created_at: s.created_at.to_rfc3339(),
                last_seen_at: s.last_seen_at.to_rfc3339(),
            })
            .collect(),
    }))
}

/// Sign one of the caller's sessions out (its sockets close at once, on every gateway).
#[utoipa::path(delete, path = "/me/sessions/{session_id}",
    params(("session_id" = String, Path, format = Uuid, description = "a session ID from GET /me/sessions")),
    responses((status = 204), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn revoke_session(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(session_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = SessionId::parse(&session_id)?;
    state.chat.revoke_session(&user.caller(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Sign out everywhere else": every session of the caller's but this one.
#[utoipa::path(post, path = "/me/sessions/revoke-others",
    responses((status = 200, body = RevokedResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn revoke_other_sessions(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<RevokedResponse>> {
    let revoked = state.chat.revoke_other_sessions(&user.caller()).await?;
    Ok(axum::Json(RevokedResponse { revoked }))
}

/// The caller and their workspaces.
#[utoipa::path(get, path = "/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn me(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<MeResponse>> {
    let (me, workspaces) = state.chat.me(&user.id).await?;
    let server_admin = state.chat.is_server_admin(&user.id).await?;
    Ok(axum::Json(MeResponse {
        user: UserWire::own(&me),
        server_admin,
        workspaces: workspaces
            .iter()
            .map(|(w, role)| WorkspaceWire::new(w, Some(*role)))
            .collect(),
    }))
}

/// A single-use ticket, valid 30 seconds, for opening a WebSocket from a browser
/// (`/api/v1/ws?ticket=`).
#[utoipa::path(post, path = "/ws/ticket", responses((status = 200, body = TicketResponse), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn ws_ticket(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<TicketResponse>> {
    let (ticket, expires_at) = state.chat.issue_ticket(&user.caller()).await?;
    Ok(axum::Json(TicketResponse {
        ticket,
        expires_at: expires_at.to_rfc3339(),
    }))
}
