//! Threads, edits, deletes, reactions, channel updates and mentions, end to end: what
//! sockets hear, and what every read path returns.

use serde_json::{Value, json};

use crate::harness::{Server, s};

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

    let (status, edited) = server
        .patch(
            &alice.token,
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

    let (status, _) = server
        .put(
            &bob.token,
            &format!("/messages/{root_id}/reactions/%F0%9F%91%8D"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, again) = server
        .put(
            &bob.token,
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
    let (status, removed) = server
        .delete(
            &bob.token,
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

    let (status, updated) = server
        .patch(
            &alice.token,
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
    server
        .put(&bob.token, &format!("/messages/{id}/reactions/:eyes:"))
        .await;
    let (status, _) = server
        .post(
            &bob.token,
            &format!("/channels/{room}/messages"),
            json!({"client_msg_id": "r", "body": "wow", "thread_root_id": id}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = server
        .delete(&alice.token, &format!("/messages/{id}"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .delete(&alice.token, &format!("/messages/{id}"))
        .await;
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
