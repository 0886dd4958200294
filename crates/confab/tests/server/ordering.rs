//! The gateway's ordering guarantee under the faults the bus allows: a lost publish (the
//! chat service died between commit and publish), events published out of order, and
//! republished duplicates. Each socket must still see seq N, N+1, N+2… once each.
//!
//! And when the bus itself loses deliveries (a lagging subscriber), whatever the gateway may
//! have missed is recovered: channel events from the store, channel-list changes by asking
//! the affected sockets to reconnect.
//!
//! These tests run confab in-process so they can reach the store and bus behind the API.

use std::sync::Arc;

use confab::config::Config;
use confab_bus::Bus;
use confab_core::{BusMessage, Change, ChannelEvent, ChannelId, MessageId, Timestamp, UserId};
use confab_store::NewMessage;
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{User, Ws, s};

struct InProcess {
    running: confab::server::Running,
    base: String,
    ws: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> InProcess {
    start_with(Config::default()).await
}

async fn start_with(base: Config) -> InProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        send_rate_per_sec: 0,
        auth_rate_per_min: 0,
        ..base
    };
    let running = confab::server::start(&config, Arc::new(String::new))
        .await
        .expect("server starts");
    let addr = running.local_addr;
    InProcess {
        running,
        base: format!("http://{addr}/api/v1"),
        ws: format!("ws://{addr}/api/v1/ws"),
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl InProcess {
    async fn post(
        &self,
        token: Option<&str>,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    async fn send(
        &self,
        author: &User,
        channel: &str,
        client_msg_id: &str,
        body: &str,
    ) -> serde_json::Value {
        self.post(
            Some(&author.token),
            &format!("/channels/{channel}/messages"),
            json!({"client_msg_id": client_msg_id, "body": body}),
        )
        .await
    }

    async fn register(&self, name: &str) -> User {
        let body = self
            .post(
                None,
                "/auth/register",
                json!({"username": name, "password": "correct horse"}),
            )
            .await;
        User {
            id: s(&body["user"]["id"]),
            token: s(&body["token"]),
        }
    }

    /// Commits a message straight into the store: durable, but never published.
    async fn commit_unpublished(
        &self,
        channel: &str,
        author: &User,
        cid: &str,
    ) -> confab_core::Message {
        self.running
            .store()
            .expect("role all has a store")
            .send_message(NewMessage {
                id: MessageId::generate(),
                channel_id: ChannelId::parse(channel).expect("id"),
                author_id: UserId::parse(&author.id).expect("id"),
                client_msg_id: cid.into(),
                body: cid.into(),
                thread_root_id: None,
                mentions: Default::default(),

                ts: Timestamp::now(),
                files: Vec::new(),
            })
            .await
            .expect("commit")
            .message
    }

    async fn publish(&self, message: confab_core::Message) {
        let event = ChannelEvent {
            channel_id: message.channel_id.clone(),
            seq: message.seq,
            change: Change::MessageCreated {
                message,
                root: None,
            },
        };
        self.running
            .bus()
            .expect("the in-process bus")
            .publish(Arc::new(BusMessage::Channel(event)))
            .await
            .expect("publish");
    }
}

async fn next_message_seq(ws: &mut Ws, channel: &str) -> (i64, String) {
    loop {
        let e = ws.next_event_in(channel).await;
        if e["kind"] == "message.created" {
            return (e["seq"].as_i64().expect("seq"), s(&e["message"]["body"]));
        }
    }
}

#[tokio::test]
async fn a_lost_publish_is_filled_from_the_store_in_order() {
    let server = start().await;
    let alice = server.register("alice").await;
    let ws_body = server
        .post(Some(&alice.token), "/workspaces", json!({"name": "Acme"}))
        .await;
    let general = s(&ws_body["workspace"]["general_channel_id"]);
    let mut socket = Ws::connect(&server.ws, Some(&alice.token), &[])
        .await
        .expect("connect");

    let lost = server.commit_unpublished(&general, &alice, "lost").await;
    let sent = server.send(&alice, &general, "after", "after").await;
    assert_eq!(sent["message"]["seq"], lost.seq + 1);
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (lost.seq, "lost".into()),
        "the hole is filled first"
    );
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (lost.seq + 1, "after".into())
    );

    // A retry republishes the original; the socket does not see it twice.
    server.send(&alice, &general, "after", "after").await;
    server.send(&alice, &general, "marker", "marker").await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (lost.seq + 2, "marker".into()),
        "no duplicate before the marker"
    );
    server.running.stop().await.expect("stop");
}

/// Events ahead of a hole that does not fill are held only up to `hub_pending_limit`: past
/// it the hub drops them and reads the channel back from the store. Here the events ahead are
/// forgeries the store never held, so a hub that kept them would deliver them once the hole
/// filled; one that dropped them delivers what the store has.
#[tokio::test]
async fn events_held_ahead_of_a_hole_are_bounded() {
    let server = start_with(Config {
        hub_pending_limit: 20,
        ..Config::default()
    })
    .await;
    let alice = server.register("alice").await;
    let ws_body = server
        .post(Some(&alice.token), "/workspaces", json!({"name": "Acme"}))
        .await;
    let general = s(&ws_body["workspace"]["general_channel_id"]);
    let mut socket = Ws::connect(&server.ws, Some(&alice.token), &[])
        .await
        .expect("connect");
    let template = server.commit_unpublished(&general, &alice, "real-1").await;
    // The hole is `template.seq` (never published); 30 forged events wait past it.
    for k in 1..=30 {
        let mut forged = template.clone();
        forged.id = MessageId::generate();
        forged.seq = template.seq + k;
        forged.version = forged.seq;
        forged.body = Some("forged".into());
        server.publish(forged).await;
    }
    let second = server.commit_unpublished(&general, &alice, "real-2").await;
    server.publish(second.clone()).await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (template.seq, "real-1".into())
    );
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (second.seq, "real-2".into())
    );
    let third = server.send(&alice, &general, "real-3", "real-3").await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (
            third["message"]["seq"].as_i64().expect("seq"),
            "real-3".into()
        ),
        "the forged events were dropped, not delivered"
    );
    server.running.stop().await.expect("stop");
}

