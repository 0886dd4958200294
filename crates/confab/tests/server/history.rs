//! Reading beyond the newest page: browsing public channels, the page around a message, and
//! `POST /sync`, the whole catch-up in one call, which must end where per-channel feeds end.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::harness::{Server, User, s};

fn seqs(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["seq"].as_i64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn browsing_lists_the_public_channels_one_is_not_in_with_member_counts() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;
    server.channel(&alice, &ws, "dev", false, &[]).await;
    server.channel(&alice, &ws, "ops", false, &[&bob]).await;
    server.channel(&alice, &ws, "secret", true, &[]).await;

    let (status, list) = server
        .get(
            &bob.token,
            &format!("/workspaces/{ws}/channels?browse=true"),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let listed: Vec<(&str, i64, bool)> = list["channels"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default(),
                        c["member_count"].as_i64().unwrap_or(-1),
                        c["is_member"].as_bool().unwrap_or(true),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, [("dev", 1, false)]);
    // The plain list is as before: no member counts.
    let (_, list) = server
        .get(&bob.token, &format!("/workspaces/{ws}/channels"))
        .await;
    assert!(list["channels"][0].get("member_count").is_none(), "{list}");
    let (status, _) = server
        .get(
            &bob.token,
            &format!("/workspaces/{ws}/channels?browse=maybe"),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_page_around_a_message_holds_it_with_both_sides() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let mut sent = Vec::new();
    for n in 0..20 {
        sent.push(
            server
                .send(&alice, &general, &format!("m{n}"), &format!("message {n}"))
                .await,
        );
    }
    let target = sent[10]["seq"].as_i64().expect("seq");
    let path = format!("/channels/{general}/messages?around={target}&limit=7");
    let (status, page) = server.get(&alice.token, &path).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        seqs(&page),
        (target - 3..=target + 3).rev().collect::<Vec<_>>()
    );
    assert_eq!(
        (page["has_more"].as_bool(), page["has_newer"].as_bool()),
        (Some(true), Some(true))
    );
    // At the channel's end, there is nothing newer.
    let last = sent[19]["seq"].as_i64().expect("seq");
    let (_, page) = server
        .get(
            &alice.token,
            &format!("/channels/{general}/messages?around={last}&limit=4"),
        )
        .await;
    assert_eq!(seqs(&page), [last, last - 1, last - 2, last - 3]);
    assert_eq!(page["has_newer"], false);
    for query in [
        "around=0",
        "around=3&before=4",
        "around=3&since=1",
        "around=x",
    ] {
        let (status, _) = server
            .get(
                &alice.token,
                &format!("/channels/{general}/messages?{query}"),
            )
            .await;
        assert_eq!(status, 400, "{query}");
    }
}

/// What a client holds: each channel's cursor and messages by ID.
#[derive(Default)]
struct Replica {
    cursors: BTreeMap<String, i64>,
    messages: BTreeMap<String, Value>,
}

impl Replica {
    async fn sync(&mut self, server: &Server, user: &User, limit: u32) -> Value {
        loop {
            let (status, answer) = server
                .post(
                    &user.token,
                    "/sync",
                    json!({"cursors": self.cursors, "limit": limit}),
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            for id in answer["removed"].as_array().into_iter().flatten() {
                self.cursors.remove(&s(id));
            }
            for c in answer["channels"].as_array().into_iter().flatten() {
                for m in c["messages"].as_array().into_iter().flatten() {
                    self.messages.insert(s(&m["id"]), m.clone());
                }
                self.cursors.insert(
                    s(&c["channel"]["id"]),
                    c["next_cursor"].as_i64().expect("cursor"),
                );
            }
            if answer["complete"] == true {
                return answer;
            }
        }
    }
}

#[tokio::test]
async fn sync_catches_up_every_channel_in_one_call_and_ends_where_the_feeds_do() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let dev = server.channel(&alice, &ws, "dev", false, &[&bob]).await;
    let ops = server.channel(&alice, &ws, "ops", true, &[&bob]).await;

    // Bob's first sync: every channel he is in, with state, and no replay without cursors.
    let mut replica = Replica::default();
    let first = replica.sync(&server, &bob, 50).await;
    assert_eq!(replica.cursors.len(), 3, "{first}");
    assert!(replica.messages.is_empty());

    // Away: messages in two channels, an edit, a delete, a reply; bob leaves #ops; and he is
    // added to a new channel.
    for n in 0..7 {
        server
            .send(&alice, &general, &format!("g{n}"), &format!("general {n}"))
            .await;
    }
    let edited = server.send(&alice, &dev, "d0", "dev before").await;
    server.send(&alice, &dev, "d1", "dev gone").await;
    let (status, _) = server
        .patch(
            &alice.token,
            &format!("/messages/{}", s(&edited["id"])),
            json!({"body": "dev after"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post(&bob.token, &format!("/channels/{ops}/leave"), json!({}))
        .await;
    assert_eq!(status, 204);
    let fresh = server.channel(&alice, &ws, "fresh", false, &[&bob]).await;

    // Small pages: the sync pages itself until complete.
    let answer = replica.sync(&server, &bob, 2).await;
    assert!(!replica.cursors.contains_key(&ops), "{answer}");
    assert!(replica.cursors.contains_key(&fresh));
    let general_state = answer["channels"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel"]["id"] == json!(general)))
        .cloned()
        .expect("general listed");
    assert_eq!(general_state["unread_count"], 7, "{general_state}");

    // Exactly what the per-channel feeds say, from the same starting cursors.
    let mut expected = BTreeMap::new();
    for (channel, cursor) in [
        (&general, first_cursor(&first, &general)),
        (&dev, first_cursor(&first, &dev)),
    ] {
        let (messages, end) = server.catch_up(&bob, channel, cursor, 50).await;
        for m in messages {
            expected.insert(s(&m["id"]), m);
        }
        assert_eq!(
            replica.cursors.get(channel.as_str()),
            Some(&end),
            "{channel}"
        );
    }
    assert_eq!(replica.messages, expected);
    assert_eq!(
        replica
            .messages
            .get(&s(&edited["id"]))
            .map(|m| m["body"].clone()),
        Some(json!("dev after"))
    );

    // Current: nothing to replay.
    let again = replica.sync(&server, &bob, 50).await;
    assert!(
        again["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| c["messages"] == json!([])),
        "{again}"
    );

    // Bad input.
    for (body, code) in [
        (json!({"cursors": {"nope": 1}}), "invalid_id"),
        (json!({"cursors": {general.clone(): -1}}), "invalid_cursor"),
        (json!({"cursors": {}, "limit": 0}), "invalid_limit"),
        (json!({"cursors": {}, "limit": 201}), "invalid_limit"),
        (json!({"cursor": {}}), "invalid_request"),
    ] {
        let (status, answer) = server.post(&bob.token, "/sync", body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let many: serde_json::Map<String, Value> =
        (0..1001).map(|n| (uuid_like(n), json!(0))).collect();
    let (status, _) = server
        .post(&bob.token, "/sync", json!({"cursors": many}))
        .await;
    assert_eq!(status, 400);
}

fn first_cursor(answer: &Value, channel: &str) -> i64 {
    answer["channels"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel"]["id"] == json!(channel)))
        .and_then(|c| c["next_cursor"].as_i64())
        .expect("listed")
}

/// A well-formed channel ID nobody issued.
fn uuid_like(n: usize) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

/// Each sync reads every channel of its caller: one member repeating it is slowed down, and
/// nobody else is.
#[tokio::test]
async fn sync_is_rate_limited_per_user() {
    let server = Server::start_with(&["--sync-rate-per-min", "1", "--sync-rate-burst", "2"]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    server.workspace(&alice, &[&bob]).await;
    for _ in 0..2 {
        let (status, _) = server.post(&alice.token, "/sync", json!({})).await;
        assert_eq!(status, 200);
    }
    let (status, answer) = server.post(&alice.token, "/sync", json!({})).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    let (status, _) = server.post(&bob.token, "/sync", json!({})).await;
    assert_eq!(status, 200, "another member is not slowed down");
}
