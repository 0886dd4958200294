//! WebSocket limits: bad frames, frame size, tickets and origins, silent and slow clients,
//! the connection cap; each closes with its code and spares the other sockets.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Ended, Server, Ws, s};

#[tokio::test]
async fn websocket_bad_frames() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;

    ws.inner
        .send(Message::Text("{not json".into()))
        .await
        .expect("send");
    assert_eq!(ws.next_of("error").await["code"], "invalid_json");
    ws.send_json(json!({"type": "send", "channel_id": general, "body": "no id"}))
        .await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_request");
    ws.send_json(json!({"type": "launch_missiles"})).await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_request");
    ws.inner
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    assert_eq!(ws.next_of("error").await["code"], "invalid_request");
    ws.send_message(&general, "long", &"x".repeat(40_001)).await;
    let err = ws.next_of("error").await;
    assert_eq!(
        (err["code"].as_str(), err["client_msg_id"].as_str()),
        (Some("body_too_long"), Some("long"))
    );

    // A body at the limit fits one frame, even with characters JSON must escape.
    let fits = format!("{}{}", "\"".repeat(1000), "y".repeat(39_000));
    ws.send_message(&general, "at-limit", &fits).await;
    let ack = ws.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "at-limit");
    let (status, stored) = server
        .get(
            &alice.token,
            &format!("/messages/{}", s(&ack["message_id"])),
        )
        .await;
    assert_eq!(
        (
            status,
            stored["message"]["body"]
                .as_str()
                .map(|b| b.chars().count())
        ),
        (200, Some(40_000))
    );

    // Over the frame limit: closed with 1009, nothing stored.
    ws.inner
        .send(Message::Text("x".repeat(64 * 1024 + 1).into()))
        .await
        .expect("send");
    let (ended, _) = ws.until_closed(Duration::from_secs(10)).await;
    assert_eq!(ended, Ended::Close(Some(1009)));
    let (messages, _) = server.catch_up(&alice, &general, 0, 200).await;
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn the_frame_limit_is_configurable() {
    let server = Server::start_with(&["--max-frame-bytes", "8192"]).await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;
    // The body limit follows the frame limit on both paths.
    ws.send_message(&general, "big", &"x".repeat(7_500)).await;
    assert_eq!(ws.next_of("error").await["code"], "body_too_long");
    let (status, body) = server
        .post(
            &alice.token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "big", "body": "x".repeat(7_500)}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("body_too_long"))
    );
    ws.inner
        .send(Message::Text("x".repeat(8193).into()))
        .await
        .expect("send");
    assert_eq!(
        ws.until_closed(Duration::from_secs(10)).await.0,
        Ended::Close(Some(1009))
    );
}

#[tokio::test]
async fn websocket_auth_tickets_and_origins() {
    let server = Server::start_with(&["--allowed-origins", "https://chat.example"]).await;
    let alice = server.register("alice").await;
    assert!(
        Ws::connect(&server.ws_base, None, &[]).await.is_err(),
        "no credentials"
    );
    assert!(
        Ws::connect(&server.ws_base, Some("bogus"), &[])
            .await
            .is_err(),
        "bad token"
    );

    let (status, body) = server.post(&alice.token, "/ws/ticket", json!({})).await;
    assert_eq!(status, 200);
    let url = format!("{}?ticket={}", server.ws_base, s(&body["ticket"]));
    let ws = Ws::connect(&url, None, &[])
        .await
        .expect("a ticket opens a socket");
    assert_eq!(ws.hello["user_id"], alice.id.as_str());
    assert!(
        Ws::connect(&url, None, &[]).await.is_err(),
        "a ticket is single-use"
    );

    let evil = Ws::connect(
        &server.ws_base,
        Some(&alice.token),
        &[("origin", "https://evil.example")],
    )
    .await;
    match evil {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403)
        }
        other => panic!(
            "foreign origin must be refused, got {:?}",
            other.map(|w| w.hello)
        ),
    }
    Ws::connect(
        &server.ws_base,
        Some(&alice.token),
        &[("origin", "https://chat.example")],
    )
    .await
    .expect("allowed origin");
}

#[tokio::test]
async fn a_silent_client_is_dropped_and_a_live_one_is_kept() {
    let server = Server::start_with(&[
        "--ws-ping-interval-ms",
        "200",
        "--ws-idle-timeout-ms",
        "700",
    ])
    .await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut live = server.connect(&alice).await;
    let mut silent = server.connect(&alice).await;
    assert_eq!(live.hello["heartbeat_ms"], 200);

    // `silent` reads nothing, so it never answers pings. `live` keeps reading (and so
    // answering pings) across several idle timeouts.
    let channel = general.clone();
    let reader = tokio::spawn(async move {
        let mut bodies = Vec::new();
        while bodies.is_empty() {
            let e = live.next_event_in(&channel).await;
            bodies.push(e["message"]["body"].clone());
        }
        bodies
    });
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (ended, _) = silent.until_closed(Duration::from_secs(10)).await;
    assert!(matches!(ended, Ended::Dropped | Ended::Close(_)));
    server
        .send(&alice, &general, "still-here", "still here")
        .await;
    let bodies = tokio::time::timeout(crate::harness::WAIT, reader)
        .await
        .expect("in time")
        .expect("reader");
    assert_eq!(bodies, vec![Value::from("still here")]);
}

