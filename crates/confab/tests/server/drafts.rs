//! Profiles and drafts: `PATCH /me`, and drafts kept per composer, synced to the user's other
//! sockets, cleared by sending, bounded per user.

use serde_json::json;

use crate::harness::{Server, s};

/// The bodies of a `/me/drafts` answer, in order.
fn bodies(list: &serde_json::Value) -> Vec<&str> {
    list["drafts"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["body"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_profile_change_shows_to_the_user_and_to_their_workspace() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&alice, &[&bob]).await;

    let (status, me) = server
        .patch(
            &alice.token,
            "/me",
            json!({"display_name": "Ada L.", "status_text": "In a meeting", "status_expires_in_minutes": 30}),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (&me["user"]["display_name"], &me["user"]["status_text"]),
        (&json!("Ada L."), &json!("In a meeting"))
    );
    assert!(me["user"]["status_expires_at"].is_string(), "{me}");
    let (_, seen) = server
        .get(&bob.token, &format!("/users/{}", alice.id))
        .await;
    assert_eq!(
        (&seen["user"]["display_name"], &seen["user"]["status_text"]),
        (&json!("Ada L."), &json!("In a meeting"))
    );
    let (_, members) = server
        .get(&bob.token, &format!("/workspaces/{ws}/members"))
        .await;
    let listed = members["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["user_id"] == json!(alice.id)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed["status_text"], "In a meeting", "{members}");
    // Changing the name keeps the status; an empty status clears it.
    let (_, me) = server
        .patch(&alice.token, "/me", json!({"display_name": "Ada"}))
        .await;
    assert_eq!(me["user"]["status_text"], "In a meeting");
    let (_, me) = server
        .patch(&alice.token, "/me", json!({"status_text": ""}))
        .await;
    assert!(me["user"].get("status_text").is_none(), "{me}");
    let (_, me) = server.get(&alice.token, "/me").await;
    assert_eq!(me["user"]["display_name"], "Ada");

    // Bad input changes nothing.
    for (body, code) in [
        (json!({"display_name": ""}), "invalid_display_name"),
        (
            json!({"display_name": "a\u{202e}b"}),
            "invalid_display_name",
        ),
        (json!({"status_text": "x".repeat(101)}), "invalid_status"),
        (json!({"status_text": "two\nlines"}), "invalid_status"),
        (json!({"status_expires_in_minutes": 5}), "invalid_status"),
        (
            json!({"status_text": "x", "status_expires_in_minutes": 0}),
            "invalid_status",
        ),
        (
            json!({"status_text": "x", "status_expires_in_minutes": 525_601}),
            "invalid_status",
        ),
        (json!({"avatar": "x"}), "invalid_request"),
    ] {
        let (status, answer) = server.patch(&alice.token, "/me", body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let (_, me) = server.get(&alice.token, "/me").await;
    assert_eq!(
        (&me["user"]["display_name"], me["user"].get("status_text")),
        (&json!("Ada"), None)
    );
}

#[tokio::test]
async fn drafts_follow_the_user_to_their_other_sockets_and_sending_clears_them() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let mut other_device = server.connect(&alice).await;
    let mut bobs = server.connect(&bob).await;
    let draft_path = format!("/channels/{general}/draft");
    let root = server.send(&alice, &general, "root", "a root").await;
    let root_id = s(&root["id"]);

    let (status, saved) = server
        .put_json(&alice.token, &draft_path, json!({"body": "half a thought"}))
        .await;
    assert_eq!(status, 200, "{saved}");
    let frame = other_device.next_of("draft").await;
    assert_eq!(
        (&frame["draft"]["channel_id"], &frame["draft"]["body"]),
        (&json!(general), &json!("half a thought"))
    );
    let (status, got) = server.get(&alice.token, &draft_path).await;
    assert_eq!(
        (status, &got["draft"]["body"]),
        (200, &json!("half a thought"))
    );
    // Drafts are their author's: bob has none here and hears of none.
    let (status, _) = server.get(&bob.token, &draft_path).await;
    assert_eq!(status, 404);

    // A thread's composer has its own draft.
    let (status, _) = server
        .put_json(
            &alice.token,
            &draft_path,
            json!({"body": "a reply", "thread_root_id": root_id}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = server.get(&alice.token, "/me/drafts").await;
    assert_eq!(bodies(&list), ["a reply", "half a thought"]);

    // Sending in the channel clears the channel's draft, not the thread's.
    server
        .send(&alice, &general, "sent", "half a thought")
        .await;
    let (status, _) = server.get(&alice.token, &draft_path).await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(
            &alice.token,
            &format!("{draft_path}?thread_root_id={root_id}"),
        )
        .await;
    assert_eq!(status, 200);

    // Deleting tells the other devices with an empty body.
    let (status, _) = server
        .delete(
            &alice.token,
            &format!("{draft_path}?thread_root_id={root_id}"),
        )
        .await;
    assert_eq!(status, 204);
    let cleared = loop {
        let frame = other_device.next_of("draft").await;
        if frame["draft"]["thread_root_id"] == json!(root_id) && frame["draft"]["body"] == "" {
            break frame;
        }
    };
    assert_eq!(cleared["draft"]["channel_id"], json!(general));
    // Bob's socket heard none of it: the next thing it hears is a marker sent after.
    server.send(&bob, &general, "marker", "marker").await;
    let frames = bobs.frames_until("marker").await;
    assert!(frames.iter().all(|f| f["type"] != "draft"), "{frames:?}");

    // Bad input is refused and saves nothing.
    let secret = server.channel(&alice, &ws, "secret", true, &[]).await;
    for (path, body, status, code) in [
        (
            format!("/channels/{secret}/draft"),
            json!({"body": "x"}),
            404,
            "channel_not_found",
        ),
        (
            draft_path.clone(),
            json!({"body": "x", "thread_root_id": "nope"}),
            400,
            "invalid_id",
        ),
        (
            draft_path.clone(),
            json!({"body": "x", "thread_root_id": general}),
            400,
            "invalid_thread_root",
        ),
        (
            draft_path.clone(),
            json!({"body": "x".repeat(40_001)}),
            400,
            "body_too_long",
        ),
        (
            draft_path.clone(),
            json!({"text": "x"}),
            400,
            "invalid_request",
        ),
    ] {
        let (got, answer) = server.put_json(&bob.token, &path, body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
    }
    let (_, list) = server.get(&bob.token, "/me/drafts").await;
    assert_eq!(list["drafts"], json!([]));
}

#[tokio::test]
async fn drafts_past_the_configured_limit_forget_the_oldest() {
    let server = Server::start_with(&["--max-drafts-per-user", "2"]).await;
    let alice = server.register("alice").await;
    let (ws, general) = server.workspace(&alice, &[]).await;
    let random = server.channel(&alice, &ws, "random", false, &[]).await;
    let third = server.channel(&alice, &ws, "third", false, &[]).await;
    for (channel, body) in [(&general, "one"), (&random, "two"), (&third, "three")] {
        let (status, _) = server
            .put_json(
                &alice.token,
                &format!("/channels/{channel}/draft"),
                json!({"body": body}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (_, list) = server.get(&alice.token, "/me/drafts").await;
    assert_eq!(bodies(&list), ["three", "two"]);
}
