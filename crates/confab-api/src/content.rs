//! File bytes on confab's own signed URLs: `PUT /api/v1/files/{id}/content` receives an
//! upload (local storage), `GET …/content` and `GET …/thumbnail` serve a file or its preview.
//! These stream: they sit outside the layer that reads every API body whole, and bound a
//! slow client by the time between chunks and the upload URL's lifetime instead.
//!
//! Every download is served so a browser can never run it: the type is the sniffed one, only
//! raster images and PDF are `inline` (everything else, SVG and HTML included, is an
//! `attachment` of type `application/octet-stream`), with `nosniff`, a sandboxing CSP and
//! `Cross-Origin-Resource-Policy: same-origin`, and the name only in `Content-Disposition`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use confab_chat::{Reader, Variant};
use confab_core::ErrorCode;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AuthUser, Query};
use crate::state::ApiState;

#[derive(Deserialize)]
struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
    user: Option<String>,
}

/// The routes, with state; merged beside the API's own.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/api/v1/files/{id}/content",
            get(|s, p, q, r| download(s, p, q, r, Variant::Content)).put(upload),
        )
        .route(
            "/api/v1/files/{id}/thumbnail",
            get(|s, p, q, r| download(s, p, q, r, Variant::Thumbnail)),
        )
        .with_state(state)
}

fn bad_signature() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidSignature,
        "the URL's signature is missing or wrong",
    )
}

async fn upload(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
    request: Request,
) -> ApiResult<Response> {
    let (Some(expires), Some(signature)) = (q.expires, q.signature.as_deref()) else {
        return Err(bad_signature());
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let idle = state.body_timeout;
    let deadline = tokio::time::Instant::now() + state.upload_time_limit;
    // Each chunk must come within the body timeout, and the whole body within the limit: a
    // client trickling bytes cannot hold the connection for ever.
    let body = request.into_body().into_data_stream();
    let body = futures_util::stream::unfold(body, move |mut body| async move {
        let next = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + idle),
            body.next(),
        )
        .await;
        match next {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), body)),
            // A body the client broke off or mis-framed: its fault, not the disk's.
            Ok(Some(Err(e))) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    e,
                )),
                body,
            )),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the upload stalled",
                )),
                body,
            )),
        }
    });
    // On a task of its own, as every API request is: a client that hangs up mid-body ends the
    // body with an error, and the upload is put back (its URL usable again) instead of being
    // dropped half-way through.
    let chat = state.chat.clone();
    let signature = signature.to_owned();
    let file = tokio::spawn(async move {
        chat.receive_upload(&id, expires, &signature, declared, Box::pin(body))
            .await
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::Unavailable, "shutting down; retry"))??;
    Ok((
        StatusCode::OK,
        axum::Json(confab_protocol::files::UploadedResponse {
            file: (&file).into(),
        }),
    )
        .into_response())
}

async fn download(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
    request: Request,
    variant: Variant,
) -> ApiResult<Response> {
    // A signed URL, or else the web client's session (its `<img>`s carry the cookie).
    let session;
    let reader = match (q.expires, q.signature.as_deref(), q.user.as_deref()) {
        (Some(expires), Some(signature), Some(user)) => Reader::Signed {
            user,
            expires,
            signature,
        },
        (None, None, None) => {
            let (mut parts, _) = request.into_parts();
            session = <AuthUser as axum::extract::FromRequestParts<ApiState>>::from_request_parts(
                &mut parts, &state,
            )
            .await?;
            Reader::Session(&session.id)
        }
        _ => return Err(bad_signature()),
    };
    let download = state.chat.open_download(reader, &id, variant).await?;
    let name = match variant {
        Variant::Content => download.file.info.filename.clone(),
        Variant::Thumbnail => format!("thumbnail-{}", download.file.info.filename),
    };
    let mut response = Response::new(Body::from_stream(download.body));
    let headers = response.headers_mut();
    let value =
        |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("attachment"));
    headers.insert(header::CONTENT_TYPE, value(&download.content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        value(&confab_core::files::content_disposition(
            &name,
            download.inline,
        )),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    // A file's bytes never change; whoever could read them may keep them a while.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}
