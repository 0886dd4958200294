//! Restarting every chat service drops no socket; killing a gateway loses nothing.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::fleet::{Backing, Fleet, assert_gap_free, created_events};
use crate::harness::{Ended, User, WAIT, Ws, s};

/// Sends one message over `ws`, resending the same `client_msg_id` while the answer is a
/// retryable error; returns the ack and how many retryable errors came first.
async fn send_until_acked(ws: &mut Ws, channel: &str, cid: &str, body: &str) -> (Value, usize) {
    let mut refusals = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ws.send_message(channel, cid, body).await;
        loop {
            let f = ws.next().await;
            if f["client_msg_id"] != cid {
                continue;
            }
            if f["type"] == "ack" {
                return (f, refusals);
            }
            assert_eq!(f["type"], "error", "{f}");
            assert!(
                f["code"] == "unavailable" || f["code"] == "rate_limited",
                "only retryable errors expected: {f}"
            );
            refusals += 1;
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never acknowledged");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_every_chat_service_drops_no_socket_and_loses_nothing() {
    let mut fleet = Fleet::start(2, 2, Backing::shared()).await;
    let api = fleet.api();
    let mut users: Vec<User> = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        users.push(api.register(name).await);
    }
    let (_, general) = api
        .workspace(&users[0], &[&users[1], &users[2], &users[3]])
        .await;

    // 200 clients: 50 sockets for each user, alternating gateways, each read continuously
    // (answering pings) until it has every message or the socket ends.
    const MESSAGES: usize = 100;
    let mut readers = Vec::new();
    for i in 0..200 {
        let ws = fleet.connect(i % 2, &users[i % 4]).await;
        let general = general.clone();
        readers.push(tokio::spawn(async move {
            let mut ws = ws;
            let events = created_events(&mut ws, &general, MESSAGES).await;
            (events, ws)
        }));
    }

    let mut sender = fleet.connect(0, &users[0]).await;
    let mut acks = Vec::new();
    for i in 0..MESSAGES / 2 {
        acks.push(
            send_until_acked(&mut sender, &general, &format!("m{i}"), "before")
                .await
                .0,
        );
    }

    // Both chat services go away at once: a send now is refused as retryable, and the socket
    // stays open.
    for chat in &mut fleet.chats {
        assert!(chat.terminate().await.success());
    }
    sender.send_message(&general, "gap", "during the gap").await;
    let refusal = sender.next_of("error").await;
    assert_eq!(refusal["code"], "unavailable", "{refusal}");
    assert_eq!(refusal["client_msg_id"], "gap");
    let chats = std::mem::take(&mut fleet.chats);
    for chat in chats {
        fleet.chats.push(chat.restart_in_place().await);
    }
    let (gap_ack, _) = send_until_acked(&mut sender, &general, "gap", "during the gap").await;
    acks.push(gap_ack.clone());
    // Retrying an acknowledged send returns the original.
    let (again, refusals) = send_until_acked(&mut sender, &general, "gap", "during the gap").await;
    assert_eq!(refusals, 0);
    assert_eq!(again["message_id"], gap_ack["message_id"]);
    for i in MESSAGES / 2..MESSAGES - 1 {
        acks.push(
            send_until_acked(&mut sender, &general, &format!("m{i}"), "after")
                .await
                .0,
        );
    }
    assert_eq!(acks.len(), MESSAGES);

    let acked: HashSet<String> = acks.iter().map(|a| s(&a["message_id"])).collect();
    assert_eq!(acked.len(), MESSAGES, "no ack repeats another");
    for reader in readers {
        // One socket the whole time: messages sent after both restarts arrived on it.
        let (events, _ws) = tokio::time::timeout(WAIT, reader)
            .await
            .expect("every socket got every message in time")
            .expect("reader task");
        assert_gap_free(&events);
        let got: HashSet<String> = events.iter().map(|(_, id, _)| id.clone()).collect();
        assert_eq!(got, acked);
    }
    let (stored, _) = fleet.api().catch_up(&users[1], &general, 0, 200).await;
    let stored_ids: HashSet<String> = stored.iter().map(|m| s(&m["id"])).collect();
    assert_eq!(
        stored_ids, acked,
        "the store holds every ack once, and nothing else"
    );
}

