//! The web client, served by confab itself: its files (`web/`, embedded in release builds and
//! read from disk in debug ones) and the routes that serve them. Client routes (`/`,
//! `/w/…`, `/invite/…`, `/settings/…`, `/login`) load the app's `index.html`; `/static/…` are
//! its files; `/sw.js` is its service worker, at the root so that its scope is the whole
//! origin (a worker's scope can be no wider than its own path without a
//! `Service-Worker-Allowed` header); nothing here answers under `/api/`, so an unknown API
//! path keeps the API's JSON 404.
//!
//! Every answer carries a strict Content-Security-Policy (no inline script, no `eval`, no
//! framing), `nosniff` and `Referrer-Policy: no-referrer`, and an ETag from the file's hash
//! with `Cache-Control: no-cache`, so a browser revalidates and a new release is never served
//! from a stale cache.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

/// The page and its files only: not the checks' packages and tests beside them in `web/`,
/// nor the type declarations that serve only `tsc`.
#[derive(RustEmbed)]
#[folder = "web/"]
#[include = "index.html"]
#[include = "static/**"]
#[exclude = "**/*.d.ts"]
struct Files;

/// The page's policy: scripts, styles and connections only from confab itself (the
/// WebSocket included), images also as `data:`/`blob:` URLs, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The client's routes.
pub fn router() -> Router {
    router_uploading_to(None)
}

/// The client's routes, its pages also allowed to `PUT` uploads straight to `upload_origin`
/// (an S3 bucket's `scheme://host[:port]`), which `connect-src 'self'` alone would block.
pub fn router_uploading_to(upload_origin: Option<&str>) -> Router {
    let policy = match upload_origin {
        Some(origin) if origin.bytes().all(|b| b.is_ascii_graphic() && b != b';') => {
            CONTENT_SECURITY_POLICY.replace(
                "connect-src 'self'",
                &format!("connect-src 'self' {origin}"),
            )
        }
        _ => CONTENT_SECURITY_POLICY.to_owned(),
    };
    let policy =
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    let page = {
        let policy = policy.clone();
        move |headers: HeaderMap| {
            let policy = policy.clone();
            async move { serve("index.html", &headers, policy) }
        }
    };
    let worker = {
        let policy = policy.clone();
        move |headers: HeaderMap| {
            let policy = policy.clone();
            async move { serve("static/sw.js", &headers, policy) }
        }
    };
    let asset = move |Path(path): Path<String>, headers: HeaderMap| {
        let policy = policy.clone();
        async move { serve(&format!("static/{path}"), &headers, policy) }
    };
    Router::new()
        .route("/", get(page.clone()))
        .route("/login", get(page.clone()))
        .route("/w/{*path}", get(page.clone()))
        .route("/invite/{code}", get(page.clone()))
        .route("/settings/{*path}", get(page))
        .route("/sw.js", get(worker))
        .route("/static/{*path}", get(asset))
}

fn serve(path: &str, request: &HeaderMap, policy: HeaderValue) -> Response {
    let Some(file) = Files::get(path) else {
        return with_policy(StatusCode::NOT_FOUND.into_response(), policy);
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(path))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_policy(response, policy)
}

fn with_policy(mut response: Response, policy: HeaderValue) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The types the client's files have; anything else is served as bytes.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_has_its_type() {
        assert_eq!(
            super::content_type("index.html"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            super::content_type("static/app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(super::content_type("static/x"), "application/octet-stream");
    }

    /// The status and content type `path` is answered with.
    async fn answer(path: &str) -> (axum::http::StatusCode, String) {
        use tower_service::Service;
        let mut router = super::router();
        let request = axum::http::Request::get(path).body(axum::body::Body::empty());
        let response = router
            .call(request.expect("request"))
            .await
            .expect("answer");
        let kind = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (response.status(), kind)
    }

    #[tokio::test]
    async fn the_service_worker_is_served_at_the_root_and_settings_load_the_page() {
        let js = "text/javascript; charset=utf-8".to_owned();
        let page = "text/html; charset=utf-8".to_owned();
        assert_eq!(answer("/sw.js").await, (axum::http::StatusCode::OK, js));
        assert_eq!(
            answer("/settings/notifications").await,
            (axum::http::StatusCode::OK, page)
        );
        assert_eq!(
            answer("/nowhere").await.0,
            axum::http::StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn pages_may_upload_to_the_bucket_and_nowhere_else() {
        use tower_service::Service;
        let policy = |router: axum::Router| async move {
            let mut router = router;
            let request = axum::http::Request::get("/").body(axum::body::Body::empty());
            let response = router
                .call(request.expect("request"))
                .await
                .expect("answer");
            response.headers()[axum::http::header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap_or_default()
                .to_owned()
        };
        let plain = policy(super::router()).await;
        assert!(plain.contains("connect-src 'self';"), "{plain}");
        let s3 = policy(super::router_uploading_to(Some(
            "https://s3.eu-west-1.amazonaws.com",
        )))
        .await;
        assert!(
            s3.contains("connect-src 'self' https://s3.eu-west-1.amazonaws.com;"),
            "{s3}"
        );
        let hostile = policy(super::router_uploading_to(Some("https://x; script-src *"))).await;
        assert_eq!(hostile, plain, "nothing that could add a directive");
    }
}
