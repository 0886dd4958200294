//! The web client as confab serves it: its pages and files with their security headers and
//! cache validators, and browser sessions (an `HttpOnly` cookie, usable only from the
//! server's own pages).

use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use crate::harness::Server;

async fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let mut req = server.http.get(format!("{}{path}", server.root()));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_web_client_is_served_with_strict_headers_and_validators() {
    let server = Server::start().await;
    let (status, headers, page) = get(&server, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(
        page.contains(r#"<script type="module" src="/static/app.js">"#),
        "{page}"
    );
    let csp = header(&headers, "content-security-policy");
    for part in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "default-src 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    for weak in ["unsafe-inline", "unsafe-eval"] {
        assert!(!csp.contains(weak), "{csp}");
    }
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let etag = header(&headers, "etag").to_owned();
    assert!(etag.starts_with('"'), "an ETag: {etag:?}");
    let (status, _, body) = get(&server, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(
        (status, body.as_str()),
        (304, ""),
        "unchanged: not sent again"
    );

    // Deep links load the app.
    for link in ["/w/w1/c/c1", "/w/w1/c/c1/t/m1", "/invite/abc", "/login"] {
        let (status, _, body) = get(&server, link, &[]).await;
        assert_eq!((status, body == page), (200, true), "{link}");
    }
    // Its files, typed.
    for (file, kind) in [
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/static/vendor/preact.js", "text/javascript"),
    ] {
        let (status, headers, _) = get(&server, file, &[]).await;
        assert_eq!(status, 200, "{file}");
        assert!(header(&headers, "content-type").starts_with(kind), "{file}");
        assert!(!header(&headers, "etag").is_empty(), "{file}");
    }
    // Only the page's files: not type declarations, nor the checks' packages beside them.
    for path in [
        "/static/nothing.js",
        "/static/vendor/preact.d.ts",
        "/static/../package.json",
    ] {
        let (status, _, _) = get(&server, path, &[]).await;
        assert_eq!(status, 404, "{path}");
    }
    // Unknown API paths (and other paths) keep the API's JSON 404, never the app.
    for path in ["/api/v1/nothing", "/api/v1/w/x", "/nothing"] {
        let (status, headers, body) = get(&server, path, &[]).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            header(&headers, "content-type").starts_with("application/json"),
            "{path}"
        );
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

/// A browser's sign-in: the session is in a cookie a script cannot read, never in the body.
struct Browser {
    cookie: String,
    set_cookie: Vec<String>,
    body: Value,
}

async fn browser_sign_in(server: &Server, path: &str, username: &str) -> (u16, Browser) {
    let resp = server
        .http
        .post(format!("{}/api/v1/auth/browser/{path}", server.root()))
        .json(&json!({"username": username, "password": "correct horse"}))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let set_cookie: Vec<String> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let cookie = set_cookie
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let body = resp.json().await.unwrap_or(Value::Null);
    (
        status,
        Browser {
            cookie,
            set_cookie,
            body,
        },
    )
}

async fn with_cookie(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    origin: Option<&str>,
    body: Option<Value>,
) -> (u16, HeaderMap, Value) {
    let mut req = server
        .http
        .request(method, format!("{}/api/v1{path}", server.root()))
        .header(header::COOKIE, cookie);
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn browser_sessions_live_in_an_httponly_cookie_usable_only_from_the_server_s_pages() {
    let server = Server::start().await;
    let own = server.root();
    let (status, ada) = browser_sign_in(&server, "register", "ada").await;
    assert_eq!(status, 201, "{}", ada.body);
    assert_eq!(ada.body["user"]["username"], "ada");
    assert!(
        ada.body.get("token").is_none(),
        "no token in the body: {}",
        ada.body
    );
    let session = ada
        .set_cookie
        .iter()
        .find(|c| c.starts_with("confab_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(!session.contains("Secure"), "plain http: {session}");
    assert!(
        session.contains(&format!("Max-Age={}", 90 * 86_400)),
        "as long as a session may live (session_lifetime_days): {session}"
    );
    assert!(
        ada.set_cookie
            .iter()
            .any(|c| c.starts_with("confab_device="))
    );

    // Reading needs no Origin; changing needs the server's own.
    let (status, _, me) = with_cookie(
        &server,
        reqwest::Method::GET,
        "/me",
        &ada.cookie,
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, me["user"]["username"].as_str()),
        (200, Some("ada"))
    );
    let create = || Some(json!({"name": "Acme"}));
    for origin in [None, Some("http://evil.test"), Some("https://127.0.0.1")] {
        let (status, _, body) = with_cookie(
            &server,
            reqwest::Method::POST,
            "/workspaces",
            &ada.cookie,
            origin,
            create(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{origin:?}"
        );
    }
    let (status, _, _) = with_cookie(
        &server,
        reqwest::Method::POST,
        "/workspaces",
        &ada.cookie,
        Some(&own),
        create(),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, ticket) = with_cookie(
        &server,
        reqwest::Method::POST,
        "/ws/ticket",
        &ada.cookie,
        Some(&own),
        None,
    )
    .await;
    assert_eq!(status, 200, "{ticket}");

    // A bearer token is not a cookie: API clients need no Origin.
    let bo = server.register("bo").await;
    let (status, _) = server
        .post(&bo.token, "/workspaces", json!({"name": "Bo's"}))
        .await;
    assert_eq!(status, 201);

    // Signing out clears the cookie and ends the session.
    let (status, headers, _) = with_cookie(
        &server,
        reqwest::Method::POST,
        "/auth/logout",
        &ada.cookie,
        Some(&own),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let cleared = header(&headers, "set-cookie");
    assert!(
        cleared.starts_with("confab_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let (status, _, _) = with_cookie(
        &server,
        reqwest::Method::GET,
        "/me",
        &ada.cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Signing in again, the device cookie comes back along.
    let (status, again) = browser_sign_in(&server, "login", "ada").await;
    assert_eq!(status, 200, "{}", again.body);
    assert!(again.body.get("token").is_none());
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_only_the_public_origin_may_use_it() {
    let server = Server::start_with(&["--public-url", "https://chat.example.test"]).await;
    let (status, ada) = browser_sign_in(&server, "register", "ada").await;
    assert_eq!(status, 201);
    assert!(
        ada.set_cookie.iter().all(|c| c.contains("; Secure")),
        "{:?}",
        ada.set_cookie
    );
    let create = || Some(json!({"name": "Acme"}));
    let (status, _, _) = with_cookie(
        &server,
        reqwest::Method::POST,
        "/workspaces",
        &ada.cookie,
        Some(&server.root()),
        create(),
    )
    .await;
    assert_eq!(
        status, 403,
        "the address it listens on is not its public origin"
    );
    let (status, _, _) = with_cookie(
        &server,
        reqwest::Method::POST,
        "/workspaces",
        &ada.cookie,
        Some("https://chat.example.test"),
        create(),
    )
    .await;
    assert_eq!(status, 201);
}
