//! Read state across devices, presence and typing, end to end.

use serde_json::{Value, json};

use crate::harness::{Server, User, Ws, s};

#[tokio::test]
async fn reading_on_one_device_clears_the_count_on_another() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let counts = || async {
        let (_, list) = server
            .get(&bob.token, &format!("/workspaces/{ws}/channels"))
            .await;
        let c = list["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .find(|c| c["id"] == general.as_str())
            .cloned()
            .expect("general");
        (
            c["unread_count"].as_i64().unwrap_or(-1),
            c["mention_count"].as_i64().unwrap_or(-1),
        )
    };
    let plain = server.send(&alice, &general, "m1", "hello").await;
    let mention = server.send(&alice, &general, "m2", "hey @bob").await;
    server
        .send(&alice, &general, "m3", "`@bob` in code is no mention")
        .await;
    assert_eq!(counts().await, (3, 1));
    server
        .patch(
            &alice.token,
            &format!("/messages/{}", s(&plain["id"])),
            json!({"body": "hello @bob"}),
        )
        .await;
    assert_eq!(counts().await, (3, 2), "an edit that adds a mention counts");
    server
        .delete(&alice.token, &format!("/messages/{}", s(&mention["id"])))
        .await;
    assert_eq!(counts().await, (2, 1), "a deleted message no longer counts");

    let mut phone = server.connect(&bob).await;
    let mut laptop = server.connect(&bob).await;
    let (_, channel) = server
        .get(&bob.token, &format!("/channels/{general}"))
        .await;
    let last = channel["channel"]["last_seq"].as_i64().expect("last_seq");
    phone
        .send_json(json!({"type": "read", "channel_id": general, "seq": last}))
        .await;
    let read = laptop.next_of("read").await;
    assert_eq!(
        (read["channel_id"].as_str(), read["seq"].as_i64()),
        (Some(general.as_str()), Some(last))
    );
    assert_eq!(phone.next_of("read").await["seq"], last);
    assert_eq!(counts().await, (0, 0));
    let (status, body) = server
        .post(
            &bob.token,
            &format!("/channels/{general}/read"),
            json!({"seq": 1}),
        )
        .await;
    assert_eq!(
        (status, body["last_read_seq"].as_i64()),
        (200, Some(last)),
        "never moves backwards"
    );
}

#[tokio::test]
async fn a_silently_dead_connection_goes_offline_after_the_idle_timeout() {
    // Short intervals: what is tested is that silence ends in "offline", not how long the
    // defaults take (`config::tests::the_defaults_keep_presence_changes_within_ten_seconds`).
    // Long enough that the watcher, which answers pings only while the test reads it, is not
    // itself dropped while a loaded machine connects bob.
    let server = Server::start_with(&[
        "--ws-ping-interval-ms",
        "500",
        "--ws-idle-timeout-ms",
        "2000",
    ])
    .await;
    let (_alice, bob, mut watcher) = alice_watching_bob(&server).await;
    let first = watcher.next_of("presence").await;
    assert_eq!(
        (first["user_id"].as_str(), first["status"].as_str()),
        (Some(bob.id.as_str()), Some("offline"))
    );

    // Bob connects, then goes silent: the socket stays open but nothing is read or answered,
    // like a laptop that lost its network.
    let frozen = server.connect(&bob).await;
    assert_eq!(watcher.next_of("presence").await["status"], "online");
    let offline = watcher.next_of("presence").await;
    assert_eq!(
        (offline["user_id"].as_str(), offline["status"].as_str()),
        (Some(bob.id.as_str()), Some("offline"))
    );
    drop(frozen);
}

