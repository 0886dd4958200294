//! Nothing acknowledged is lost, nothing is duplicated: retries, restarts, kill -9, SIGTERM.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Ended, Server, s};

#[tokio::test]
async fn retried_sends_never_duplicate_even_across_a_restart() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let path = format!("/channels/{general}/messages");
    let body = json!({"client_msg_id": "retry-me", "body": "only once"});
    let (status, first) = server.post(&alice.token, &path, body.clone()).await;
    assert_eq!(status, 201);
    let (status, again) = server.post(&alice.token, &path, body.clone()).await;
    assert_eq!((status, &again["message"]), (200, &first["message"]));

    // Over the socket, the same client_msg_id acknowledges the original.
    let mut ws = server.connect(&alice).await;
    ws.send_message(&general, "retry-me", "only once").await;
    let ack = ws.next_of("ack").await;
    assert_eq!(ack["message_id"], first["message"]["id"]);
    assert_eq!(ack["seq"], first["message"]["seq"]);
    drop(ws);

    let server = server.restart().await;
    let (status, after_restart) = server.post(&alice.token, &path, body).await;
    assert_eq!(
        (status, &after_restart["message"]),
        (200, &first["message"])
    );
    let (messages, _) = server.catch_up(&alice, &general, 0, 100).await;
    assert_eq!(messages.len(), 1, "one message, however many retries");
}

#[tokio::test]
async fn every_acknowledged_message_survives_kill_9() {
    let mut server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;
    for i in 0..300 {
        ws.send_message(&general, &format!("burst-{i}"), &format!("burst {i}"))
            .await;
    }
    let mut acked = BTreeSet::new();
    while acked.len() < 200 {
        let ack = ws.next_of("ack").await;
        acked.insert(s(&ack["message_id"]));
    }
    // Killed while later sends may still be in flight: those were never acknowledged.
    server.kill9().await;
    let server = server.restart().await;
    let (messages, _) = server.catch_up(&alice, &general, 0, 200).await;
    let stored: BTreeSet<String> = messages.iter().map(|m| s(&m["id"])).collect();
    assert!(
        acked.is_subset(&stored),
        "{} acknowledged messages missing",
        acked.difference(&stored).count()
    );
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap_or_default())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "sequence numbers are gap-free after recovery"
    );
}

#[tokio::test]
async fn sigterm_closes_sockets_with_going_away_and_keeps_every_ack() {
    let mut server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut ws = server.connect(&alice).await;
    for i in 0..50 {
        ws.send_message(&general, &format!("late-{i}"), "sent during shutdown")
            .await;
    }
    let status = server.terminate().await;
    let (ended, frames) = ws.until_closed(Duration::from_secs(10)).await;
    assert_eq!(ended, Ended::Close(Some(1001)));
    assert!(status.success(), "exit status {status:?}");
    let acked: BTreeSet<String> = frames
        .iter()
        .filter(|f| f["type"] == "ack")
        .map(|f| s(&f["message_id"]))
        .collect();
    let server = server.restart().await;
    let (messages, _) = server.catch_up(&alice, &general, 0, 200).await;
    let stored: BTreeSet<String> = messages.iter().map(|m| s(&m["id"])).collect();
    assert!(
        acked.is_subset(&stored),
        "an acknowledged send was lost in shutdown"
    );
}
