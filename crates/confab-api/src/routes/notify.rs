//! Notification settings: the caller's preferences (`/me/notification-preferences`), a
//! channel's (`/channels/{id}/notification-preferences`), a workspace's default, thread
//! follows (`/messages/{id}/follow`) and push subscriptions (`/me/push-subscriptions`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use confab_chat::{
    ChannelPrefsUpdate, NotifyOverview, PrefsUpdate, PushSubscription, endpoint_host,
};
use confab_core::{ChannelId, MessageId, WorkspaceId};
use confab_protocol::http::ErrorResponse;
use confab_protocol::notify::{
    ChannelNotifyPrefsWire, FollowResponse, NotifyPrefsResponse, NotifyPrefsWire,
    PushSubscriptionRequest, PushSubscriptionResponse, PushSubscriptionWire,
    PushSubscriptionsResponse, UpdateChannelNotifyPrefsRequest, UpdateNotifyPrefsRequest,
    WorkspaceNotifyDefaultRequest, WorkspaceNotifyDefaultWire,
};

use crate::error::ApiResult;
use crate::extract::{AuthUser, Json};
use crate::state::ApiState;

fn overview(o: &NotifyOverview) -> NotifyPrefsResponse {
    NotifyPrefsResponse {
        preferences: NotifyPrefsWire::from(&o.prefs),
        channels: o
            .channels
            .iter()
            .map(|(id, p)| ChannelNotifyPrefsWire::new(id, p))
            .collect(),
        defaults: o
            .defaults
            .iter()
            .map(|(ws, level)| WorkspaceNotifyDefaultWire::new(ws, *level))
            .collect(),
    }
}

fn subscription(s: &PushSubscription) -> PushSubscriptionWire {
    PushSubscriptionWire {
        id: s.id.clone(),
        endpoint_host: endpoint_host(&s.endpoint),
        session_id: s.session_id.to_string(),
        created_at: s.created_at.to_rfc3339(),
    }
}

