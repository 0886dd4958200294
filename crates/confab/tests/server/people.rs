//! People in workspaces: offboarding someone takes them out of the workspace and every
//! channel of it at once, and leaves what they wrote, and their DMs, to the others.

use std::collections::BTreeSet;

use serde_json::json;

use crate::harness::{Server, s};

#[tokio::test]
async fn an_offboarded_member_leaves_every_channel_at_once_and_their_dms_stay_readable() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (ws, general) = server.workspace(&alice, &[&bob, &carol]).await;
    let secret = server.channel(&alice, &ws, "secret", true, &[&bob]).await;
    let (status, dm) = server
        .post(
            &alice.token,
            &format!("/workspaces/{ws}/dms"),
            json!({"user_ids": [bob.id]}),
        )
        .await;
    assert!(status == 200 || status == 201, "{dm}");
    let dm = s(&dm["channel"]["id"]);
    server.send(&bob, &dm, "hello", "a DM from bob").await;
    server.send(&bob, &general, "hi", "bob was here").await;
    let mut bobs_socket = server.connect(&bob).await;

    let remove = |actor: &crate::harness::User, target: &crate::harness::User| {
        let (server, ws) = (&server, &ws);
        let (token, path) = (
            actor.token.clone(),
            format!("/workspaces/{ws}/members/{}", target.id),
        );
        async move {
            server
                .request(reqwest::Method::DELETE, Some(&token), &path, None)
                .await
        }
    };
    let (status, body) = remove(&carol, &bob).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "members cannot"
    );
    let (status, _) = remove(&alice, &bob).await;
    assert_eq!(status, 204);

    // Bob's socket hears his own departure from each channel, then nothing more from them.
    let mut left = BTreeSet::new();
    while left.len() < 3 {
        let e = bobs_socket.next_of("event").await;
        if e["kind"] == "member.left" && e["user_id"] == bob.id.as_str() {
            left.insert(s(&e["channel_id"]));
        }
    }
    assert_eq!(
        left,
        [general.clone(), secret.clone(), dm.clone()]
            .into_iter()
            .collect()
    );
    assert_eq!(
        server
            .get(&bob.token, &format!("/workspaces/{ws}/channels"))
            .await
            .0,
        404,
        "the workspace is gone for him"
    );
    for channel in [&general, &secret, &dm] {
        let (status, _) = server
            .get(&bob.token, &format!("/channels/{channel}/messages?since=0"))
            .await;
        assert_eq!(status, 404);
    }
    let (status, _) = server
        .post(&bob.token, &format!("/channels/{general}/join"), json!({}))
        .await;
    assert_eq!(status, 404, "nor can he join back");

    // What he wrote remains, and alice still reads their DM.
    let (messages, _) = server.catch_up(&alice, &dm, 0, 50).await;
    assert!(messages.iter().any(|m| m["body"] == "a DM from bob"));
    let (messages, _) = server.catch_up(&carol, &general, 0, 50).await;
    assert!(messages.iter().any(|m| m["body"] == "bob was here"));

    let (status, body) = remove(&alice, &bob).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );
    let (status, _) = remove(&alice, &alice).await;
    assert_eq!(status, 403, "the owner cannot be removed");
}
