//! The gateway's ordering guarantee under the faults the bus allows: a lost publish (the
//! chat service died between commit and publish), events published out of order, and
//! republished duplicates. Each socket must still see seq N, N+1, N+2… once each.
//!
//! These tests run confab in-process so they can reach the store and bus behind the API.

use std::sync::Arc;

use confab::config::Config;
use confab_bus::Bus;
use confab_core::{BusMessage, Change, ChannelEvent, ChannelId, MessageId, Timestamp, UserId};
use confab_store::NewMessage;
use serde_json::json;

use crate::harness::{User, Ws, s};

struct InProcess {
    running: confab::server::Running,
    base: String,
    ws: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> InProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        send_rate_per_sec: 0,
        auth_rate_per_min: 0,
        ..Config::default()
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
    let sent = server
        .post(
            Some(&alice.token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "after", "body": "after"}),
        )
        .await;
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
    server
        .post(
            Some(&alice.token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "after", "body": "after"}),
        )
        .await;
    server
        .post(
            Some(&alice.token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "marker", "body": "marker"}),
        )
        .await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (lost.seq + 2, "marker".into()),
        "no duplicate before the marker"
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
    server
        .post(
            Some(&alice.token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "marker", "body": "marker"}),
        )
        .await;
    assert_eq!(
        next_message_seq(&mut socket, &general).await,
        (third.seq + 1, "marker".into())
    );
    server.running.stop().await.expect("stop");
}
