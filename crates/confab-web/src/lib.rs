//! The web client, served by confab itself: its files (`web/`, embedded in release builds and
//! read from disk in debug ones) and the routes that serve them. Client routes (`/`,
//! `/w/…`, `/invite/…`, `/login`) load the app's `index.html`; `/static/…` are its files;
//! nothing here answers under `/api/`, so an unknown API path keeps the API's JSON 404.
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
    Router::new()
        .route("/", get(app))
        .route("/login", get(app))
        .route("/w/{*path}", get(app))
        .route("/invite/{code}", get(app))
        .route("/static/{*path}", get(asset))
}

async fn app(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("static/{path}"), &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(file) = Files::get(path) else {
        return with_policy(StatusCode::NOT_FOUND.into_response());
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
    with_policy(response)
}

fn with_policy(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
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
}
