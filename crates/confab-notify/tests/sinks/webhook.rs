//! The webhook sink posts signed JSON that a receiver can verify, and reads its answers.

use std::time::Duration;

use axum::http::StatusCode;
use confab_notify::{Sink, SinkError, SinkKind, WebhookSink, verify_signature};
use serde_json::{Value, json};

use super::receiver::Receiver;
use super::{PUBLIC_URL, WAIT, digest, item, within};

const SECRET: &[u8] = b"webhook secret";

fn sink(url: &str) -> WebhookSink {
    WebhookSink::new(url, SECRET, PUBLIC_URL, 4, WAIT).expect("webhook sink")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn posts_signed_json_the_receiver_can_verify() {
    let mut receiver = Receiver::start(StatusCode::NO_CONTENT).await;
    let sink = sink(&format!("{}/hooks/confab", receiver.url));
    assert_eq!(sink.kind(), SinkKind::Webhook);
    let d = digest(
        Some("bob@example.com"),
        vec![
            item("ch-ops", "#ops", "Ada", Some("deploy done @bob"), 12),
            item("ch-dm", "Cy", "Cy", None, 3),
        ],
        vec!["ch-old".into()],
    );

    let delivered = within(sink.deliver(&d, &[])).await.expect("delivered");
    assert!(delivered.gone.is_empty());

    let request = receiver.next().await;
    assert_eq!(request.path, "/hooks/confab");
    assert_eq!(request.header("content-type"), "application/json");
    let timestamp = request.header("x-confab-timestamp").to_owned();
    let signature = request.header("x-confab-signature").to_owned();
    assert!(signature.starts_with("v1="), "{signature}");

    let body: Value = serde_json::from_slice(&request.body).expect("json body");
    assert_eq!(body["sent_at"].to_string(), timestamp);
    assert_eq!(
        body,
        json!({
            "type": "notifications",
            "user": {"id": "user-bob", "username": "bob", "display_name": "Bob"},
            "notifications": [
                {"channel_id": "ch-ops", "channel_label": "#ops", "author_name": "Ada",
                 "body": "deploy done @bob", "reason": "mention", "message_id": "message-12",
                 "seq": 12, "ts": "2026-05-01T10:00:00Z",
                 "url": "http://127.0.0.1:8080/w/ws1/c/ch-ops/m/12"},
                {"channel_id": "ch-dm", "channel_label": "Cy", "author_name": "Cy",
                 "body": null, "reason": "mention", "message_id": "message-3",
                 "seq": 3, "ts": "2026-05-01T10:00:00Z",
                 "url": "http://127.0.0.1:8080/w/ws1/c/ch-dm/m/3"},
            ],
            "sent_at": body["sent_at"],
        })
    );

    let now = now();
    assert!(verify_signature(
        SECRET,
        &timestamp,
        &request.body,
        &signature,
        now,
        300
    ));
    let mut tampered = request.body.to_vec();
    tampered[10] ^= 1;
    assert!(!verify_signature(
        SECRET, &timestamp, &tampered, &signature, now, 300
    ));
    assert!(!verify_signature(
        b"guess",
        &timestamp,
        &request.body,
        &signature,
        now,
        300
    ));
    // The same request replayed ten minutes later.
    assert!(!verify_signature(
        SECRET,
        &timestamp,
        &request.body,
        &signature,
        now + 600,
        300
    ));
}

#[tokio::test]
async fn server_errors_are_retried_and_refusals_are_not() {
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );
    for (status, retry) in [
        (StatusCode::SERVICE_UNAVAILABLE, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::BAD_REQUEST, false),
        (StatusCode::NOT_FOUND, false),
    ] {
        let mut receiver = Receiver::start(status).await;
        let result = within(sink(&receiver.url).deliver(&d, &[])).await;
        receiver.next().await;
        match result {
            Err(SinkError::Retry(_)) if retry => {}
            Err(SinkError::Permanent(_)) if !retry => {}
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn nobody_listening_is_worth_a_retry() {
    let port = confab_testkit::free_port().expect("a free port");
    let sink = WebhookSink::new(
        &format!("http://127.0.0.1:{port}/"),
        SECRET,
        PUBLIC_URL,
        1,
        Duration::from_secs(5),
    )
    .expect("webhook sink");
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );
    let result = within(sink.deliver(&d, &[])).await;
    assert!(matches!(result, Err(SinkError::Retry(_))), "{result:?}");
}
