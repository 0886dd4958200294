//! confab's HTTP API. [`router`] builds the `/api/v1` routes, `/healthz`, `/readyz`,
//! `/metrics` and `/api/v1/openapi.json`; handlers reach data only through the chat service.
//! The OpenAPI document is generated from the same route list the router is, so the two
//! cannot disagree.

pub mod browser;
pub mod client_addr;
mod content;
mod error;
pub mod extract;
mod routes;
pub mod state;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use confab_core::ErrorCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use client_addr::{ClientAddr, TrustedProxies};
pub use error::{ApiError, ApiResult};
pub use state::ApiState;

/// Largest JSON request body: a maximal message body (40,000 four-byte characters) fits.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "confab",
        description = "Self-hosted team chat: HTTP API. WebSocket frames are in docs/protocol.md."
    ),
    components(schemas(confab_protocol::http::ErrorResponse)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

/// Every call takes `Authorization: Bearer <token>` unless its own entry says otherwise
/// (registration and sign-in).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

fn api_routes() -> OpenApiRouter<ApiState> {
    use routes::{auth, channels, files, messages, notify, profile, search, workspaces};
    OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::browser_register))
        .routes(routes!(auth::browser_login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, profile::update_me))
        .routes(routes!(profile::list_drafts))
        .routes(routes!(
            profile::put_draft,
            profile::get_draft,
            profile::delete_draft
        ))
        .routes(routes!(auth::ws_ticket))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::reset_password))
        .routes(routes!(auth::deactivate_user))
        .routes(routes!(auth::sessions))
        .routes(routes!(auth::revoke_session))
        .routes(routes!(auth::revoke_other_sessions))
        .routes(routes!(workspaces::create_workspace))
        .routes(routes!(workspaces::add_member))
        .routes(routes!(workspaces::remove_member))
        .routes(routes!(workspaces::create_invite))
        .routes(routes!(workspaces::accept_invite))
        .routes(routes!(
            workspaces::list_channels,
            workspaces::create_channel
        ))
        .routes(routes!(workspaces::open_dm))
        .routes(routes!(workspaces::list_members))
        .routes(routes!(workspaces::get_user))
        .routes(routes!(channels::get_channel, channels::update_channel))
        .routes(routes!(channels::join))
        .routes(routes!(channels::leave))
        .routes(routes!(channels::add_member))
        .routes(routes!(channels::remove_member))
        .routes(routes!(messages::send, messages::list))
        .routes(routes!(
            messages::get_message,
            messages::edit_message,
            messages::delete_message
        ))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::thread))
        .routes(routes!(messages::mark_read))
        .routes(routes!(messages::sync))
        .routes(routes!(messages::presence))
        .routes(routes!(files::create_upload))
        .routes(routes!(files::get_file))
        .routes(routes!(files::complete_upload))
        .routes(routes!(files::channel_files))
        .routes(routes!(search::search))
        .routes(routes!(notify::get_prefs, notify::put_prefs))
        .routes(routes!(
            notify::get_channel_prefs,
            notify::put_channel_prefs
        ))
        .routes(routes!(notify::put_workspace_default))
        .routes(routes!(notify::follow, notify::unfollow))
        .routes(routes!(notify::list_push, notify::add_push))
        .routes(routes!(notify::remove_push))
}

/// The `/api/v1` router and its OpenAPI document, from one route list.
fn api() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api_routes())
        .split_for_parts()
}

/// The OpenAPI document of every `/api/v1` route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// The HTTP application. `extra` is merged in before the fallbacks (the gateway's `/api/v1/ws`).
pub fn router(state: ApiState, extra: Router) -> Router {
    let (api, doc) = api();
    let doc = std::sync::Arc::new(doc);
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { axum::Json(doc.as_ref().clone()) }),
    )
    .route("/healthz", get(|| async { "ok" }))
    .route("/readyz", get(readyz))
    .route("/metrics", get(metrics))
    .layer(axum::middleware::from_fn(to_completion))
    .layer(axum::middleware::from_fn_with_state(
        state.body_timeout,
        read_body_within,
    ))
    .with_state(state.clone())
    .merge(content::router(state))
    .merge(extra)
    .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such route") })
    .method_not_allowed_fallback(|| async {
        ApiError::new(
            ErrorCode::MethodNotAllowed,
            "method not allowed on this route",
        )
    })
    .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
    .layer(axum::middleware::map_response(api_headers))
}

/// Headers every answer carries: the browser must not guess a type other than the one sent
/// (`nosniff`), and nothing an API answers (tokens, tickets, private messages) may be kept by
/// a cache (`no-store`, unless the answer, a web client file, says otherwise).
pub async fn api_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The web client's files say their own (revalidate by ETag); nothing else may be kept.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Runs each API request on a task of its own: a client that hangs up mid-request no longer
/// cuts a write short between its commit and its publish (or anywhere else). The answer goes
/// nowhere, but what committed is published, as it is for a client that stayed.
async fn to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        // The runtime is stopping: try again (elsewhere).
        Err(e) if e.is_cancelled() => {
            ApiError::new(ErrorCode::Unavailable, "shutting down; retry").into_response()
        }
        Err(_) => ApiError::new(ErrorCode::Internal, "internal error").into_response(),
    }
}

/// Reads a request's whole body before anything handles it, within `timeout` and
/// `MAX_REQUEST_BYTES`: a client that sends its headers and then trickles (or never finishes)
/// its body gets 408 and its connection back, instead of holding a task and a file
/// descriptor for as long as it likes.
async fn read_body_within(
    State(timeout): State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_REQUEST_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                .await
        }
        Ok(Err(_)) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("request bodies are limited to {MAX_REQUEST_BYTES} bytes"),
        )
        .into_response(),
        Err(_) => ApiError::new(
            ErrorCode::RequestTimeout,
            "the request body did not arrive in time",
        )
        .into_response(),
    }
}

/// Ready when the store answers.
async fn readyz(State(state): State<ApiState>) -> impl IntoResponse {
    match state
        .chat
        .store()
        .user(&confab_core::UserId::generate())
        .await
    {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn metrics(
    State(state): State<ApiState>,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    serve_metrics(
        client,
        &headers,
        state.metrics_token.as_deref(),
        &*state.render_metrics,
    )
}

/// `/metrics` for whoever may read it: with `metrics_token` set, a request bearing it (from
/// anywhere: a scraper on another host); without, only a client on this machine, not
/// forwarded by a proxy. Everyone
/// else gets 404, as for a route that does not exist. What the counters say (how many
/// sockets, how many sends) is nobody else's business.
pub fn serve_metrics(
    client: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    token: Option<&str>,
    render: &(dyn Fn() -> String + Send + Sync),
) -> axum::response::Response {
    let allowed = match token {
        Some(token) => headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(confab_protocol::http::bearer_token)
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
        // A proxy on this machine makes every request loopback: one that says it forwards
        // for someone is not from here.
        None => {
            client.is_loopback()
                && !["x-forwarded-for", "forwarded", "x-real-ip"]
                    .iter()
                    .any(|h| headers.contains_key(*h))
        }
    };
    if !allowed {
        return ApiError::new(ErrorCode::NotFound, "no such route").into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        render(),
    )
        .into_response()
}

/// Equal, in time that does not depend on where they first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
