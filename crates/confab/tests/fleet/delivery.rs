//! Two gateways and two chat services: one order everywhere, also with both chat services
//! writing the same channel at once.

use std::collections::HashSet;

use futures_util::StreamExt;
use serde_json::json;

use crate::fleet::{Backing, Fleet, assert_gap_free, created_events};
use crate::harness::s;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_both_gateways_see_every_send_in_one_gap_free_order() {
    let fleet = Fleet::start(2, 2, Backing::shared()).await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let carol = api.register("carol").await;
    let (_, general) = api.workspace(&alice, &[&bob, &carol]).await;

    let mut on_a = fleet.connect(0, &bob).await;
    let mut on_b = fleet.connect(1, &carol).await;
    let mut sender = fleet.connect(0, &alice).await;

    // A send through gateway A reaches clients on A and on B.
    sender.send_message(&general, "first", "hello from A").await;
    let ack = sender.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "first");
    let a = created_events(&mut on_a, &general, 1).await;
    let b = created_events(&mut on_b, &general, 1).await;
    assert_eq!(a, b);
    assert_eq!(a[0].0, ack["seq"].as_i64().expect("seq"));
    assert_eq!(a[0].2, "hello from A");

    // 1,000 concurrent sends: 900 over HTTP spread over both chat services, 100 over a socket
    // on gateway B (whose calls the gateway spreads over both chat services too).
    let users = [&alice, &bob, &carol];
    let http_sends = futures_util::stream::iter(0..900)
        .map(|i| {
            let chat = &fleet.chats[i % 2];
            let user = users[i % 3];
            let general = general.clone();
            async move {
                let (status, body) = chat
                    .post(
                        &user.token,
                        &format!("/channels/{general}/messages"),
                        json!({"client_msg_id": format!("h{i}"), "body": format!("http {i}")}),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
                s(&body["message"]["id"])
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<String>>();
    let mut ws_sender = fleet.connect(1, &carol).await;
    let ws_sends = async {
        for i in 0..100 {
            ws_sender
                .send_message(&general, &format!("w{i}"), &format!("ws {i}"))
                .await;
        }
        let mut ids = Vec::new();
        while ids.len() < 100 {
            let f = ws_sender.next().await;
            assert_ne!(f["type"], "error", "{f}");
            if f["type"] == "ack" {
                ids.push(s(&f["message_id"]));
            }
        }
        ids
    };
    let (mut acked, ws_acked) = tokio::join!(http_sends, ws_sends);
    acked.extend(ws_acked);
    assert_eq!(acked.len(), 1_000);

    let a = created_events(&mut on_a, &general, 1_000).await;
    let b = created_events(&mut on_b, &general, 1_000).await;
    assert_gap_free(&a);
    assert_eq!(a, b, "both gateways deliver one order");
    let delivered: HashSet<&String> = a.iter().map(|(_, id, _)| id).collect();
    let acked: HashSet<&String> = acked.iter().collect();
    assert_eq!(
        delivered, acked,
        "every acknowledged send is delivered once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_only_serves_websockets_and_chat_rpc_needs_the_secret() {
    let fleet = Fleet::start(1, 1, Backing::shared()).await;
    let gateway = &fleet.gateways[0];
    let (status, body) = gateway
        .request(
            reqwest::Method::POST,
            None,
            "/auth/register",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let health = gateway
        .http
        .get(format!("{}/healthz", gateway.root()))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    let chat = fleet.api();
    for auth in [None, Some("wrong-secret-wrong-secret")] {
        let mut req = chat
            .http
            .post(format!("{}/internal/v1/rpc", chat.root()))
            .json(&json!({"call": "authenticate", "token": "x"}));
        if let Some(auth) = auth {
            req = req.bearer_auth(auth);
        }
        let resp = req.send().await.expect("rpc");
        assert_eq!(resp.status(), 401);
    }
}

/// Signing out on one chat service closes that session's sockets on every gateway, and a
/// ticket it issued is worthless on any gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_closes_the_session_s_sockets_on_every_gateway() {
    let fleet = Fleet::start(2, 2, Backing::shared()).await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    api.workspace(&alice, &[]).await;
    let mut on_a = fleet.connect(0, &alice).await;
    let mut on_b = fleet.connect(1, &alice).await;
    let (status, body) = api.post(&alice.token, "/ws/ticket", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let ticket = crate::harness::s(&body["ticket"]);
    let (status, _) = fleet.chats[1]
        .post(&alice.token, "/auth/logout", json!({}))
        .await;
    assert_eq!(status, 204);
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(
            ws.until_closed(crate::harness::WAIT).await.0,
            crate::harness::Ended::Close(Some(4001))
        );
    }
    let url = format!("{}?ticket={ticket}", fleet.gateways[1].ws_base);
    assert!(crate::harness::Ws::connect(&url, None, &[]).await.is_err());
}