#[tokio::test]
async fn events_published_out_of_order_are_delivered_in_order() {
    let server = start().await;
    let alice = server.register("alice").await;
    let ws_body = server
        .post(Some(&alice.token), "/workspaces", json!({"name": "Acme"}))
        .await;
    let general = s(&ws_body["workspace"]["general_channel_id"]);
    let mut socket = Ws::connect(&server.ws, Some(&alice.token), &[])
        .await
        .expect("connect");

    let first = server.commit_unpublished(&general, &alice, "first").await;
    let second = server.commit_unpublished(&general, &alice, "second").await;
    let third = server.commit_unpublished(&general, &alice, "third").await;
    server.publish(third.clone()).await;
    server.publish(second.clone()).await;
    server.publish(first.clone()).await;
    server.publish(second.clone()).await;
    for (want, body) in [
        (first.seq, "first"),
        (second.seq, "second"),
        (third.seq, "third"),
    ] {
        assert_eq!(
            next_message_seq(&mut socket, &general).await,
            (want, body.into())
        );
    }
    server.send(&alice, &general, "marker", "marker").await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (third.seq + 1, "marker".into())
    );
    server.running.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_added_while_bus_deliveries_were_lost_reaches_the_user_after_a_reconnect() {
    // A bus queue of one delivery: any burst makes the gateway drop deliveries and resync.
    let server = start_with(Config {
        bus_queue: 1,
        ..Config::default()
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let ws_body = server
        .post(Some(&alice.token), "/workspaces", json!({"name": "Acme"}))
        .await;
    let ws = s(&ws_body["workspace"]["id"]);
    let general = s(&ws_body["workspace"]["general_channel_id"]);
    server
        .post(
            Some(&alice.token),
            &format!("/workspaces/{ws}/members"),
            json!({"user_id": bob.id}),
        )
        .await;
    let secret = s(&server
        .post(
            Some(&alice.token),
            &format!("/workspaces/{ws}/channels"),
            json!({"name": "secret", "private": true}),
        )
        .await["channel"]["id"]);
    let mut socket = Ws::connect(&server.ws, Some(&bob.token), &[])
        .await
        .expect("connect");

    // Bob is added to a channel this gateway has no hub for, and the news is lost: only his
    // user topic would have carried it, and that has no log to fill from.
    let store = server.running.store().expect("role all has a store");
    store
        .add_channel_member(
            &ChannelId::parse(&secret).expect("id"),
            &UserId::parse(&bob.id).expect("id"),
            Timestamp::now(),
        )
        .await
        .expect("added");
    // A burst the gateway cannot queue: it drops deliveries and resyncs. (Bob's own typing
    // is never sent back to him, so the burst itself puts nothing on his socket.)
    let bus = server.running.bus().expect("the in-process bus");
    let typing = Arc::new(BusMessage::Typing {
        channel_id: ChannelId::parse(&general).expect("id"),
        user_id: UserId::parse(&bob.id).expect("id"),
    });
    for _ in 0..1_000 {
        bus.publish(typing.clone()).await.expect("publish");
    }

    let (ended, _) = socket.until_closed(crate::harness::WAIT).await;
    assert_eq!(ended, crate::harness::Ended::Close(Some(1012)));
    // A client reconnects whenever asked. The gateway may ask again while the burst's resyncs
    // are still being worked through (it asks every socket whose user has a channel without a
    // hub yet, a registering one included): each time, the next socket is tried, and one must
    // receive the channel live.
    for attempt in 1..=5 {
        let mut socket = Ws::connect(&server.ws, Some(&bob.token), &[])
            .await
            .expect("reconnect");
        server
            .send(&alice, &secret, &format!("hi{attempt}"), "for bob")
            .await;
        match message_or_reconnect(&mut socket, &secret).await {
            Some(body) => {
                assert_eq!(body, "for bob");
                return;
            }
            None => continue,
        }
    }
    panic!("no socket received the added channel live");
}

/// The next `message.created` body in `channel`, or `None` if the server asks the socket to
/// reconnect (1012) first.
async fn message_or_reconnect(ws: &mut Ws, channel: &str) -> Option<String> {
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.inner.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(t))) => {
                let e: serde_json::Value = serde_json::from_str(t.as_str()).expect("json");
                if e["type"] == "event"
                    && e["channel_id"] == channel
                    && e["kind"] == "message.created"
                {
                    return Some(s(&e["message"]["body"]));
                }
            }
            Some(Ok(Message::Close(Some(frame)))) if u16::from(frame.code) == 1012 => return None,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("socket ended otherwise: {other:?}"),
        }
    }
}
