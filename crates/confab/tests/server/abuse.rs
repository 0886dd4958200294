//! One member must not be able to hurt the others: every attack found against the server
//! (frames grown past what a socket can write, reaction and mention floods, creation and
//! presence floods, one user taking every socket, connections that never finish a request)
//! and that each is now refused or bounded.

use std::time::Duration;

use confab_core::Limits;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Server, User, WAIT, Ws, s};

/// A 66-byte short code, the longest emoji accepted.
fn long_emoji(i: usize) -> String {
    format!(":{}{i:02}:", "x".repeat(62))
}

async fn react(server: &Server, user: &User, message: &str, emoji: &str) -> (u16, Value) {
    server
        .request(
            reqwest::Method::PUT,
            Some(&user.token),
            &format!("/messages/{message}/reactions/{emoji}"),
            None,
        )
        .await
}

/// The next text frame of `channel`'s events, raw, for its size.
async fn next_raw_event(ws: &mut Ws, channel: &str) -> (usize, Value) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.inner.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json");
            if v["type"] == "event" && v["channel_id"] == channel {
                return (t.len(), v);
            }
        }
    }
}

/// The largest event the limits allow (a reply at the body and mention limits, carrying a root
/// at the body limit with every distinct emoji reacted by more users than are named, and more
/// repliers than are named) reaches every socket, is no larger than the derived bound, and is
/// larger than the write buffer sockets used to have (four frames), which closed them all.
#[tokio::test]
async fn the_largest_possible_event_reaches_every_socket() {
    let limits = Limits {
        max_reactions_per_message: 12,
        max_mentions_per_message: 5,
        ..Limits::for_frame_limit(40_000, 4096)
    };
    let server = Server::start_with(&[
        "--max-frame-bytes",
        "4096",
        "--max-reactions-per-message",
        "12",
        "--max-mentions-per-message",
        "5",
    ])
    .await;
    let alice = server.register("alice").await;
    let mut people = Vec::new();
    for i in 0..22 {
        people.push(server.register(&format!("p{i:02}")).await);
    }
    let refs: Vec<&User> = people.iter().collect();
    let (ws_id, general) = server.workspace(&alice, &refs).await;
    // Ten files on each message, each under the longest name (255 four-byte characters).
    let name = "😀".repeat(255);
    let files_of = |user: &User| {
        let (server, ws_id, name) = (&server, &ws_id, &name);
        let user = user.clone();
        async move {
            let mut ids = Vec::new();
            for _ in 0..confab_core::files::MAX_FILES_PER_MESSAGE {
                ids.push(
                    crate::files::upload(server, &user, ws_id, name, crate::files::pattern(10))
                        .await,
                );
            }
            ids
        }
    };
    let root_files = files_of(&alice).await;
    let reply_files = files_of(&people[13]).await;
    let mut sockets = vec![
        server.connect(&alice).await,
        server.connect(&people[0]).await,
        server.connect(&people[21]).await,
    ];
    let mentions: String = (0..6).map(|i| format!("@p{i:02} ")).collect();
    // A body exactly at the byte limit, counted as JSON (a `"` takes two bytes).
    let body = |fill: char| {
        let json_len = |b: &str| b.len() + b.matches('"').count();
        let mut b = mentions.clone();
        while json_len(&b) + json_len(&fill.to_string()) <= limits.max_body_bytes {
            b.push(fill);
        }
        b
    };
    let (status, root) = server
        .post(
            &alice.token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "root", "body": body('r'), "file_ids": root_files}),
        )
        .await;
    assert_eq!(status, 201, "{root}");
    let root = root["message"].clone();
    let root_id = s(&root["id"]);
    for e in 0..limits.max_reactions_per_message {
        for person in &people {
            let (status, resp) = react(&server, person, &root_id, &long_emoji(e)).await;
            assert_eq!(status, 200, "{resp}");
        }
    }
    for (i, person) in people.iter().enumerate().take(12) {
        let (status, resp) = server
            .post(
                &person.token,
                &format!("/channels/{general}/messages"),
                json!({"client_msg_id": format!("r{i}"), "body": body('x'), "thread_root_id": root_id}),
            )
            .await;
        assert_eq!(status, 201, "{resp}");
    }
    // Catch every socket up to now, then the event at the bound.
    let last = server.send(&people[12], &general, "last", "marker").await;
    for ws in &mut sockets {
        loop {
            let (_, e) = next_raw_event(ws, &general).await;
            if e["seq"] == last["seq"] {
                break;
            }
        }
    }
    let (status, reply) = server
        .post(
            &people[13].token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "big", "body": body('"'), "thread_root_id": root_id, "file_ids": reply_files}),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    for ws in &mut sockets {
        let (size, event) = next_raw_event(ws, &general).await;
        assert_eq!(event["message"]["id"], reply["message"]["id"]);
        let root = &event["root"];
        assert_eq!(
            root["reactions"].as_array().map(Vec::len),
            Some(limits.max_reactions_per_message)
        );
        assert_eq!(root["reactions"][0]["count"], people.len());
        assert_eq!(
            root["reactions"][0]["user_ids"].as_array().map(Vec::len),
            Some(20)
        );
        assert_eq!(root["reply_users"].as_array().map(Vec::len), Some(10));
        for m in [root, &event["message"]] {
            assert_eq!(m["files"].as_array().map(Vec::len), Some(10));
        }
        assert_eq!(
            event["message"]["mentions"]["user_ids"]
                .as_array()
                .map(Vec::len),
            Some(5),
            "names past the cap stay text"
        );
        assert!(
            size <= limits.max_event_frame_bytes(),
            "a {size}-byte frame exceeds the derived bound {}",
            limits.max_event_frame_bytes()
        );
        assert!(
            size > 4 * 4096,
            "the frame ({size} bytes) is past the old write buffer"
        );
    }
    // And every socket is still open.
    let after = server.send(&alice, &general, "after", "still here").await;
    for ws in &mut sockets {
        let (_, e) = next_raw_event(ws, &general).await;
        assert_eq!(e["seq"], after["seq"]);
    }
}

