//! Live delivery: acks, fan-out order, membership changes on open sockets, catch-up.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Server, s};

#[tokio::test]
async fn two_users_see_each_others_messages() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    assert_eq!(a.hello["user_id"], alice.id.as_str());
    assert!(a.hello["heartbeat_ms"].as_u64().is_some_and(|ms| ms > 0));

    a.send_message(&general, "a-1", "hello bob").await;
    let ack = a.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "a-1");
    let seq = ack["seq"].as_i64().expect("seq");
    assert!(ack["message_id"].is_string() && ack["ts"].as_str().is_some_and(|t| t.ends_with('Z')));
    let event = b.next_event_in(&general).await;
    assert_eq!(event["kind"], "message.created");
    assert_eq!(event["seq"], seq);
    assert_eq!(event["message"]["body"], "hello bob");
    assert_eq!(event["message"]["author_id"], alice.id.as_str());
    assert_eq!(event["message"]["id"], ack["message_id"]);

    let own = a.next_event_in(&general).await;
    assert_eq!(
        own["seq"], seq,
        "the sender's other devices (and this socket) get the event too"
    );

    // The HTTP path reaches sockets the same way.
    let sent = server.send(&bob, &general, "b-1", "hi alice").await;
    let event = a.next_event_in(&general).await;
    assert_eq!(event["seq"], seq + 1);
    assert_eq!(event["message"]["id"], sent["id"]);
    assert_eq!(event["message"]["body"], "hi alice");
}

#[tokio::test]
async fn concurrent_sends_reach_every_member_in_one_gap_free_order() {
    let server = Server::start().await;
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(server.register(&format!("user{i}")).await);
    }
    let refs: Vec<_> = users.iter().collect();
    let (ws, _) = server.workspace(&users[0], &refs[1..]).await;
    let channel = server
        .channel(&users[0], &ws, "busy", false, &refs[1..])
        .await;

    // Every socket is connected before anyone sends: each must see all 500.
    let mut sockets = Vec::new();
    for user in &users {
        sockets.push(server.connect(user).await);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(users.len()));
    let mut tasks = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let channel = channel.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = socket.inner.split();
            let writer = tokio::spawn({
                let channel = channel.clone();
                async move {
                    start.wait().await;
                    for n in 0..100 {
                        let frame = json!({"type": "send", "channel_id": channel, "client_msg_id": format!("u{i}-{n}"), "body": format!("{i}:{n}")});
                        sink.send(Message::Text(frame.to_string().into())).await.expect("send");
                    }
                    sink
                }
            });
            let (mut seqs, mut acks) = (Vec::new(), 0);
            let deadline = tokio::time::Instant::now() + crate::harness::WAIT * 3;
            while seqs.len() < 500 || acks < 100 {
                let msg = tokio::time::timeout_at(deadline, stream.next())
                    .await
                    .unwrap_or_else(|_| panic!("socket {i}: only {} events and {acks} acks in time", seqs.len()));
                let t = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(frame))) => panic!("socket {i} closed by the server: {frame:?}"),
                    None | Some(Err(_)) => panic!("socket {i} dropped"),
                    Some(Ok(_)) => continue,
                };
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                match v["type"].as_str() {
                    Some("event") if v["channel_id"] == channel.as_str() && v["kind"] == "message.created" => {
                        seqs.push((v["seq"].as_i64().expect("seq"), s(&v["message"]["id"])));
                    }
                    Some("ack") => acks += 1,
                    Some("error") => panic!("send refused: {v}"),
                    _ => {}
                }
            }
            let _sink = writer.await.expect("writer");
            seqs
        }));
    }
    let mut orders = Vec::new();
    for task in tasks {
        orders.push(task.await.expect("socket task"));
    }
    let first = &orders[0];
    let start = first[0].0;
    let expected: Vec<i64> = (start..start + 500).collect();
    assert_eq!(
        first.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        expected,
        "in order, no gap, no duplicate"
    );
    for other in &orders[1..] {
        assert_eq!(other, first, "every member saw the same order");
    }
}

#[tokio::test]
async fn joining_and_removal_take_effect_on_open_sockets() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;
    let mut b = server.connect(&bob).await;
    let channel = server.channel(&alice, &ws, "project", true, &[]).await;

    let (status, _) = server
        .post(
            &alice.token,
            &format!("/channels/{channel}/members"),
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(status, 201);
    let added = b.next_of("channel.added").await;
    assert_eq!(added["channel"]["id"], channel.as_str());
    server.send(&alice, &channel, "m1", "welcome").await;
    let event = loop {
        let e = b.next_event_in(&channel).await;
        if e["kind"] == "message.created" {
            break e;
        }
    };
    assert_eq!(event["message"]["body"], "welcome");

    // Adding again changes nothing.
    let (status, _) = server
        .post(
            &alice.token,
            &format!("/channels/{channel}/members"),
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_reconnecting_client_catches_up_to_exactly_what_a_connected_one_has() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (_, general) = server.workspace(&carol, &[&alice, &bob]).await;
    let mut steady = server.connect(&alice).await;
    let mut flaky = server.connect(&bob).await;

    // State per client: messages by seq, built only from what it received.
    let mut steady_state: BTreeMap<i64, Value> = BTreeMap::new();
    let mut flaky_state: BTreeMap<i64, Value> = BTreeMap::new();
    let mut flaky_cursor = 0;
    for i in 0..10 {
        server
            .send(
                &carol,
                &general,
                &format!("before-{i}"),
                &format!("before {i}"),
            )
            .await;
    }
    for _ in 0..10 {
        let e = steady.next_event_in(&general).await;
        steady_state.insert(e["seq"].as_i64().expect("seq"), e["message"].clone());
        let e = flaky.next_event_in(&general).await;
        flaky_cursor = e["seq"].as_i64().expect("seq");
        flaky_state.insert(flaky_cursor, e["message"].clone());
    }
    drop(flaky);
    for i in 0..100 {
        server
            .send(
                &carol,
                &general,
                &format!("missed-{i}"),
                &format!("missed {i}"),
            )
            .await;
    }
    for _ in 0..100 {
        let e = steady.next_event_in(&general).await;
        steady_state.insert(e["seq"].as_i64().expect("seq"), e["message"].clone());
    }
    // Reconnect first, then catch up, so nothing sent in between falls in a gap.
    let mut flaky = server.connect(&bob).await;
    let (missed, cursor) = server.catch_up(&bob, &general, flaky_cursor, 30).await;
    assert_eq!(missed.len(), 100);
    for m in missed {
        flaky_state.insert(m["seq"].as_i64().expect("seq"), m);
    }
    for i in 0..5 {
        server
            .send(
                &carol,
                &general,
                &format!("after-{i}"),
                &format!("after {i}"),
            )
            .await;
    }
    for _ in 0..5 {
        let e = steady.next_event_in(&general).await;
        steady_state.insert(e["seq"].as_i64().expect("seq"), e["message"].clone());
        let e = flaky.next_event_in(&general).await;
        assert!(e["seq"].as_i64().expect("seq") > cursor);
        flaky_state.insert(e["seq"].as_i64().expect("seq"), e["message"].clone());
    }
    assert_eq!(flaky_state.len(), 115);
    assert_eq!(flaky_state, steady_state);
}