/// Your notification preferences, the channels you set apart, and your workspaces' defaults.
#[utoipa::path(get, operation_id = "get_notification_preferences", path = "/me/notification-preferences",
    responses((status = 200, body = NotifyPrefsResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_prefs(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<NotifyPrefsResponse>> {
    let o = state.chat.notification_overview(&user.id).await?;
    Ok(axum::Json(overview(&o)))
}

/// Change your notification preferences; what is absent stays. `snooze_minutes` snoozes
/// every notification for that long (0 resumes).
#[utoipa::path(put, operation_id = "put_notification_preferences", path = "/me/notification-preferences",
    request_body = UpdateNotifyPrefsRequest, responses((status = 200, body = NotifyPrefsResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn put_prefs(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<UpdateNotifyPrefsRequest>,
) -> ApiResult<axum::Json<NotifyPrefsResponse>> {
    let o = state
        .chat
        .update_notification_prefs(
            &user.id,
            PrefsUpdate {
                level: req.level.as_deref(),
                push: req.push,
                email: req.email,
                email_interval_minutes: req.email_interval_minutes,
                time_zone: req.time_zone.as_deref(),
                dnd: req
                    .dnd
                    .as_ref()
                    .map(|d| d.as_ref().map(|d| (d.start.as_str(), d.end.as_str()))),
                snooze_minutes: req.snooze_minutes,
            },
        )
        .await?;
    Ok(axum::Json(overview(&o)))
}

/// Your notification settings for one channel.
#[utoipa::path(get, operation_id = "get_channel_notification_preferences", path = "/channels/{id}/notification-preferences",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ChannelNotifyPrefsWire), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn get_channel_prefs(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelNotifyPrefsWire>> {
    let channel = ChannelId::parse(&id)?;
    let p = state
        .chat
        .channel_notification_prefs(&user.id, &channel)
        .await?;
    Ok(axum::Json(ChannelNotifyPrefsWire::new(&channel, &p)))
}

/// Change your notification settings for one channel: its level, muting it, ignoring its
/// `@channel` and `@here`.
#[utoipa::path(put, operation_id = "put_channel_notification_preferences", path = "/channels/{id}/notification-preferences",
    params(("id" = String, Path, format = Uuid)), request_body = UpdateChannelNotifyPrefsRequest, responses((status = 200, body = ChannelNotifyPrefsWire), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn put_channel_prefs(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<UpdateChannelNotifyPrefsRequest>,
) -> ApiResult<axum::Json<ChannelNotifyPrefsWire>> {
    let channel = ChannelId::parse(&id)?;
    let p = state
        .chat
        .update_channel_notification_prefs(
            &user.id,
            &channel,
            ChannelPrefsUpdate {
                level: req.level.as_deref(),
                muted: req.muted,
                ignore_channel_mentions: req.ignore_channel_mentions,
            },
        )
        .await?;
    Ok(axum::Json(ChannelNotifyPrefsWire::new(&channel, &p)))
}

/// Set the workspace's default notification level, for members who keep theirs at
/// `default` (admins and owners only).
#[utoipa::path(put, operation_id = "put_workspace_notification_default", path = "/workspaces/{id}/notification-defaults",
    params(("id" = String, Path, format = Uuid)), request_body = WorkspaceNotifyDefaultRequest, responses((status = 200, body = WorkspaceNotifyDefaultWire), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 403, body = ErrorResponse, description = "not allowed for this caller"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn put_workspace_default(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<WorkspaceNotifyDefaultRequest>,
) -> ApiResult<axum::Json<WorkspaceNotifyDefaultWire>> {
    let ws = WorkspaceId::parse(&id)?;
    let level = state
        .chat
        .set_workspace_notification_default(&user.id, &ws, &req.level)
        .await?;
    Ok(axum::Json(WorkspaceNotifyDefaultWire::new(&ws, level)))
}

/// Follow a thread (by its root or any reply): its replies notify you.
#[utoipa::path(put, operation_id = "follow_thread", path = "/messages/{id}/follow",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = FollowResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn follow(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FollowResponse>> {
    let following = state
        .chat
        .follow_thread(&user.id, &MessageId::parse(&id)?, true)
        .await?;
    Ok(axum::Json(FollowResponse { following }))
}

/// Stop following a thread, even one you started or replied in.
#[utoipa::path(delete, operation_id = "unfollow_thread", path = "/messages/{id}/follow",
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = FollowResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn unfollow(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FollowResponse>> {
    let following = state
        .chat
        .follow_thread(&user.id, &MessageId::parse(&id)?, false)
        .await?;
    Ok(axum::Json(FollowResponse { following }))
}

/// Your browsers registered for Web Push, and the key to subscribe with.
#[utoipa::path(get, operation_id = "list_push_subscriptions", path = "/me/push-subscriptions", responses((status = 200, body = PushSubscriptionsResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn list_push(
    State(state): State<ApiState>,
    user: AuthUser,
) -> ApiResult<axum::Json<PushSubscriptionsResponse>> {
    let (key, subs) = state.chat.push_subscriptions(&user.id).await?;
    Ok(axum::Json(PushSubscriptionsResponse {
        vapid_public_key: key,
        subscriptions: subs.iter().map(subscription).collect(),
    }))
}

/// Register this browser for Web Push (its `PushSubscription.toJSON()`): 201, or 200 when
/// the endpoint was registered already.
#[utoipa::path(post, operation_id = "add_push_subscription", path = "/me/push-subscriptions",
    request_body = PushSubscriptionRequest, responses((status = 201, body = PushSubscriptionResponse), (status = 200, body = PushSubscriptionResponse), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 413, body = ErrorResponse, description = "body too large"), (status = 415, body = ErrorResponse, description = "body is not JSON"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn add_push(
    State(state): State<ApiState>,
    user: AuthUser,
    Json(req): Json<PushSubscriptionRequest>,
) -> ApiResult<(StatusCode, axum::Json<PushSubscriptionResponse>)> {
    let (sub, created) = state
        .chat
        .add_push_subscription(
            &user.id,
            &user.session,
            &req.endpoint,
            &req.keys.p256dh,
            &req.keys.auth,
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(PushSubscriptionResponse {
            subscription: subscription(&sub),
        }),
    ))
}

/// Stop Web Push to one of your browsers.
#[utoipa::path(delete, operation_id = "remove_push_subscription", path = "/me/push-subscriptions/{id}",
    params(("id" = String, Path)), responses((status = 204, description = "removed"), (status = 400, body = ErrorResponse, description = "bad input: a malformed ID, body or query"), (status = 404, body = ErrorResponse, description = "not found, or not visible to the caller"), (status = 401, body = ErrorResponse, description = "missing, invalid, expired or revoked token"), (status = 429, body = ErrorResponse, description = "rate limited; see Retry-After"), (status = 500, body = ErrorResponse, description = "internal error"), (status = 503, body = ErrorResponse, description = "unavailable for now; see Retry-After")))]
pub async fn remove_push(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.chat.remove_push_subscription(&user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
