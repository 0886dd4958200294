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

/// A send whose client goes away before its ack (the socket closed, the tab shut, a gateway
/// killed mid-call) may still commit; once committed it must be published, or the other
/// members would see it only when a later change revealed the hole. Each sender closes its
/// socket right after its send frame; the watcher must receive every message the channel
/// holds, with no later change to reveal any.
#[tokio::test]
async fn a_send_whose_client_leaves_before_the_ack_still_reaches_everyone() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    let mut watcher = server.connect(&bob).await;
    for i in 0..40 {
        let mut gone = server.connect(&alice).await;
        gone.send_message(&general, &format!("gone-{i}"), &format!("{i}"))
            .await;
        gone.inner.close(None).await.expect("close");
    }
    // What the store holds once every send has settled: a marker sent after them all, in
    // another channel so that no later change in this one can reveal a hole (sends commit in
    // the order they reach the store).
    let (ws, _) = server.workspace(&alice, &[]).await;
    let elsewhere = server.channel(&alice, &ws, "elsewhere", false, &[]).await;
    server.send(&alice, &elsewhere, "marker", "marker").await;
    let (stored, _) = server.catch_up(&bob, &general, 0, 200).await;
    let stored: BTreeSet<String> = stored.iter().map(|m| s(&m["id"])).collect();
    assert!(!stored.is_empty(), "some sends committed");
    let mut seen = BTreeSet::new();
    while seen.len() < stored.len() {
        let e = watcher.next_event_in(&general).await;
        if e["kind"] == "message.created" {
            seen.insert(s(&e["message"]["id"]));
        }
    }
    assert_eq!(seen, stored, "every committed send was delivered live");
}