/// `presence_subscribe` replaces what the socket watches: users dropped from the list are no
/// longer heard of, users kept go on being heard of once, and a repeated ID counts once.
#[tokio::test]
async fn presence_subscribe_replaces_the_watched_set() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    server.workspace(&alice, &[&bob, &carol]).await;
    let mut watcher = server.connect(&alice).await;
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id, bob.id]}))
        .await;
    assert_eq!(
        next_statuses(&mut watcher, 1).await,
        vec![(bob.id.clone(), "offline".to_owned())],
        "a repeated ID is answered once"
    );
    // Bob stays watched, carol is added: only carol's current status is news, but both
    // are answered, as the reply to a subscribe always is.
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id, carol.id]}))
        .await;
    let mut both = next_statuses(&mut watcher, 2).await;
    both.sort();
    let mut expected = vec![
        (bob.id.clone(), "offline".to_owned()),
        (carol.id.clone(), "offline".to_owned()),
    ];
    expected.sort();
    assert_eq!(both, expected);
    let b = server.connect(&bob).await;
    assert_eq!(
        next_statuses(&mut watcher, 1).await,
        vec![(bob.id.clone(), "online".to_owned())],
        "bob, watched throughout, is heard of once"
    );
    // Bob dropped: his going offline is not heard of; carol's coming online is, and nothing
    // about bob comes before it.
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [carol.id]}))
        .await;
    assert_eq!(
        next_statuses(&mut watcher, 1).await,
        vec![(carol.id.clone(), "offline".to_owned())]
    );
    drop(b);
    // Bob's offline is published before carol comes online, so if it reached the watcher it
    // would come first.
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    loop {
        let (_, body) = server
            .get(&alice.token, &format!("/users/presence?ids={}", bob.id))
            .await;
        if body["presence"][0]["status"] == "offline" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob never went offline"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _c = server.connect(&carol).await;
    assert_eq!(
        next_statuses(&mut watcher, 1).await,
        vec![(carol.id.clone(), "online".to_owned())]
    );
}

/// Alice and bob in a workspace, alice's socket subscribed to bob's presence (its first
/// answer still unread).
async fn alice_watching_bob(server: &Server) -> (User, User, Ws) {
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    server.workspace(&alice, &[&bob]).await;
    let mut watcher = server.connect(&alice).await;
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
        .await;
    (alice, bob, watcher)
}

async fn next_statuses(watcher: &mut Ws, n: usize) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    while seen.len() < n {
        let frame = watcher.next_of("presence").await;
        seen.push((s(&frame["user_id"]), s(&frame["status"])));
    }
    seen
}

#[tokio::test]
async fn presence_goes_idle_when_the_client_says_so() {
    let server = Server::start().await;
    let (alice, bob, mut watcher) = alice_watching_bob(&server).await;
    assert_eq!(watcher.next_of("presence").await["status"], "offline");
    let mut b = server.connect(&bob).await;
    assert_eq!(watcher.next_of("presence").await["status"], "online");
    b.send_json(json!({"type": "presence", "status": "idle"}))
        .await;
    assert_eq!(watcher.next_of("presence").await["status"], "idle");
    let (status, body) = server
        .get(&alice.token, &format!("/users/presence?ids={}", bob.id))
        .await;
    assert_eq!(
        (status, body["presence"][0]["status"].as_str()),
        (200, Some("idle"))
    );
}

#[tokio::test]
async fn typing_is_throttled_and_only_members_and_subscribers_hear_anything() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (ws, general) = server.workspace(&alice, &[&bob, &carol]).await;
    let room = server.channel(&alice, &ws, "room", false, &[&bob]).await;
    let secret = server.channel(&alice, &ws, "secret", true, &[&bob]).await;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;

    for _ in 0..3 {
        a.send_json(json!({"type": "typing", "channel_id": room}))
            .await;
    }
    // The marker goes through the same socket, so it is handled after the typing frames
    // (sent through HTTP, it could overtake them on a busy machine).
    a.send_message(&room, "marker", "marker").await;
    let frames = b.frames_until("marker").await;
    let typing: Vec<&Value> = frames.iter().filter(|f| f["type"] == "typing").collect();
    assert_eq!(
        typing.len(),
        1,
        "three typing frames within 3 s forward one: {frames:?}"
    );
    assert_eq!(
        (
            typing[0]["channel_id"].as_str(),
            typing[0]["user_id"].as_str()
        ),
        (Some(room.as_str()), Some(alice.id.as_str()))
    );
    let own = server
        .frames_until_marker(&mut a, &alice, &room, "marker-2")
        .await;
    assert!(
        own.iter().all(|f| f["type"] != "typing"),
        "the typist does not hear themself"
    );

    c.send_json(json!({"type": "typing", "channel_id": room}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "not_in_channel");
    c.send_json(json!({"type": "typing", "channel_id": secret}))
        .await;
    assert_eq!(c.next_of("error").await["code"], "channel_not_found");
    // Carol heard no typing and, having subscribed to nobody, no presence (bob and alice
    // connected after her).
    let heard = server
        .frames_until_marker(&mut c, &alice, &general, "marker-3")
        .await;
    assert!(
        heard
            .iter()
            .all(|f| f["type"] != "typing" && f["type"] != "presence"),
        "{heard:?}"
    );
    let (_, feed) = server
        .get(&alice.token, &format!("/channels/{room}/messages?since=0"))
        .await;
    assert_eq!(
        feed["messages"].as_array().map(Vec::len),
        Some(2),
        "typing is never stored"
    );
}
