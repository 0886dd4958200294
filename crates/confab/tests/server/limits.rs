//! Bad input and limits: each gets its clear 4xx (or close code) and changes nothing.

use serde_json::{Value, json};

use crate::harness::{Server, s};

#[tokio::test]
async fn bad_http_inputs_get_their_status_and_code_and_write_nothing() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let outsider = server.register("outsider").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let (other_ws, _) = server.workspace(&outsider, &[]).await;
    let public = server.channel(&alice, &ws, "public", false, &[]).await;
    let send = format!("/channels/{general}/messages");
    let unknown = "01900000-0000-7000-8000-000000000000";
    let (status, before) = server
        .get(&alice.token, &format!("/channels/{general}"))
        .await;
    assert_eq!(status, 200);

    let raw =
        |method: &str, path: &str, token: Option<&str>, content_type: Option<&str>, body: &str| {
            let mut req = server.http.request(
                method.parse().expect("method"),
                format!("{}{}", server.base, path),
            );
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            req.body(body.to_owned())
        };
    let json_ct = Some("application/json");
    let a = Some(alice.token.as_str());
    let b = Some(bob.token.as_str());
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("malformed json", raw("POST", "/auth/register", None, json_ct, "{\"username\":"), 400, "invalid_json"),
        ("unknown field", raw("POST", "/auth/register", None, json_ct, r#"{"username":"zed","password":"12345678","admin":true}"#), 400, "invalid_request"),
        ("wrong type", raw("POST", "/auth/register", None, json_ct, r#"{"username":5,"password":"12345678"}"#), 400, "invalid_request"),
        ("no content type", raw("POST", "/auth/register", None, None, r#"{"username":"zed","password":"12345678"}"#), 415, "unsupported_media_type"),
        ("bad username", raw("POST", "/auth/register", None, json_ct, r#"{"username":"a b","password":"12345678"}"#), 400, "invalid_username"),
        ("short password", raw("POST", "/auth/register", None, json_ct, r#"{"username":"zed","password":"short"}"#), 400, "invalid_password"),
        ("bad email", raw("POST", "/auth/register", None, json_ct, r#"{"username":"zed","password":"12345678","email":"nope"}"#), 400, "invalid_email"),
        ("taken username", raw("POST", "/auth/register", None, json_ct, r#"{"username":"ALICE","password":"12345678"}"#), 409, "username_taken"),
        ("wrong password", raw("POST", "/auth/login", None, json_ct, r#"{"username":"alice","password":"wrong password"}"#), 401, "invalid_credentials"),
        ("unknown user", raw("POST", "/auth/login", None, json_ct, r#"{"username":"nobody","password":"whatever1"}"#), 401, "invalid_credentials"),
        ("no token", raw("GET", "/me", None, None, ""), 401, "unauthorized"),
        ("bad token", raw("GET", "/me", Some("not-a-token"), None, ""), 401, "unauthorized"),
        ("empty workspace name", raw("POST", "/workspaces", a, json_ct, r#"{"name":"  "}"#), 400, "invalid_workspace_name"),
        ("foreign workspace", raw("GET", &format!("/workspaces/{other_ws}/channels"), a, None, ""), 404, "workspace_not_found"),
        ("malformed workspace id", raw("GET", "/workspaces/xyz/channels", a, None, ""), 400, "invalid_id"),
        ("non-admin adds member", raw("POST", &format!("/workspaces/{ws}/members"), b, json_ct, &json!({"user_id": outsider.id}).to_string()), 403, "forbidden"),
        ("owner role", raw("POST", &format!("/workspaces/{ws}/members"), a, json_ct, &json!({"user_id": outsider.id, "role": "owner"}).to_string()), 400, "invalid_role"),
        ("already a member", raw("POST", &format!("/workspaces/{ws}/members"), a, json_ct, &json!({"user_id": bob.id}).to_string()), 409, "already_member"),
        ("bad channel name", raw("POST", &format!("/workspaces/{ws}/channels"), a, json_ct, r#"{"name":"Has Spaces"}"#), 400, "invalid_channel_name"),
        ("taken channel name", raw("POST", &format!("/workspaces/{ws}/channels"), a, json_ct, r#"{"name":"general"}"#), 409, "channel_name_taken"),
        ("too many dm members", raw("POST", &format!("/workspaces/{ws}/dms"), a, json_ct, &json!({"user_ids": (0..9).map(|i| format!("01900000-0000-7000-8000-00000000000{i}")).collect::<Vec<_>>()}).to_string()), 400, "invalid_members"),
        ("dm with outsider", raw("POST", &format!("/workspaces/{ws}/dms"), a, json_ct, &json!({"user_ids": [outsider.id]}).to_string()), 404, "user_not_found"),
        ("empty body", raw("POST", &send, a, json_ct, r#"{"client_msg_id":"e1","body":" \n "}"#), 400, "empty_body"),
        ("body over 40,000 characters", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e2", "body": "x".repeat(40_001)}).to_string()), 400, "body_too_long"),
        ("body over the encoded limit", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e3", "body": "😀".repeat(20_000)}).to_string()), 400, "body_too_long"),
        ("control characters", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e4", "body": "bell\u{7}"}).to_string()), 400, "invalid_body"),
        ("bad client_msg_id", raw("POST", &send, a, json_ct, r#"{"client_msg_id":"has space","body":"hi"}"#), 400, "invalid_client_msg_id"),
        ("missing client_msg_id", raw("POST", &send, a, json_ct, r#"{"body":"hi"}"#), 400, "invalid_request"),
        ("unknown channel", raw("POST", &format!("/channels/{unknown}/messages"), a, json_ct, r#"{"client_msg_id":"e5","body":"hi"}"#), 404, "channel_not_found"),
        ("malformed channel id", raw("POST", "/channels/nope/messages", a, json_ct, r#"{"client_msg_id":"e6","body":"hi"}"#), 400, "invalid_id"),
        ("unknown file", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e7", "body": "hi", "file_ids": [unknown]}).to_string()), 404, "file_not_found"),
        ("unknown thread root", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e8", "body": "hi", "thread_root_id": unknown}).to_string()), 400, "invalid_thread_root"),
        ("not in channel", raw("POST", &format!("/channels/{public}/messages"), b, json_ct, r#"{"client_msg_id":"e9","body":"hi"}"#), 403, "not_in_channel"),
        ("limit 0", raw("GET", &format!("{send}?limit=0"), a, None, ""), 400, "invalid_limit"),
        ("limit 201", raw("GET", &format!("{send}?since=0&limit=201"), a, None, ""), 400, "invalid_limit"),
        ("negative cursor", raw("GET", &format!("{send}?since=-1"), a, None, ""), 400, "invalid_cursor"),
        ("since and before", raw("GET", &format!("{send}?since=1&before=5"), a, None, ""), 400, "invalid_request"),
        ("non-numeric cursor", raw("GET", &format!("{send}?since=abc"), a, None, ""), 400, "invalid_request"),
        ("unknown query parameter", raw("GET", &format!("{send}?sincee=1"), a, None, ""), 400, "invalid_request"),
        ("oversized request", raw("POST", &send, a, json_ct, &json!({"client_msg_id": "e10", "body": "x".repeat(300_000)}).to_string()), 413, "payload_too_large"),
        ("no such route", raw("GET", "/nope", a, None, ""), 404, "not_found"),
        ("wrong method", raw("DELETE", "/me", a, None, ""), 405, "method_not_allowed"),
        ("unknown invite", raw("POST", "/invites/0000/accept", a, None, ""), 404, "invite_not_found"),
    ];
    for (name, request, want_status, want_code) in cases {
        let resp = tokio::time::timeout(crate::harness::WAIT, request.send())
            .await
            .expect("in time")
            .expect("request");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (want_status, Some(want_code)),
            "{name}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: a message"
        );
    }

    let (_, after) = server
        .get(&alice.token, &format!("/channels/{general}"))
        .await;
    assert_eq!(
        after["channel"]["last_seq"], before["channel"]["last_seq"],
        "no change took a sequence number"
    );
    let (messages, _) = server.catch_up(&alice, &general, 0, 200).await;
    assert!(messages.is_empty());
    let (status, _) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": "zed", "password": "12345678"})),
        )
        .await;
    assert_eq!(status, 401, "no refused registration created an account");
}

#[tokio::test]
async fn leaving_a_dm_is_refused() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;
    let (_, dm) = server
        .post(
            &alice.token,
            &format!("/workspaces/{ws}/dms"),
            json!({"user_ids": [bob.id]}),
        )
        .await;
    let dm = s(&dm["channel"]["id"]);
    let (status, body) = server
        .post(&alice.token, &format!("/channels/{dm}/leave"), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("cannot_leave_dm"))
    );
    let (status, body) = server
        .post(
            &alice.token,
            &format!("/channels/{dm}/members"),
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_allowed_for_dm"))
    );
}

#[tokio::test]
async fn send_and_login_rates_are_limited() {
    let server = Server::start_with(&[
        "--send-rate-per-sec",
        "1",
        "--send-rate-burst",
        "3",
        "--auth-rate-per-min",
        "1",
        "--auth-rate-burst",
        "4",
    ])
    .await;
    let alice = server.register("alice").await; // auth attempt 1
    let (_, general) = server.workspace(&alice, &[]).await;
    for i in 0..3 {
        server
            .send(&alice, &general, &format!("ok-{i}"), "within the burst")
            .await;
    }
    let resp = server
        .http
        .post(format!("{}/channels/{general}/messages", server.base))
        .bearer_auth(&alice.token)
        .json(&json!({"client_msg_id": "over", "body": "too fast"}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"]["code"],
        "rate_limited"
    );
    let mut ws = server.connect(&alice).await;
    ws.send_message(&general, "over-ws", "too fast").await;
    let err = ws.next_of("error").await;
    assert_eq!(
        (err["code"].as_str(), err["client_msg_id"].as_str()),
        (Some("rate_limited"), Some("over-ws"))
    );

    let login = json!({"username": "alice", "password": "wrong password"});
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            server
                .request(
                    reqwest::Method::POST,
                    None,
                    "/auth/login",
                    Some(login.clone()),
                )
                .await
                .0,
        );
    }
    assert_eq!(statuses, vec![401, 401, 401, 429]);
    let (messages, _) = server.catch_up(&alice, &general, 0, 200).await;
    assert_eq!(messages.len(), 3, "refused sends wrote nothing");
}

/// Each password hash takes 19 MiB. Hashed on the blocking pool, a burst of registrations left
/// that memory with the allocator, arena after arena (~1.5 GB after 200); now hashing has a
/// few threads of its own, each reusing its memory, and a burst waits for them.
#[tokio::test]
async fn a_burst_of_registrations_leaves_memory_bounded() {
    let server = Server::start().await;
    let before = server.rss_kib();
    let burst = (0..48).map(|i| {
        let server = &server;
        async move { server.register(&format!("burst{i}")).await }
    });
    let users = futures_util::future::join_all(burst).await;
    assert_eq!(users.len(), 48);
    let after = server.rss_kib();
    // One 19 MiB block per hashing thread (one per core, at most 8), and slack for the rest.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8)) as u64;
    assert!(
        after < before + threads * 20 * 1024 + 64 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}

/// A request body is a JSON object: an array is refused, even one serde could read into the
/// struct field by field (`["x", "hi"]` used to rename a channel and set its topic).
#[tokio::test]
async fn a_json_array_is_not_a_request_body() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (ws, _) = server.workspace(&alice, &[]).await;
    let dev = server.channel(&alice, &ws, "dev", false, &[]).await;
    let (status, body) = server
        .request(
            reqwest::Method::PATCH,
            Some(&alice.token),
            &format!("/channels/{dev}"),
            Some(json!(["renamed", "hi"])),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let (_, now) = server.get(&alice.token, &format!("/channels/{dev}")).await;
    assert_eq!(now["channel"]["name"], "dev");
    assert_eq!(now["channel"]["topic"], "");
}

/// Behind a listed proxy, the sign-in limit keys on the address the proxy forwards, so one
/// client's failures do not lock everyone behind the proxy out; without the setting the header
/// is ignored (anyone could write it).
#[tokio::test]
async fn sign_in_limits_key_on_the_forwarded_address_only_behind_a_trusted_proxy() {
    let attempt = |server: &Server, forwarded: &'static str| {
        let request = server
            .http
            .post(format!("{}/auth/login", server.base))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": "nobody", "password": "wrong password"}));
        async move { request.send().await.expect("request").status().as_u16() }
    };
    let limits = ["--auth-rate-per-min", "1", "--auth-rate-burst", "2"];
    let proxied =
        Server::start_with(&[&limits[..], &["--trusted-proxies", "127.0.0.1"]].concat()).await;
    assert_eq!(attempt(&proxied, "198.51.100.7").await, 401);
    assert_eq!(attempt(&proxied, "198.51.100.7").await, 401);
    assert_eq!(
        attempt(&proxied, "198.51.100.7").await,
        429,
        "that client is limited"
    );
    assert_eq!(
        attempt(&proxied, "198.51.100.8").await,
        401,
        "another client behind the proxy is not"
    );
    let direct = Server::start_with(&limits).await;
    for forwarded in ["198.51.100.7", "198.51.100.8"] {
        assert_eq!(attempt(&direct, forwarded).await, 401);
    }
    assert_eq!(
        attempt(&direct, "198.51.100.9").await,
        429,
        "an untrusted header does not buy a fresh bucket"
    );
}

/// Names cannot show nothing, reorder themselves or pass for another channel; message bodies
/// keep whatever the user typed.
#[tokio::test]
async fn names_cannot_be_blank_reordered_or_lookalikes_but_bodies_are_content() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (ws, general) = server.workspace(&alice, &[]).await;
    for (display_name, why) in [
        ("\u{200B}", "zero-width space"),
        ("\u{3164}", "Hangul filler"),
        ("\u{2800}", "braille blank"),
        ("\u{2060}\u{2060}", "word joiners"),
        ("\u{202E}nimda", "a right-to-left override"),
    ] {
        let (status, body) = server
            .request(
                reqwest::Method::POST,
                None,
                "/auth/register",
                Some(json!({"username": "mallory", "password": "correct horse", "display_name": display_name})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_display_name")),
            "{why}"
        );
    }
    let create = async |name: &str| {
        server
            .post(
                &alice.token,
                &format!("/workspaces/{ws}/channels"),
                json!({ "name": name }),
            )
            .await
    };
    let (status, body) = create("\u{3164}").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_channel_name"))
    );
    let (status, body) = create("g\u{0435}neral").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("channel_name_taken")),
        "a Cyrillic е beside #general: {body}"
    );
    let (status, created) = create("random").await;
    assert_eq!(status, 201);
    let random = s(&created["channel"]["id"]);
    let (status, body) = server
        .request(
            reqwest::Method::PATCH,
            Some(&alice.token),
            &format!("/channels/{random}"),
            Some(json!({"name": "gener\u{0430}l"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("channel_name_taken"))
    );
    let (status, _) = server
        .request(
            reqwest::Method::PATCH,
            Some(&alice.token),
            &format!("/channels/{random}"),
            Some(json!({"name": "random", "topic": "renamed to itself"})),
        )
        .await;
    assert_eq!(status, 200, "a channel does not collide with itself");
    let body = "\u{202E}reversed \u{200B} and invisible, as typed";
    let sent = server.send(&alice, &general, "content", body).await;
    assert_eq!(sent["body"], body);
}

/// Guessing one account's password from many addresses is slowed down per account (after
/// five failures each attempt must wait, doubling), while the owner's device that signed in
/// before still signs in at once, and their open session never notices.
#[tokio::test]
async fn guessing_an_account_slows_its_sign_ins_but_not_its_owner_s_device() {
    let server = Server::start_with(&["--trusted-proxies", "127.0.0.1"]).await;
    let alice = server.register("alice").await;
    let (status, first) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": "alice", "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, 200);
    let device = s(&first["device_token"]);
    let attempt = |password: &str, from: String, device: Option<&str>| {
        let mut body = json!({"username": "alice", "password": password});
        if let Some(device) = device {
            body["device_token"] = json!(device);
        }
        let request = server
            .http
            .post(format!("{}/auth/login", server.base))
            .header("x-forwarded-for", from)
            .json(&body);
        async move { request.send().await.expect("request").status().as_u16() }
    };
    // Each guess from an address of its own: the per-address limit never sees two.
    for i in 0..6 {
        assert_eq!(
            attempt("wrong guess", format!("198.51.100.{i}"), None).await,
            401
        );
    }
    assert_eq!(
        attempt("wrong guess", "198.51.100.50".into(), None).await,
        429,
        "the account is slowed down, whatever the address"
    );
    assert_eq!(
        attempt("correct horse", "198.51.100.51".into(), None).await,
        429,
        "even the right password waits, from a device never seen"
    );
    assert_eq!(
        attempt("correct horse", "198.51.100.52".into(), Some(&device)).await,
        200,
        "the owner's device signs in"
    );
    assert_eq!(
        server.get(&alice.token, "/me").await.0,
        200,
        "a held session never noticed"
    );
}
