//! Operations and discovery: health, readiness, metrics, the OpenAPI document, invites and the
//! channel list shape.

use serde_json::{Value, json};

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Ended, Server, WAIT, Ws, s};

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let resp = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .expect("openapi");
    assert_eq!(resp.status().as_u16(), 200);
    let doc: Value = resp.json().await.expect("json");
    let paths = doc["paths"].as_object().expect("paths");

    // Every documented operation is routed: with placeholder IDs it may be refused, but never
    // with the router's own "no such route" or "method not allowed".
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let concrete = path
                .replace("{id}", "01900000-0000-7000-8000-000000000000")
                .replace("{user_id}", "01900000-0000-7000-8000-000000000001")
                .replace("{code}", "nope")
                .replace("{session_id}", "01900000-0000-7000-8000-000000000002")
                .replace("/api/v1", "");
            let (status, body) = server
                .request(
                    method.to_uppercase().parse().expect("method"),
                    Some(&alice.token),
                    &concrete,
                    None,
                )
                .await;
            let routed = !matches!(
                body["error"]["code"].as_str(),
                Some("not_found" | "method_not_allowed")
            ) && status != 405;
            assert!(
                routed,
                "{method} {path} is documented but not routed: {status} {body}"
            );
            operations += 1;
        }
    }
    // And SPEC §4's calls are all documented.
    for (method, path) in [
        ("post", "/api/v1/auth/register"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/workspaces"),
        ("post", "/api/v1/workspaces/{id}/members"),
        ("post", "/api/v1/workspaces/{id}/invites"),
        ("post", "/api/v1/invites/{code}/accept"),
        ("get", "/api/v1/workspaces/{id}/channels"),
        ("post", "/api/v1/workspaces/{id}/channels"),
        ("post", "/api/v1/channels/{id}/join"),
        ("post", "/api/v1/channels/{id}/leave"),
        ("post", "/api/v1/channels/{id}/members"),
        ("post", "/api/v1/workspaces/{id}/dms"),
        ("post", "/api/v1/channels/{id}/messages"),
        ("get", "/api/v1/channels/{id}/messages"),
        ("post", "/api/v1/ws/ticket"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert!(operations >= 17);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = Server::start().await;
    for path in ["/healthz", "/readyz"] {
        let resp = server
            .http
            .get(format!("{}{path}", server.root()))
            .send()
            .await
            .expect("probe");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;
    server.send(&alice, &general, "m1", "counted").await;
    ws.next_event_in(&general).await;
    let metrics = server.metrics().await;
    for name in [
        "confab_open_sockets 1",
        "confab_messages_sent_total 1",
        "confab_events_delivered_total",
        "confab_send_ack_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "missing {name} in:\n{metrics}");
    }
}

#[tokio::test]
async fn accounts_invites_and_the_channel_list() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[]).await;

    let (status, invite) = server
        .post(
            &alice.token,
            &format!("/workspaces/{ws}/invites"),
            json!({"max_uses": 1}),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let code = s(&invite["invite"]["code"]);
    // A body of JSON `null` is no body (the document allows it): the defaults. Integers may
    // be spelt as JSON Schema allows, `2.0` for 2.
    for (body, max_uses) in [(json!(null), 100), (json!({"max_uses": 2.0}), 2)] {
        let (status, other) = server
            .post(&alice.token, &format!("/workspaces/{ws}/invites"), body)
            .await;
        assert_eq!(
            (status, other["invite"]["max_uses"].as_i64()),
            (201, Some(max_uses)),
            "{other}"
        );
    }
    let (status, joined) = server
        .post(&bob.token, &format!("/invites/{code}/accept"), json!({}))
        .await;
    assert_eq!(
        (status, joined["workspace"]["id"].as_str()),
        (200, Some(ws.as_str()))
    );
    let carol = server.register("carol").await;
    let (status, body) = server
        .post(&carol.token, &format!("/invites/{code}/accept"), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("invite_expired"))
    );

    let (status, me) = server.get(&bob.token, "/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["workspaces"][0]["role"], "member");
    let (status, list) = server
        .get(&bob.token, &format!("/workspaces/{ws}/channels"))
        .await;
    assert_eq!(status, 200);
    let channel = &list["channels"][0];
    assert_eq!(channel["id"], general.as_str());
    for field in ["last_seq", "last_read_seq", "unread_count", "mention_count"] {
        assert!(channel[field].is_i64(), "{field} in {channel}");
    }
    assert_eq!(channel["is_member"], true);

    // Logout revokes the token.
    let (status, _) = server.post(&bob.token, "/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = server.get(&bob.token, "/me").await;
    assert_eq!(status, 401);
    let (status, body) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": "Bob", "password": "correct horse"})),
        )
        .await;
    assert_eq!(
        (status, body["user"]["id"].as_str()),
        (200, Some(bob.id.as_str()))
    );
}

/// When a gateway dies its clients reconnect to the others at once; past the accept backlog
/// their handshakes are dropped and retried seconds later. The listener's backlog, as the
/// kernel reports it (`ss`: a listener's Send-Q), is 4096 or the system's cap below that.
#[tokio::test]
async fn the_listener_backlog_holds_a_reconnect_storm() {
    let server = Server::start().await;
    let addr = server.addr();
    let port = addr.rsplit_once(':').expect("host:port").1;
    let out = std::process::Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("run ss (iproute2; scripts/services.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let backlog: u32 = text
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no listener on {addr} in ss output: {text:?}"));
    let cap: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .expect("somaxconn")
        .trim()
        .parse()
        .expect("a number");
    assert_eq!(backlog, 4096.min(cap));
}

/// A channel whose position the store cannot give (its row does not read) holds a new
/// socket before `hello` only until the gateway gives up; and a shutdown meanwhile closes the
/// socket with 1001 and exits, instead of waiting for that socket for ever.
#[tokio::test]
async fn a_socket_stuck_before_hello_does_not_hold_shutdown() {
    let mut server = Server::start().await;
    let alice = server.register("alice").await;
    let (ws, _) = server.workspace(&alice, &[]).await;
    let broken = server.channel(&alice, &ws, "broken", false, &[]).await;
    server.damage_channel(&broken).await;

    let mut request = server
        .ws_base
        .as_str()
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", alice.token).parse().expect("header"),
    );
    let (socket, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
        .expect("handshake");
    let mut stuck = Ws {
        inner: socket,
        hello: Value::Null,
    };
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    let (ended, frames) = stuck.until_closed(WAIT).await;
    assert!(
        frames.iter().all(|f| f["type"] != "hello"),
        "no hello for a socket whose channels are not ready: {frames:?}"
    );
    assert_eq!(ended, Ended::Close(Some(1001)));
}

/// Every answer says `nosniff` and `no-store`: those carrying tokens (sign-in, tickets) and
/// private data above all, errors and unknown paths too.
#[tokio::test]
async fn every_answer_forbids_sniffing_and_caching() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let requests = [
        server
            .http
            .post(format!("{}/auth/login", server.base))
            .json(&json!({"username": "alice", "password": "correct horse"})),
        server
            .http
            .post(format!("{}/ws/ticket", server.base))
            .bearer_auth(&alice.token),
        server
            .http
            .get(format!("{}/me", server.base))
            .bearer_auth(&alice.token),
        server.http.get(format!("{}/me", server.base)),
        server.http.get(format!("{}/no/such/route", server.base)),
        server.http.get(format!("{}/healthz", server.root())),
    ];
    for request in requests {
        let response = request.send().await.expect("request");
        let url = response.url().to_string();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{url}"
        );
        assert_eq!(
            header("cache-control").as_deref(),
            Some("no-store"),
            "{url}"
        );
    }
}

/// The OpenAPI document says what the server does: query parameters are query parameters,
/// every operation has its own ID, and bearer authentication is declared (and waived for
/// registration and sign-in).
#[tokio::test]
async fn the_openapi_document_says_what_the_server_does() {
    let server = Server::start().await;
    let doc: Value = server
        .http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let params = |path: &str, method: &str| -> Vec<(String, String)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|p| (s(&p["name"]), s(&p["in"])))
            .collect()
    };
    let messages = params("/api/v1/channels/{id}/messages", "get");
    for name in ["since", "before", "limit"] {
        assert!(
            messages.contains(&(name.to_owned(), "query".to_owned())),
            "{name}: {messages:?}"
        );
    }
    assert!(params("/api/v1/users/presence", "get").contains(&("ids".into(), "query".into())));
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = s(&operation["operationId"]);
            assert!(ids.insert(id.clone()), "operationId {id} twice");
            // Every operation says how it fails, with the error body's schema.
            let open = operation["security"] == json!([{}]);
            let mut statuses = vec!["400", "429", "500", "503"];
            if !open {
                statuses.push("401");
            }
            for status in statuses {
                let schema = &operation["responses"][status]["content"]["application/json"]["schema"]
                    ["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorResponse",
                    "{method} {path}: {status}"
                );
            }
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    // The limits the server enforces are in the schemas.
    let field =
        |schema: &str, name: &str| &doc["components"]["schemas"][schema]["properties"][name];
    assert_eq!(field("RegisterRequest", "username")["maxLength"], 32);
    assert!(field("RegisterRequest", "username")["pattern"].is_string());
    assert_eq!(field("RegisterRequest", "password")["minLength"], 8);
    assert_eq!(field("SendMessageRequest", "body")["maxLength"], 40_000);
    assert_eq!(
        field("SendMessageRequest", "client_msg_id")["maxLength"],
        64
    );
    assert_eq!(field("CreateChannelRequest", "name")["maxLength"], 80);
    // An invite may be created with no body at all (the defaults), and the document says so.
    assert_ne!(
        doc["paths"]["/api/v1/workspaces/{id}/invites"]["post"]["requestBody"]["required"],
        true
    );
    for open in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        assert_eq!(
            doc["paths"][open]["post"]["security"],
            json!([{}]),
            "{open}"
        );
    }
}

