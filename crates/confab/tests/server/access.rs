//! Who may read, write and receive what.

use serde_json::json;

use crate::harness::Server;

#[tokio::test]
async fn non_members_can_neither_read_write_nor_receive_a_private_channel() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let mallory = server.register("mallory").await;
    let (ws, general) = server.workspace(&alice, &[&mallory]).await;
    let secret = server.channel(&alice, &ws, "secret", true, &[]).await;
    let mut m = server.connect(&mallory).await;

    server.send(&alice, &secret, "s1", "classified").await;
    let (status, body) = server
        .get(
            &mallory.token,
            &format!("/channels/{secret}/messages?since=0"),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("channel_not_found"))
    );
    let (status, body) = server
        .get(&mallory.token, &format!("/channels/{secret}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("channel_not_found"))
    );
    let (status, body) = server
        .post(
            &mallory.token,
            &format!("/channels/{secret}/messages"),
            json!({"client_msg_id": "x", "body": "let me in"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("channel_not_found"))
    );
    let (status, body) = server
        .post(
            &mallory.token,
            &format!("/channels/{secret}/join"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("channel_not_found"))
    );
    m.send_message(&secret, "x2", "over the socket").await;
    let err = m.next_of("error").await;
    assert_eq!(
        (err["code"].as_str(), err["client_msg_id"].as_str()),
        (Some("channel_not_found"), Some("x2"))
    );

    let frames = server
        .frames_until_marker(&mut m, &alice, &general, "marker")
        .await;
    assert!(
        frames.iter().all(|f| f["channel_id"] != secret.as_str()),
        "leaked: {frames:?}"
    );
    let (_, list) = server
        .get(&mallory.token, &format!("/workspaces/{ws}/channels"))
        .await;
    let names: Vec<&str> = list["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["general"]);
    let (_, feed) = server
        .get(
            &alice.token,
            &format!("/channels/{secret}/messages?since=0"),
        )
        .await;
    assert_eq!(
        feed["messages"].as_array().map(Vec::len),
        Some(1),
        "the refused sends wrote nothing"
    );
}

/// A new workspace's owner is in its `#general` at once on the sockets already open (the web
/// client connects before its user has any workspace): told of the channel, then its events.
#[tokio::test]
async fn a_new_workspace_s_owner_hears_its_general_on_sockets_already_open() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let mut a = server.connect(&alice).await;
    let (_, general) = server.workspace(&alice, &[]).await;
    let added = a.next_of("channel.added").await;
    assert_eq!(added["channel"]["id"], general.as_str(), "{added}");
    server.send(&alice, &general, "first", "first words").await;
    let frames = a.frames_until("first words").await;
    let last = frames.last().expect("the message's event");
    assert_eq!(last["channel_id"], general.as_str(), "{last}");
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let secret = server.channel(&alice, &ws, "secret", true, &[&bob]).await;
    let mut b = server.connect(&bob).await;
    server
        .send(&alice, &secret, "before", "before removal")
        .await;
    let e = b.next_event_in(&secret).await;
    assert_eq!(e["message"]["body"], "before removal");

    let (status, _) = server
        .request(
            reqwest::Method::DELETE,
            Some(&alice.token),
            &format!("/channels/{secret}/members/{}", bob.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let removed = b.next_of("channel.removed").await;
    assert_eq!(removed["channel_id"], secret.as_str());
    server.send(&alice, &secret, "after", "after removal").await;
    let frames = server
        .frames_until_marker(&mut b, &alice, &general, "marker")
        .await;
    assert!(
        frames.iter().all(|f| !(f["type"] == "event"
            && f["channel_id"] == secret.as_str()
            && f["kind"] == "message.created")),
        "delivered after removal: {frames:?}"
    );
    let (status, _) = server
        .get(&bob.token, &format!("/channels/{secret}/messages"))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn leaving_stops_delivery_and_public_channels_are_readable_but_not_writable_without_joining()
{
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let open = server.channel(&alice, &ws, "open", false, &[]).await;
    server.send(&alice, &open, "o1", "public words").await;
    let (status, feed) = server
        .get(&bob.token, &format!("/channels/{open}/messages"))
        .await;
    assert_eq!(
        (status, feed["messages"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, body) = server
        .post(
            &bob.token,
            &format!("/channels/{open}/messages"),
            json!({"client_msg_id": "b1", "body": "hi"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_in_channel"))
    );

    let (status, _) = server
        .post(&bob.token, &format!("/channels/{open}/join"), json!({}))
        .await;
    assert_eq!(status, 200);
    let mut b = server.connect(&bob).await;
    server.send(&bob, &open, "b1", "joined now").await;
    assert_eq!(
        b.next_event_in(&open).await["message"]["body"],
        "joined now"
    );
    let (status, _) = server
        .post(&bob.token, &format!("/channels/{open}/leave"), json!({}))
        .await;
    assert_eq!(status, 204);
    let left = b.next_event_in(&open).await;
    assert_eq!(
        (left["kind"].as_str(), left["user_id"].as_str()),
        (Some("member.left"), Some(bob.id.as_str()))
    );
    server.send(&alice, &open, "a2", "after bob left").await;
    let frames = server
        .frames_until_marker(&mut b, &alice, &general, "marker")
        .await;
    assert!(
        frames.iter().all(|f| f["channel_id"] != open.as_str()),
        "{frames:?}"
    );
}

#[tokio::test]
async fn dms_are_idempotent_on_the_member_set() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (ws, _) = server.workspace(&alice, &[&bob, &carol]).await;
    let path = format!("/workspaces/{ws}/dms");
    let (status, first) = server
        .post(&alice.token, &path, json!({"user_ids": [bob.id]}))
        .await;
    assert_eq!(status, 201);
    let (status, again) = server
        .post(&bob.token, &path, json!({"user_ids": [alice.id, bob.id]}))
        .await;
    assert_eq!(
        (status, &again["channel"]["id"]),
        (200, &first["channel"]["id"])
    );
    let (status, group) = server
        .post(&alice.token, &path, json!({"user_ids": [bob.id, carol.id]}))
        .await;
    assert_eq!(status, 201);
    assert_ne!(group["channel"]["id"], first["channel"]["id"]);
    assert_eq!(group["channel"]["kind"], "dm");
    let dm = first["channel"]["id"].as_str().expect("id");
    let (status, body) = server
        .get(&carol.token, &format!("/channels/{dm}/messages"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("channel_not_found"))
    );
}
