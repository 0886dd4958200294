//! Who may make the calls after a send (edits, deletes, reactions, threads, read cursors,
//! channel updates, presence): each refusal with its status and code.

use serde_json::{Value, json};

use crate::harness::{Server, s};

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
            server
                .patch(&bob.token, &format!("/messages/{by_alice}"), edit.clone())
                .await,
            403,
            "forbidden",
        ),
        (
            "member deletes another's",
            server
                .delete(&carol.token, &format!("/messages/{by_bob}"))
                .await,
            403,
            "forbidden",
        ),
        (
            "outsider edits",
            server
                .patch(
                    &outsider.token,
                    &format!("/messages/{by_alice}"),
                    edit.clone(),
                )
                .await,
            404,
            "message_not_found",
        ),
        (
            "outsider deletes",
            server
                .delete(&outsider.token, &format!("/messages/{by_alice}"))
                .await,
            404,
            "message_not_found",
        ),
        (
            "outsider reacts",
            server
                .put(
                    &outsider.token,
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
            server
                .put(
                    &carol.token,
                    &format!("/messages/{in_secret}/reactions/:x:"),
                )
                .await,
            404,
            "message_not_found",
        ),
        (
            "non-member reacts, public",
            server
                .put(&carol.token, &format!("/messages/{in_open}/reactions/:x:"))
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
            server
                .put(
                    &bob.token,
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
            server
                .patch(
                    &alice.token,
                    &format!("/messages/{by_alice}"),
                    json!({"body": " "}),
                )
                .await,
            400,
            "empty_body",
        ),
        (
            "non-member updates, public",
            server
                .patch(
                    &carol.token,
                    &format!("/channels/{open}"),
                    json!({"topic": "x"}),
                )
                .await,
            403,
            "not_in_channel",
        ),
        (
            "non-member updates, private",
            server
                .patch(
                    &carol.token,
                    &format!("/channels/{secret}"),
                    json!({"topic": "x"}),
                )
                .await,
            404,
            "channel_not_found",
        ),
        (
            "member renames another's channel",
            server
                .patch(
                    &alice.token,
                    &format!("/channels/{general}"),
                    json!({"name": "x"}),
                )
                .await,
            200,
            "",
        ),
        (
            "update a dm",
            server
                .patch(
                    &alice.token,
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
        server
            .patch(
                &carol.token,
                &format!("/channels/{open}"),
                json!({"name": "mine"})
            )
            .await
            .0,
        403
    );
    assert_eq!(
        server
            .patch(
                &carol.token,
                &format!("/channels/{open}"),
                json!({"topic": "t"})
            )
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .patch(
                &bob.token,
                &format!("/channels/{open}"),
                json!({"name": "renamed"})
            )
            .await
            .0,
        200
    );
    // A workspace admin may delete anyone's message; an edit of a deleted message is refused.
    assert_eq!(
        server
            .delete(&alice.token, &format!("/messages/{by_bob}"))
            .await
            .0,
        204
    );
    let (status, body) = server
        .patch(&bob.token, &format!("/messages/{by_bob}"), edit)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("message_deleted"))
    );
}

/// Presence of someone sharing no workspace is not shown, by HTTP or on a socket.
#[tokio::test]
async fn presence_of_a_stranger_is_not_shown() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let outsider = server.register("outsider").await;
    server.workspace(&alice, &[&bob]).await;
    server.workspace(&outsider, &[]).await;
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

/// The member list and profiles are for people who share a workspace; anyone else finds no
/// such workspace or user, exactly as for one that does not exist.
#[tokio::test]
async fn members_and_profiles_are_shown_only_within_a_workspace() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let outsider = server.register("outsider").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;
    server.workspace(&outsider, &[]).await;
    let (status, body) = server
        .get(&bob.token, &format!("/workspaces/{ws}/members?limit=1"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"][0]["username"], "alice");
    assert_eq!(body["members"][0]["role"], "owner");
    assert_eq!(body["next_after"], "alice");
    let (_, rest) = server
        .get(&bob.token, &format!("/workspaces/{ws}/members?after=alice"))
        .await;
    let names: Vec<&str> = rest["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    assert_eq!(names, ["bob"]);
    assert!(rest.get("next_after").is_none(), "the last page: {rest}");
    // A page is 1 to 200 members, after a username (at most 32 characters).
    for query in ["limit=0", "limit=201", &format!("after={}", "a".repeat(33))] {
        let (status, body) = server
            .get(&bob.token, &format!("/workspaces/{ws}/members?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    let (status, body) = server
        .get(&outsider.token, &format!("/workspaces/{ws}/members"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("workspace_not_found"))
    );

    let (status, body) = server
        .get(&bob.token, &format!("/users/{}", alice.id))
        .await;
    assert_eq!(
        (status, body["user"]["username"].as_str()),
        (200, Some("alice"))
    );
    assert!(body["user"].get("email").is_none(), "no email of another's");
    let unknown = confab_core::UserId::generate();
    for (who, id) in [(&outsider, &alice.id), (&bob, &unknown.to_string())] {
        let (status, body) = server.get(&who.token, &format!("/users/{id}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("user_not_found"))
        );
    }
    let (status, _) = server
        .get(&outsider.token, &format!("/users/{}", outsider.id))
        .await;
    assert_eq!(status, 200, "one's own profile");
}