/// `/metrics` is nobody's business but the operator's: without `metrics_token` only this
/// machine reads it (a client forwarded by a trusted proxy is not on this machine); with it,
/// only a request bearing the token.
#[tokio::test]
async fn metrics_are_for_this_machine_or_the_token_bearer() {
    let get = |server: &Server, token: Option<&str>, forwarded: Option<&str>| {
        let mut request = server.http.get(format!("{}/metrics", server.root()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(addr) = forwarded {
            request = request.header("x-forwarded-for", addr);
        }
        async move { request.send().await.expect("request").status().as_u16() }
    };
    let local = Server::start_with(&["--trusted-proxies", "127.0.0.1"]).await;
    assert_eq!(get(&local, None, None).await, 200, "from this machine");
    assert_eq!(
        get(&local, None, Some("198.51.100.7")).await,
        404,
        "a client forwarded from elsewhere"
    );
    let behind_local_proxy = Server::start().await;
    assert_eq!(
        get(&behind_local_proxy, None, Some("198.51.100.7")).await,
        404,
        "a proxy on this machine forwarding someone else"
    );
    let guarded = Server::start_with(&["--metrics-token", "scrape-secret-0123"]).await;
    assert_eq!(
        get(&guarded, None, None).await,
        404,
        "the token is required"
    );
    assert_eq!(get(&guarded, Some("wrong-token"), None).await, 404);
    assert_eq!(get(&guarded, Some("scrape-secret-0123"), None).await, 200);
}