#[tokio::test]
async fn reactions_are_capped_and_changes_are_rate_limited() {
    let server = Server::start_with(&[
        "--max-reactions-per-message",
        "3",
        "--change-rate-per-sec",
        "1",
        "--change-rate-burst",
        "6",
    ])
    .await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let m = server.send(&alice, &general, "m", "react to me").await;
    let id = s(&m["id"]);
    for emoji in [":a:", ":b:", ":c:"] {
        assert_eq!(react(&server, &alice, &id, emoji).await.0, 200);
    }
    let (status, body) = react(&server, &alice, &id, ":d:").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("too_many_reactions"))
    );
    let (_, now) = server
        .get(&alice.token, &format!("/channels/{general}"))
        .await;
    let seq_before = now["channel"]["last_seq"].clone();
    // Two more changes use up the burst (the refused one counted too).
    let edit = async |body: &str| {
        server
            .request(
                reqwest::Method::PATCH,
                Some(&alice.token),
                &format!("/messages/{id}"),
                Some(json!({ "body": body })),
            )
            .await
    };
    assert_eq!(edit("edited").await.0, 200);
    assert_eq!(
        react(&server, &alice, &id, ":a:").await.0,
        200,
        "already so"
    );
    for (what, (status, body)) in [
        ("edit", edit("again").await),
        ("reaction", react(&server, &alice, &id, ":b:").await),
        (
            "delete",
            server
                .request(
                    reqwest::Method::DELETE,
                    Some(&alice.token),
                    &format!("/messages/{id}"),
                    None,
                )
                .await,
        ),
    ] {
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (429, Some("rate_limited")),
            "{what}"
        );
    }
    let (_, now) = server
        .get(&alice.token, &format!("/channels/{general}"))
        .await;
    assert_eq!(
        now["channel"]["last_seq"].as_i64(),
        seq_before.as_i64().map(|s| s + 1),
        "only the allowed edit took a sequence number"
    );
}