/// A client's view of a channel: message id → (seq, body).
type View = BTreeMap<String, (i64, String)>;

fn apply_events(view: &mut View, events: &[(i64, String, String)]) {
    for (seq, id, body) in events {
        view.insert(id.clone(), (*seq, body.clone()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_gateway_s_clients_reconnect_elsewhere_and_catch_up() {
    let mut fleet = Fleet::start(2, 2, Backing::shared()).await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let carol = api.register("carol").await;
    let (_, general) = api.workspace(&alice, &[&bob, &carol]).await;

    let mut observer = fleet.connect(1, &alice).await;
    let mut moving = fleet.connect(0, &bob).await;
    let mut bob_view = View::new();
    let mut alice_view = View::new();

    for i in 0..20 {
        api.send(&carol, &general, &format!("a{i}"), &format!("first {i}"))
            .await;
    }
    let seen = created_events(&mut moving, &general, 20).await;
    apply_events(&mut bob_view, &seen);
    let cursor = seen.last().expect("events").0;
    apply_events(
        &mut alice_view,
        &created_events(&mut observer, &general, 20).await,
    );

    // Gateway A dies mid-stream; sends go on through the chat services meanwhile.
    fleet.gateways[0].kill9().await;
    let (ended, _) = moving.until_closed(WAIT).await;
    assert_eq!(ended, Ended::Dropped);
    for i in 0..30 {
        fleet
            .api()
            .send(&carol, &general, &format!("b{i}"), &format!("second {i}"))
            .await;
    }

    // Bob reconnects to gateway B, then catches up from his cursor (live events from `hello`
    // on, history before it).
    let mut moved = fleet.connect(1, &bob).await;
    let (missed, _) = fleet.api().catch_up(&bob, &general, cursor, 7).await;
    for m in &missed {
        bob_view.insert(
            s(&m["id"]),
            (m["seq"].as_i64().expect("seq"), s(&m["body"])),
        );
    }
    for i in 0..10 {
        fleet
            .api()
            .send(&carol, &general, &format!("c{i}"), &format!("third {i}"))
            .await;
    }
    apply_events(
        &mut alice_view,
        &created_events(&mut observer, &general, 40).await,
    );
    let live = created_events(&mut moved, &general, 10).await;
    apply_events(&mut bob_view, &live);
    assert_eq!(alice_view.len(), 60);
    assert_eq!(
        bob_view, alice_view,
        "the moved client ends exactly where the never-disconnected one is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_gateways_and_a_dead_gateway_s_users_go_offline() {
    let mut fleet = Fleet::start(1, 2, Backing::shared()).await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    api.workspace(&alice, &[&bob]).await;
    let mut watcher = fleet.connect(1, &alice).await;
    watcher
        .send_json(serde_json::json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
        .await;
    assert_eq!(watcher.next_of("presence").await["status"], "offline");

    // Bob comes online on the other gateway; the watcher hears it through Redis.
    let _bob = fleet.connect(0, &bob).await;
    let online = watcher.next_of("presence").await;
    assert_eq!(
        (online["user_id"].as_str(), online["status"].as_str()),
        (Some(bob.id.as_str()), Some("online"))
    );
    let (status, body) = fleet
        .api()
        .get(&alice.token, &format!("/users/presence?ids={}", bob.id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("online"), "{body}");

    // Bob's gateway dies without a word: the surviving gateway's sweep finds its heartbeat
    // gone and says bob is offline.
    fleet.gateways[0].kill9().await;
    let offline = watcher.next_of("presence").await;
    assert_eq!(
        (offline["user_id"].as_str(), offline["status"].as_str()),
        (Some(bob.id.as_str()), Some("offline"))
    );
}
