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
    // An invite made just before leaving must not be a way back in.
    let (status, invite) = server
        .post(&bob.token, &format!("/workspaces/{ws}/invites"), json!({}))
        .await;
    assert_eq!(status, 201, "{invite}");
    let code = s(&invite["invite"]["code"]);
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
    let (status, body) = server
        .post(&bob.token, &format!("/invites/{code}/accept"), json!({}))
        .await;
    assert_eq!(status, 404, "nor come back with his own invite: {body}");

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

/// What each role may do, as a table (docs/accounts.md, "Roles"): every row is tried by an
/// owner, an admin, a member and a guest, each on fresh targets.
#[tokio::test]
async fn each_role_may_do_what_the_roles_table_says() {
    use crate::harness::User;
    let server = Server::start().await;
    let owner = server.register("owner").await;
    let (ws, _) = server.workspace(&owner, &[]).await;
    let add = async |user: &User, role: &str| {
        let (status, body) = server
            .post(
                &owner.token,
                &format!("/workspaces/{ws}/members"),
                json!({"user_id": user.id, "role": role}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    };
    let admin = server.register("admin").await;
    add(&admin, "admin").await;
    let member = server.register("member").await;
    add(&member, "member").await;
    let guest = server.register("guest").await;
    add(&guest, "guest").await;
    let public = server.channel(&owner, &ws, "public", false, &[]).await;
    let shared = server
        .channel(&owner, &ws, "shared", false, &[&admin, &member, &guest])
        .await;

    let rows = [
        "read a public channel not joined",
        "join a public channel",
        "create a channel",
        "create an invite",
        "add a workspace member",
        "add an admin",
        "remove a workspace member",
        "delete another's message",
        "rename another's channel",
    ];
    let expected: [(&str, &User, [u16; 9]); 4] = [
        (
            "owner",
            &owner,
            [200, 200, 201, 201, 201, 201, 204, 204, 200],
        ),
        (
            "admin",
            &admin,
            [200, 200, 201, 201, 201, 403, 204, 204, 200],
        ),
        (
            "member",
            &member,
            [200, 200, 201, 201, 403, 403, 403, 403, 403],
        ),
        (
            "guest",
            &guest,
            [404, 404, 403, 403, 403, 403, 403, 403, 403],
        ),
    ];
    // Everyone shares a lobby workspace, so that adding someone directly is a question of
    // role alone (a stranger is only ever invited: `consent…`).
    let mut fresh_people = Vec::new();
    for (role, _, _) in &expected {
        fresh_people.push((
            server.register(&format!("fresh-{role}")).await,
            server.register(&format!("fresh-admin-{role}")).await,
        ));
    }
    let mut lobby: Vec<&User> = vec![&admin, &member, &guest];
    lobby.extend(fresh_people.iter().flat_map(|(a, b)| [a, b]));
    server.workspace(&owner, &lobby).await;
    for ((role, user, want), (fresh, fresh_admin)) in expected.into_iter().zip(&fresh_people) {
        let victim = server.register(&format!("victim-{role}")).await;
        add(&victim, "member").await;
        let message = server
            .send(&owner, &shared, &format!("m-{role}"), "by the owner")
            .await;
        let request =
            async |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
                server
                    .request(method, Some(&user.token), &path, body)
                    .await
                    .0
            };
        use reqwest::Method;
        let got = [
            request(
                Method::GET,
                format!("/channels/{public}/messages?since=0"),
                None,
            )
            .await,
            request(
                Method::POST,
                format!("/channels/{public}/join"),
                Some(json!({})),
            )
            .await,
            request(
                Method::POST,
                format!("/workspaces/{ws}/channels"),
                Some(json!({"name": format!("made-by-{role}")})),
            )
            .await,
            request(
                Method::POST,
                format!("/workspaces/{ws}/invites"),
                Some(json!({})),
            )
            .await,
            request(
                Method::POST,
                format!("/workspaces/{ws}/members"),
                Some(json!({"user_id": fresh.id})),
            )
            .await,
            request(
                Method::POST,
                format!("/workspaces/{ws}/members"),
                Some(json!({"user_id": fresh_admin.id, "role": "admin"})),
            )
            .await,
            request(
                Method::DELETE,
                format!("/workspaces/{ws}/members/{}", victim.id),
                None,
            )
            .await,
            request(
                Method::DELETE,
                format!("/messages/{}", s(&message["id"])),
                None,
            )
            .await,
            request(
                Method::PATCH,
                format!("/channels/{shared}"),
                Some(json!({"name": format!("renamed-by-{role}")})),
            )
            .await,
        ];
        for ((row, want), got) in rows.iter().zip(want).zip(got) {
            assert_eq!(got, want, "{role}: {row}");
        }
    }
}

/// The first account administers the server; a server administrator (or the operator's
/// shell) deactivates an account: it cannot sign in, its sessions end and its sockets close,
/// and what it wrote stays.
#[tokio::test]
async fn server_administrators_deactivate_accounts_and_their_words_stay() {
    let server = Server::start().await;
    let first = server.register("first").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let dave = server.register("dave").await;
    let (_, general) = server.workspace(&first, &[&bob, &carol, &dave]).await;
    let admin_flag = async |user: &crate::harness::User| {
        server.get(&user.token, "/me").await.1["server_admin"].clone()
    };
    assert_eq!(admin_flag(&first).await, true, "the first account");
    assert_eq!(admin_flag(&bob).await, false);
    server.send(&bob, &general, "bob", "bob's words").await;
    let mut bobs_socket = server.connect(&bob).await;
    let deactivate = async |actor: &crate::harness::User, target: &crate::harness::User| {
        server
            .post(
                &actor.token,
                &format!("/admin/users/{}/deactivate", target.id),
                json!({}),
            )
            .await
            .0
    };
    assert_eq!(deactivate(&carol, &bob).await, 403, "not an administrator");
    assert_eq!(deactivate(&first, &first).await, 403, "not oneself");
    assert_eq!(deactivate(&first, &bob).await, 204);
    assert_eq!(
        bobs_socket.until_closed(crate::harness::WAIT).await.0,
        crate::harness::Ended::Close(Some(4001))
    );
    assert_eq!(server.get(&bob.token, "/me").await.0, 401);
    let (status, _) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": "bob", "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, 401, "a deactivated account cannot sign in");
    let (messages, _) = server.catch_up(&carol, &general, 0, 50).await;
    assert!(messages.iter().any(|m| m["body"] == "bob's words"));

    // From the operator's shell: another administrator, and a deactivation.
    server.admin(&["grant-admin", "carol"]).await;
    assert_eq!(admin_flag(&carol).await, true);
    server.admin(&["deactivate", "dave"]).await;
    assert_eq!(server.get(&dave.token, "/me").await.0, 401);
}