#[tokio::test]
async fn creating_channels_dms_and_invites_is_rate_limited() {
    // A burst of 4: the invite `workspace` makes for bob, then two channels and a DM.
    let server =
        Server::start_with(&["--create-rate-per-min", "1", "--create-rate-burst", "4"]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;
    let create = async |name: &str| {
        server
            .post(
                &alice.token,
                &format!("/workspaces/{ws}/channels"),
                json!({ "name": name }),
            )
            .await
    };
    assert_eq!(create("one").await.0, 201);
    assert_eq!(create("two").await.0, 201);
    let (status, _) = server
        .post(
            &alice.token,
            &format!("/workspaces/{ws}/dms"),
            json!({"user_ids": [bob.id]}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}");
    for (what, (status, body)) in [
        ("channel", create("three").await),
        (
            "dm",
            server
                .post(
                    &alice.token,
                    &format!("/workspaces/{ws}/dms"),
                    json!({"user_ids": [bob.id]}),
                )
                .await,
        ),
        (
            "invite",
            server
                .post(
                    &alice.token,
                    &format!("/workspaces/{ws}/invites"),
                    json!({}),
                )
                .await,
        ),
    ] {
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (429, Some("rate_limited")),
            "{what}"
        );
    }
    assert_eq!(
        server
            .post(
                &bob.token,
                &format!("/workspaces/{ws}/channels"),
                json!({"name": "bobs"}),
            )
            .await
            .0,
        201,
        "others are not affected"
    );
}

/// A flood of presence subscriptions is refused past its rate instead of answering each with
/// hundreds of statuses; a flood of typing frames from someone outside the channel is dropped
/// before any database read (so it earns one refusal, not one per frame).
#[tokio::test]
async fn presence_and_typing_floods_are_bounded() {
    let server =
        Server::start_with(&["--presence-rate-per-min", "1", "--presence-rate-burst", "2"]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let outsider = server.register("outsider").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    server.workspace(&outsider, &[]).await;
    let mut ws = server.connect(&alice).await;
    for _ in 0..2 {
        ws.send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
            .await;
        assert_eq!(ws.next_of("presence").await["user_id"], bob.id.as_str());
    }
    ws.send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
        .await;
    assert_eq!(ws.next_of("error").await["code"], "rate_limited");

    let mut intruder = server.connect(&outsider).await;
    for _ in 0..20 {
        intruder
            .send_json(json!({"type": "typing", "channel_id": general}))
            .await;
    }
    // A send the intruder cannot make marks the end of what the typing frames produced.
    intruder.send_message(&general, "marker", "hello?").await;
    let mut errors = Vec::new();
    loop {
        let frame = intruder.next_of("error").await;
        if frame["client_msg_id"] == "marker" {
            break;
        }
        errors.push(frame);
    }
    assert_eq!(errors.len(), 1, "one refusal for the flood: {errors:?}");
}

#[tokio::test]
async fn one_user_cannot_take_every_socket() {
    let server = Server::start_with(&["--max-sockets-per-user", "2"]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    server.workspace(&alice, &[&bob]).await;
    let first = server.connect(&alice).await;
    let _second = server.connect(&alice).await;
    match Ws::connect(&server.ws_base, Some(&alice.token), &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
            let body: Value =
                serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).expect("json");
            assert_eq!(body["error"]["code"], "too_many_sockets");
        }
        other => panic!(
            "a third socket must be refused: {:?}",
            other.map(|w| w.hello)
        ),
    }
    server.connect(&bob).await;
    drop(first);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match Ws::connect(&server.ws_base, Some(&alice.token), &[]).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("the closed socket's slot never came back: {e}"),
        }
    }
}

/// Reads until the server closes the connection; what it sent before.
async fn until_eof(tcp: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("the server closed the connection in time")
            .unwrap_or(0);
        if n == 0 {
            return got;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// A connection that never finishes its headers (slowloris) and one left idle after a
/// response are both closed after the header timeout, and one that never finishes its body
/// gets 408, rather than any of them being held for ever.
#[tokio::test]
async fn unfinished_and_idle_http_connections_are_closed() {
    let server = Server::start_with(&[
        "--http-header-timeout-ms",
        "300",
        "--http-body-timeout-ms",
        "300",
    ])
    .await;
    let addr = server.root().trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: confab\r\nX-Slow: ")
        .await
        .expect("write");
    let answer = until_eof(&mut slow).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "the unfinished request was not served"
    );

    let mut idle = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: confab\r\n\r\n")
        .await
        .expect("write");
    let answer = until_eof(&mut idle).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "served, then closed when idle"
    );

    let mut trickle = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    trickle
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: confab\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
        )
        .await
        .expect("write");
    let answer = until_eof(&mut trickle).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}
