//! Threads, edits, deletes, reactions, read state, typing and presence, end to end.
use serde_json::{Value, json};

use crate::harness::{Server, User, Ws, s};

async fn patch(server: &Server, user: &User, path: &str, body: Value) -> (u16, Value) {
    server
        .request(reqwest::Method::PATCH, Some(&user.token), path, Some(body))
        .await
}

async fn delete(server: &Server, user: &User, path: &str) -> (u16, Value) {
    server
        .request(reqwest::Method::DELETE, Some(&user.token), path, None)
        .await
}

async fn put(server: &Server, user: &User, path: &str) -> (u16, Value) {
    server
        .request(reqwest::Method::PUT, Some(&user.token), path, None)
        .await
}

#[tokio::test]
async fn threads_edits_reactions_and_channel_updates_reach_sockets() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let mut b = server.connect(&bob).await;
    let root = server.send(&alice, &general, "root", "root").await;
    b.next_event_in(&general).await;

    let root_id = s(&root["id"]);
    let (status, reply) = server
        .post(
            &bob.token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "r1", "body": "reply", "thread_root_id": root_id}),
        )
        .await;
    assert_eq!(status, 201);
    let e = b.next_event_in(&general).await;
    assert_eq!(
        (e["kind"].as_str(), e["root"]["reply_count"].as_i64()),
        (Some("message.created"), Some(1))
    );
    assert_eq!(e["root"]["reply_users"], json!([bob.id]));
    assert_eq!(e["root"]["version"], e["seq"]);

    let (status, edited) = patch(
        &server,
        &alice,
        &format!("/messages/{root_id}"),
        json!({"body": "root, edited"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(edited["message"]["edited_at"].is_string());
    let e = b.next_event_in(&general).await;
    assert_eq!(
        (e["kind"].as_str(), e["message"]["body"].as_str()),
        (Some("message.edited"), Some("root, edited"))
    );

    let (status, _) = put(
        &server,
        &bob,
        &format!("/messages/{root_id}/reactions/%F0%9F%91%8D"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, again) = put(
        &server,
        &bob,
        &format!("/messages/{root_id}/reactions/%F0%9F%91%8D"),
    )
    .await;
    assert_eq!(
        (status, again["message"]["reactions"][0]["count"].as_i64()),
        (200, Some(1)),
        "idempotent"
    );
    let e = b.next_event_in(&general).await;
    assert_eq!(
        (
            e["kind"].as_str(),
            e["emoji"].as_str(),
            e["user_id"].as_str()
        ),
        (Some("reaction.added"), Some("👍"), Some(bob.id.as_str()))
    );
    let (status, removed) = delete(
        &server,
        &bob,
        &format!("/messages/{root_id}/reactions/%F0%9F%91%8D"),
    )
    .await;
    assert_eq!(
        (
            status,
            removed["message"]["reactions"].as_array().map(Vec::len)
        ),
        (200, Some(0))
    );
    assert_eq!(b.next_event_in(&general).await["kind"], "reaction.removed");

    let (status, thread) = server
        .get(
            &bob.token,
            &format!("/messages/{}/thread", s(&reply["message"]["id"])),
        )
        .await;
    assert_eq!(status, 200, "a thread is found by any of its replies");
    assert_eq!(
        (
            thread["root"]["id"].as_str(),
            thread["replies"].as_array().map(Vec::len)
        ),
        (Some(root_id.as_str()), Some(1))
    );

    let (status, updated) = patch(
        &server,
        &alice,
        &format!("/channels/{general}"),
        json!({"topic": "all hands"}),
    )
    .await;
    assert_eq!(
        (status, updated["channel"]["topic"].as_str()),
        (200, Some("all hands"))
    );
    let e = b.next_event_in(&general).await;
    assert_eq!(
        (e["kind"].as_str(), e["channel"]["topic"].as_str()),
        (Some("channel.updated"), Some("all hands"))
    );
    let _ = ws;
}

#[tokio::test]
async fn deleted_content_appears_in_no_read_path() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (ws, _) = server.workspace(&alice, &[&bob, &carol]).await;
    let room = server.channel(&alice, &ws, "room", false, &[&bob]).await;
    let mut b = server.connect(&bob).await;
    let secret = server
        .send(&alice, &room, "secret", "the launch code is swordfish")
        .await;
    let id = s(&secret["id"]);
    put(&server, &bob, &format!("/messages/{id}/reactions/:eyes:")).await;
    let (status, _) = server
        .post(
            &bob.token,
            &format!("/channels/{room}/messages"),
            json!({"client_msg_id": "r", "body": "wow", "thread_root_id": id}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = delete(&server, &alice, &format!("/messages/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = delete(&server, &alice, &format!("/messages/{id}")).await;
    assert_eq!(status, 204, "deleting again changes nothing");

    // The live event is a tombstone.
    let deleted = loop {
        let e = b.next_event_in(&room).await;
        if e["kind"] == "message.deleted" {
            break e;
        }
    };
    assert_eq!(deleted["message"]["deleted"], true);
    // A late joiner catches up, through the feed and the socket's fill path alike.
    let (status, _) = server
        .post(&carol.token, &format!("/channels/{room}/join"), json!({}))
        .await;
    assert_eq!(status, 200);
    let reads = [
        server
            .get(&carol.token, &format!("/channels/{room}/messages?since=0"))
            .await,
        server
            .get(&carol.token, &format!("/channels/{room}/messages"))
            .await,
        server.get(&carol.token, &format!("/messages/{id}")).await,
        server
            .get(&carol.token, &format!("/messages/{id}/thread"))
            .await,
    ];
    let mut frames = vec![deleted];
    let mut c = server.connect(&carol).await;
    frames.extend(
        server
            .frames_until_marker(&mut c, &alice, &room, "marker")
            .await,
    );
    for (status, body) in &reads {
        assert_eq!(*status, 200, "{body}");
    }
    let everything = format!("{reads:?} {frames:?}");
    assert!(
        !everything.contains("swordfish"),
        "deleted body leaked: {everything}"
    );
    assert!(!everything.contains(":eyes:"), "deleted reactions leaked");
    let (_, thread) = &reads[3];
    assert_eq!(thread["root"]["deleted"], true);
    assert_eq!(
        thread["replies"].as_array().map(Vec::len),
        Some(1),
        "replies of a deleted root stay reachable"
    );
}

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
    patch(
        &server,
        &alice,
        &format!("/messages/{}", s(&plain["id"])),
        json!({"body": "hello @bob"}),
    )
    .await;
    assert_eq!(counts().await, (3, 2), "an edit that adds a mention counts");
    delete(&server, &alice, &format!("/messages/{}", s(&mention["id"]))).await;
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
    let frames = server
        .frames_until_marker(&mut b, &alice, &room, "marker")
        .await;
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

#[tokio::test]
async fn every_new_call_is_authorized() {
    let server = Server::start().await;
    let alice = server.register("alice").await; // owner
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let outsider = server.register("outsider").await;
    let (ws, general) = server.workspace(&alice, &[&bob, &carol]).await;
    server.workspace(&outsider, &[]).await;
    let secret = server.channel(&bob, &ws, "secret", true, &[]).await;
    let open = server.channel(&bob, &ws, "open", false, &[]).await;
    let by_alice = s(&server.send(&alice, &general, "a1", "alice's").await["id"]);
    let by_bob = s(&server.send(&bob, &general, "b1", "bob's").await["id"]);
    let in_secret = s(&server.send(&bob, &secret, "s1", "secret").await["id"]);
    let in_open = s(&server.send(&bob, &open, "o1", "open").await["id"]);
    let (_, dm) = server
        .post(
            &alice.token,
            &format!("/workspaces/{ws}/dms"),
            json!({"user_ids": [bob.id]}),
        )
        .await;
    let dm = s(&dm["channel"]["id"]);

    let edit = json!({"body": "changed"});
    let cases: Vec<(&str, (u16, Value), u16, &str)> = vec![
        (
            "non-author edits",
            patch(
                &server,
                &bob,
                &format!("/messages/{by_alice}"),
                edit.clone(),
            )
            .await,
            403,
            "forbidden",
        ),
        (
            "member deletes another's",
            delete(&server, &carol, &format!("/messages/{by_bob}")).await,
            403,
            "forbidden",
        ),
        (
            "outsider edits",
            patch(
                &server,
                &outsider,
                &format!("/messages/{by_alice}"),
                edit.clone(),
            )
            .await,
            404,
            "message_not_found",
        ),
        (
            "outsider deletes",
            delete(&server, &outsider, &format!("/messages/{by_alice}")).await,
            404,
            "message_not_found",
        ),
        (
            "outsider reacts",
            put(
                &server,
                &outsider,
                &format!("/messages/{by_alice}/reactions/:x:"),
            )
            .await,
            404,
            "message_not_found",
        ),
        (
            "outsider reads a thread",
            server
                .get(&outsider.token, &format!("/messages/{by_alice}/thread"))
                .await,
            404,
            "message_not_found",
        ),
        (
            "outsider marks read",
            server
                .post(
                    &outsider.token,
                    &format!("/channels/{general}/read"),
                    json!({"seq": 1}),
                )
                .await,
            404,
            "channel_not_found",
        ),
        (
            "non-member thread, private",
            server
                .get(&carol.token, &format!("/messages/{in_secret}/thread"))
                .await,
            404,
            "message_not_found",
        ),
        (
            "non-member reacts, private",
            put(
                &server,
                &carol,
                &format!("/messages/{in_secret}/reactions/:x:"),
            )
            .await,
            404,
            "message_not_found",
        ),
        (
            "non-member reacts, public",
            put(
                &server,
                &carol,
                &format!("/messages/{in_open}/reactions/:x:"),
            )
            .await,
            403,
            "not_in_channel",
        ),
        (
            "non-member marks read, public",
            server
                .post(
                    &carol.token,
                    &format!("/channels/{open}/read"),
                    json!({"seq": 1}),
                )
                .await,
            403,
            "not_in_channel",
        ),
        (
            "non-member marks read, private",
            server
                .post(
                    &carol.token,
                    &format!("/channels/{secret}/read"),
                    json!({"seq": 1}),
                )
                .await,
            404,
            "channel_not_found",
        ),
        (
            "bad emoji",
            put(
                &server,
                &bob,
                &format!("/messages/{by_bob}/reactions/notanemoji"),
            )
            .await,
            400,
            "invalid_emoji",
        ),
        (
            "negative read",
            server
                .post(
                    &bob.token,
                    &format!("/channels/{general}/read"),
                    json!({"seq": -1}),
                )
                .await,
            400,
            "invalid_seq",
        ),
        (
            "empty edit",
            patch(
                &server,
                &alice,
                &format!("/messages/{by_alice}"),
                json!({"body": " "}),
            )
            .await,
            400,
            "empty_body",
        ),
        (
            "non-member updates, public",
            patch(
                &server,
                &carol,
                &format!("/channels/{open}"),
                json!({"topic": "x"}),
            )
            .await,
            403,
            "not_in_channel",
        ),
        (
            "non-member updates, private",
            patch(
                &server,
                &carol,
                &format!("/channels/{secret}"),
                json!({"topic": "x"}),
            )
            .await,
            404,
            "channel_not_found",
        ),
        (
            "member renames another's channel",
            patch(
                &server,
                &alice,
                &format!("/channels/{general}"),
                json!({"name": "x"}),
            )
            .await,
            200,
            "",
        ),
        (
            "update a dm",
            patch(
                &server,
                &alice,
                &format!("/channels/{dm}"),
                json!({"topic": "x"}),
            )
            .await,
            409,
            "not_allowed_for_dm",
        ),
    ];
    for (name, (status, body), want_status, want_code) in cases {
        assert_eq!(status, want_status, "{name}: {body}");
        if !want_code.is_empty() {
            assert_eq!(body["error"]["code"], want_code, "{name}: {body}");
        }
    }
    // Bob, creator of #open, may rename it; carol joins and may set its topic but not rename.
    server
        .post(&carol.token, &format!("/channels/{open}/join"), json!({}))
        .await;
    assert_eq!(
        patch(
            &server,
            &carol,
            &format!("/channels/{open}"),
            json!({"name": "mine"})
        )
        .await
        .0,
        403
    );
    assert_eq!(
        patch(
            &server,
            &carol,
            &format!("/channels/{open}"),
            json!({"topic": "t"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        patch(
            &server,
            &bob,
            &format!("/channels/{open}"),
            json!({"name": "renamed"})
        )
        .await
        .0,
        200
    );
    // A workspace admin may delete anyone's message; an edit of a deleted message is refused.
    assert_eq!(
        delete(&server, &alice, &format!("/messages/{by_bob}"))
            .await
            .0,
        204
    );
    let (status, body) = patch(&server, &bob, &format!("/messages/{by_bob}"), edit).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("message_deleted"))
    );
    // Presence of someone sharing no workspace is not shown.
    let (status, body) = server
        .get(
            &alice.token,
            &format!("/users/presence?ids={},{}", bob.id, outsider.id),
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["presence"]
        .as_array()
        .expect("presence")
        .iter()
        .filter_map(|p| p["user_id"].as_str())
        .collect();
    assert_eq!(ids, vec![bob.id.as_str()]);
    let mut a = server.connect(&alice).await;
    a.send_json(json!({"type": "presence_subscribe", "user_ids": [outsider.id, bob.id]}))
        .await;
    let p = a.next_of("presence").await;
    assert_eq!(p["user_id"], bob.id.as_str(), "no presence for a stranger");
}

#[tokio::test]
async fn mentions_are_resolved_when_sent() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let outsider = server.register("outsider").await;
    let (ws, general) = server.workspace(&alice, &[&bob, &carol]).await;
    let mention_count = |user: &crate::harness::User| {
        let (server, ws, general) = (&server, &ws, &general);
        let token = user.token.clone();
        async move {
            let (_, body) = server
                .get(&token, &format!("/workspaces/{ws}/channels"))
                .await;
            body["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .find(|c| c["id"] == general.as_str())
                .and_then(|c| c["mention_count"].as_i64())
                .expect("general listed")
        }
    };
    let mut b = server.connect(&bob).await; // online; carol is not
    let m = server
        .send(
            &alice,
            &general,
            "h",
            "@here standup, @carol too; not @outsider, not `@alice`",
        )
        .await;
    assert_eq!(m["mentions"]["here"], true);
    assert_eq!(m["mentions"]["channel"], false);
    let ids: Vec<&str> = m["mentions"]["user_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Who @here reached is never on the wire (it grows with the channel); their mention
    // counts say it reached them.
    assert_eq!(
        ids,
        vec![carol.id.as_str()],
        "only the named, not @outsider"
    );
    assert!(!ids.contains(&outsider.id.as_str()));
    assert_eq!(mention_count(&bob).await, 1, "@here reached bob, online");
    assert_eq!(mention_count(&carol).await, 1, "named");
    b.send_json(json!({"type": "presence", "status": "idle"}))
        .await;
    // Idle is not "here": once bob's idleness is recorded, @here reaches nobody.
    let mut watcher = server.connect(&carol).await;
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
        .await;
    let mut status = watcher.next_of("presence").await;
    while status["status"] != "idle" {
        status = watcher.next_of("presence").await;
    }
    let m = server.send(&alice, &general, "h2", "@here again").await;
    assert_eq!(m["mentions"]["user_ids"], json!([]), "{m}");
    assert_eq!(mention_count(&bob).await, 1, "idle bob was not reached");
    assert_eq!(mention_count(&carol).await, 2, "carol, active now, was");
    let everyone = server.send(&alice, &general, "e", "@everyone").await;
    assert_eq!(everyone["mentions"]["channel"], true);
}

/// An author who left a public channel may still edit their message there, and the edit's
/// mentions are resolved like any other (only a send needs the author to be a member).
#[tokio::test]
async fn an_edit_by_an_author_who_left_keeps_its_mentions() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let carol = server.register("carol").await;
    let (ws, _) = server.workspace(&alice, &[&carol]).await;
    let dev = server.channel(&alice, &ws, "dev", false, &[&carol]).await;
    let m = server.send(&alice, &dev, "m", "draft").await;
    let (status, _) = server
        .post(&alice.token, &format!("/channels/{dev}/leave"), json!({}))
        .await;
    assert_eq!(status, 204);
    let (status, edited) = server
        .request(
            reqwest::Method::PATCH,
            Some(&alice.token),
            &format!("/messages/{}", s(&m["id"])),
            Some(json!({"body": "@carol please look"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["message"]["mentions"]["user_ids"], json!([carol.id]));
}