async fn try_register(
    server: &Server,
    name: &str,
    invite: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut body = json!({"username": name, "password": "correct horse"});
    if let Some(code) = invite {
        body["invite_code"] = json!(code);
    }
    server
        .request(reqwest::Method::POST, None, "/auth/register", Some(body))
        .await
}

/// `registration = closed`: only the first account registers; the operator creates the
/// others, each with a link to set their password.
#[tokio::test]
async fn a_closed_server_takes_its_first_account_and_then_only_operator_made_ones() {
    let server = Server::start_with(&["--registration", "closed"]).await;
    assert_eq!(
        try_register(&server, "first", None).await.0,
        201,
        "the first account"
    );
    let (status, body) = try_register(&server, "bob", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("registration_closed"))
    );
    let printed = server.admin(&["create-user", "bob"]).await;
    let token = printed
        .split("#token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no link in {printed:?}"))
        .to_owned();
    let (status, _) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/reset-password",
            Some(json!({"token": token, "new_password": "bob's own horse"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": "bob", "password": "bob's own horse"})),
        )
        .await;
    assert_eq!(status, 200);
}

/// `registration = invite`: after the first account, registering takes a workspace invite,
/// which the new account accepts.
#[tokio::test]
async fn an_invite_only_server_registers_whoever_brings_an_invite() {
    let server = Server::start_with(&["--registration", "invite"]).await;
    let (status, first) = try_register(&server, "first", None).await;
    assert_eq!(status, 201);
    let first = crate::harness::User {
        id: s(&first["user"]["id"]),
        token: s(&first["token"]),
    };
    let (ws, _) = server.workspace(&first, &[]).await;
    let (status, invite) = server
        .post(
            &first.token,
            &format!("/workspaces/{ws}/invites"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201);
    let code = s(&invite["invite"]["code"]);
    let (status, body) = try_register(&server, "bob", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("registration_closed"))
    );
    let (status, body) = try_register(&server, "bob", Some("not-a-code")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("invite_not_found"))
    );
    let (status, bob) = try_register(&server, "bob", Some(&code)).await;
    assert_eq!(status, 201, "{bob}");
    let (_, me) = server.get(&s(&bob["token"]), "/me").await;
    assert_eq!(
        me["workspaces"][0]["id"],
        ws.as_str(),
        "joined with the invite"
    );
}

/// Consent: an admin cannot put a stranger (nobody they share a workspace with) into their
/// workspace, and cannot tell a stranger from an unknown ID by the answer; they invite, and
/// the invitee accepts. A server administrator may add anyone.
#[tokio::test]
async fn nobody_is_put_in_a_stranger_s_workspace() {
    let server = Server::start().await;
    let operator = server.register("operator").await; // the server's first account
    let mallory = server.register("mallory").await;
    let victim = server.register("victim").await;
    let (ws, _) = server.workspace(&mallory, &[]).await;
    let add = async |target: &str| {
        server
            .post(
                &mallory.token,
                &format!("/workspaces/{ws}/members"),
                json!({"user_id": target}),
            )
            .await
    };
    let (status, body) = add(&victim.id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );
    let (unknown_status, unknown_body) = add("01900000-0000-7000-8000-00000000abcd").await;
    assert_eq!(
        (unknown_status, &unknown_body["error"]["code"]),
        (status, &body["error"]["code"]),
        "a stranger and an unknown ID look the same"
    );
    assert_eq!(
        server.get(&victim.token, "/me").await.1["workspaces"],
        json!([]),
        "the victim is in no workspace"
    );
    // The server's administrator may add anyone.
    let (ows, _) = server.workspace(&operator, &[]).await;
    let (status, _) = server
        .post(
            &operator.token,
            &format!("/workspaces/{ows}/members"),
            json!({"user_id": victim.id}),
        )
        .await;
    assert_eq!(status, 201);
}
