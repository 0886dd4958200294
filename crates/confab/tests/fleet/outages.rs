//! Redis and PostgreSQL restarting under a running fleet: nothing acknowledged is lost, and
//! confab recovers on its own.

use std::collections::HashSet;

use serde_json::json;

use crate::fleet::{
    Backing, Fleet, assert_gap_free, created_events, private_postgres, private_redis,
};
use crate::harness::{WAIT, s};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_stream_loses_nothing_and_live_delivery_resumes() {
    let mut redis = private_redis();
    let fleet = Fleet::start(
        2,
        2,
        Backing {
            redis_url: redis.url(),
            ..Backing::shared()
        },
    )
    .await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let carol = api.register("carol").await;
    let (_, general) = api.workspace(&alice, &[&bob, &carol]).await;
    let mut on_a = fleet.connect(0, &bob).await;
    let mut on_b = fleet.connect(1, &carol).await;

    const TOTAL: usize = 200;
    let reading = async {
        let a = created_events(&mut on_a, &general, TOTAL).await;
        let b = created_events(&mut on_b, &general, TOTAL).await;
        (a, b)
    };
    let sending = async {
        let mut acked = Vec::new();
        for i in 0..TOTAL {
            if i == 50 {
                redis.restart().expect("redis restarts");
            }
            // Every send is acknowledged, Redis or not: the bus is not on the write path.
            let m = fleet.chats[i % 2]
                .send(&alice, &general, &format!("m{i}"), &format!("{i}"))
                .await;
            acked.push(s(&m["id"]));
        }
        acked
    };
    let ((a, b), acked) = tokio::time::timeout(WAIT * 3, async { tokio::join!(reading, sending) })
        .await
        .expect("every client got every message");
    assert_gap_free(&a);
    assert_eq!(a, b);
    let delivered: HashSet<&String> = a.iter().map(|(_, id, _)| id).collect();
    assert_eq!(delivered, acked.iter().collect::<HashSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_survived_without_restarting_confab() {
    let mut pg = private_postgres();
    let fleet = Fleet::start(
        1,
        1,
        Backing {
            database_server_url: pg.url(),
            ..Backing::shared()
        },
    )
    .await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let (_, general) = api.workspace(&alice, &[&bob]).await;
    let mut watcher = fleet.connect(0, &bob).await;
    let mut sender = fleet.connect(0, &alice).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        acked.push(s(&api
            .send(&alice, &general, &format!("a{i}"), "before")
            .await["id"]));
    }

    let existing = acked[0].clone();
    pg.crash();
    // During the outage: a retryable 503 over HTTP, a retryable error frame over the socket.
    // A message that exists is not "not found" because the database is away: every read and
    // change of it is a retryable 503 too, so no client forgets it. (All at once: each waits
    // out the pool's acquire timeout, and the sockets must not fall silent meanwhile.)
    let requests = [
        (
            reqwest::Method::POST,
            format!("/channels/{general}/messages"),
            Some(json!({"client_msg_id": "during", "body": "during"})),
        ),
        (
            reqwest::Method::PATCH,
            format!("/messages/{existing}"),
            Some(json!({"body": "edited during"})),
        ),
        (
            reqwest::Method::PUT,
            format!("/messages/{existing}/reactions/:tada:"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("/messages/{existing}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/messages/{existing}/thread"),
            None,
        ),
    ];
    let answers = futures_util::future::join_all(requests.iter().map(|(method, path, body)| {
        api.request(method.clone(), Some(&alice.token), path, body.clone())
    }))
    .await;
    for ((method, path, _), (status, answer)) in requests.iter().zip(answers) {
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (503, Some("unavailable")),
            "{method} {path}: {answer}"
        );
    }
    sender.send_message(&general, "ws-during", "during").await;
    let refusal = sender.next_of("error").await;
    assert_eq!(refusal["code"], "unavailable", "{refusal}");
    pg.restart().expect("postgres restarts");

    // confab reconnects by itself: the same request, retried, succeeds.
    let deadline = tokio::time::Instant::now() + WAIT;
    let during = loop {
        let (status, body) = api
            .post(
                &alice.token,
                &format!("/channels/{general}/messages"),
                json!({"client_msg_id": "during", "body": "during"}),
            )
            .await;
        if status == 201 {
            break s(&body["message"]["id"]);
        }
        assert_eq!(status, 503, "{body}");
        assert!(tokio::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    acked.push(during);
    // The socket stayed open through the outage, and its retry succeeds.
    sender.send_message(&general, "ws-during", "during").await;
    let ack = sender.next_of("ack").await;
    acked.push(s(&ack["message_id"]));

    let (stored, _) = api.catch_up(&bob, &general, 0, 100).await;
    let stored: Vec<String> = stored.iter().map(|m| s(&m["id"])).collect();
    assert_eq!(stored, acked, "every acknowledged message, once, in order");
    let live = created_events(&mut watcher, &general, acked.len()).await;
    assert_gap_free(&live);
}

/// Status of `GET {root}{path}`.
async fn probe(server: &crate::harness::Server, path: &str) -> u16 {
    server
        .http
        .get(format!("{}{path}", server.root()))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// A chat service and a gateway (re)started while PostgreSQL and Redis are both down start
/// anyway: alive, not ready, every API call a retryable 503. They keep trying, and once both
/// are back the fleet works end to end without being restarted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_started_while_postgres_and_redis_are_down_comes_up_once_they_are_back() {
    let mut pg = private_postgres();
    let mut redis = private_redis();
    let mut fleet = Fleet::start(
        1,
        1,
        Backing {
            database_server_url: pg.url(),
            redis_url: redis.url(),
        },
    )
    .await;
    pg.crash();
    redis.kill();
    let chat = fleet.chats.remove(0).restart_in_place_listening().await;
    fleet.chats.push(chat);
    let gateway = fleet.gateways.remove(0).restart_in_place_listening().await;
    fleet.gateways.push(gateway);

    let api = fleet.api();
    assert_eq!(probe(api, "/healthz").await, 200, "alive");
    assert_eq!(probe(api, "/readyz").await, 503, "not ready");
    let (status, body) = api
        .request(
            reqwest::Method::POST,
            None,
            "/auth/register",
            Some(json!({"username": "early", "password": "correct horse"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable"))
    );
    assert_eq!(probe(&fleet.gateways[0], "/healthz").await, 200);

    pg.restart().expect("postgres restarts");
    redis.restart().expect("redis restarts");
    let deadline = tokio::time::Instant::now() + WAIT;
    while probe(api, "/readyz").await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never became ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let (_, general) = api.workspace(&alice, &[&bob]).await;
    let mut watcher = fleet.connect(0, &bob).await;
    // Live delivery needs both sides back on Redis: keep sending until one arrives live.
    let mut i = 0;
    let live = tokio::time::timeout(WAIT, async {
        loop {
            i += 1;
            api.send(&alice, &general, &format!("m{i}"), "hello").await;
            if let Ok(e) = tokio::time::timeout(
                std::time::Duration::from_millis(500),
                watcher.next_event_in(&general),
            )
            .await
            {
                break e;
            }
        }
    })
    .await
    .expect("live delivery resumed");
    assert_eq!(live["kind"], "message.created");
}