#[tokio::test]
async fn a_slow_consumer_is_cut_off_while_others_keep_receiving() {
    let server = Server::start_with(&["--ws-send-queue", "8"]).await;
    let alice = server.register("alice").await;
    let slow_user = server.register("slow").await;
    let (_, general) = server.workspace(&alice, &[&slow_user]).await;

    // A client with a tiny receive buffer that never reads.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let addr = server
        .root()
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let stream = socket.connect(addr).await.expect("connect");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            server.ws_base.as_str(),
        )
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", slow_user.token)
            .parse()
            .expect("header"),
    );
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (slow, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("handshake");
    let mut fast = server.connect(&alice).await;

    let body = "z".repeat(40_000);
    let sends = 250;
    let sender = {
        let http = server.http.clone();
        let url = format!("{}/channels/{general}/messages", server.base);
        let token = alice.token.clone();
        tokio::spawn(async move {
            for i in 0..sends {
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"client_msg_id": format!("big-{i}"), "body": body}))
                    .send()
                    .await;
                assert_eq!(resp.expect("send").status().as_u16(), 201);
            }
        })
    };
    let mut received = 0;
    while received < sends {
        let e = fast.next_event_in(&general).await;
        assert_eq!(e["kind"], "message.created");
        received += 1;
    }
    sender.await.expect("sender");

    let mut slow = Ws {
        inner: slow,
        hello: Value::Null,
    };
    let (ended, frames) = slow.until_closed(Duration::from_secs(30)).await;
    let got = frames.iter().filter(|f| f["type"] == "event").count();
    assert!(
        got < sends,
        "the slow socket was cut off (it got {got} of {sends} events, ended {ended:?})"
    );
    let metrics = server.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("confab_slow_consumers_total") && !l.ends_with(" 0")),
        "{metrics}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_until_one_closes() {
    let server = Server::start_with(&["--max-connections", "2"]).await;
    let alice = server.register("alice").await;
    server.workspace(&alice, &[]).await;
    let first = server.connect(&alice).await;
    let _second = server.connect(&alice).await;
    match Ws::connect(&server.ws_base, Some(&alice.token), &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 503);
            assert_eq!(
                resp.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
                Some("1"),
                "a refusal for capacity says when to retry"
            );
        }
        other => panic!(
            "a third socket must be refused, got {:?}",
            other.map(|w| w.hello)
        ),
    }
    drop(first);
    // The slot frees once the server has seen the close; poll for it within the deadline.
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    loop {
        match Ws::connect(&server.ws_base, Some(&alice.token), &[]).await {
            Ok(ws) => {
                assert_eq!(ws.hello["type"], "hello");
                break;
            }
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("slot never freed: {e}"),
        }
    }
}

/// Protocol errors close with the codes RFC 6455 names: 1007 for a text frame that is not
/// UTF-8, 1002 for a frame with a reserved opcode.
#[tokio::test]
async fn protocol_errors_close_with_their_rfc_6455_codes() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let server = Server::start().await;
    let alice = server.register("alice").await;
    server.workspace(&alice, &[]).await;
    for (frame, code) in [
        (
            Frame::message(vec![0xff, 0xfe, 0x00], OpCode::Data(Data::Text), true),
            1007,
        ),
        (
            Frame::message(vec![1, 2, 3], OpCode::Data(Data::Reserved(3)), true),
            1002,
        ),
    ] {
        let mut ws = server.connect(&alice).await;
        ws.inner.send(Message::Frame(frame)).await.expect("send");
        assert_eq!(
            ws.until_closed(Duration::from_secs(10)).await.0,
            Ended::Close(Some(code))
        );
    }
}

/// Browsers cannot see WebSocket pings, so a page asks with a `ping` frame; the answer comes
/// at once, even while the socket's sends are queued behind one another.
#[tokio::test]
async fn a_ping_frame_is_answered_with_its_id() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;

    for n in 0..5 {
        ws.send_message(&general, &format!("m{n}"), "queued").await;
    }
    ws.send_json(json!({"type": "ping", "id": "beat-1"})).await;
    let pong = ws.next_of("pong").await;
    assert_eq!(pong, json!({"type": "pong", "id": "beat-1"}));
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_of("pong").await, json!({"type": "pong"}));

    ws.send_json(json!({"type": "ping", "id": "x".repeat(65)}))
        .await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_request");
    // The socket is still open and answering.
    ws.send_json(json!({"type": "ping", "id": "after"})).await;
    assert_eq!(ws.next_of("pong").await["id"], "after");
}
