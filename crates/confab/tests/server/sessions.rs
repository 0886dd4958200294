//! Sessions as devices: signing out ends a session everywhere (its sockets close, its tickets
//! stop working, its token is refused) and nowhere else; a user lists their devices and signs
//! out one of them, or every one but this.

use serde_json::{Value, json};

use crate::harness::{Ended, Server, User, WAIT, Ws, s};

/// Signs `username` in again: another device, with its own session.
async fn login(server: &Server, username: &str, client_name: Option<&str>) -> User {
    let mut body = json!({"username": username, "password": "correct horse"});
    if let Some(name) = client_name {
        body["client_name"] = json!(name);
    }
    let (status, answer) = server
        .request(reqwest::Method::POST, None, "/auth/login", Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    User {
        id: s(&answer["user"]["id"]),
        token: s(&answer["token"]),
    }
}

async fn ticket(server: &Server, user: &User) -> String {
    let (status, body) = server.post(&user.token, "/ws/ticket", json!({})).await;
    assert_eq!(status, 200, "{body}");
    s(&body["ticket"])
}

async fn sessions(server: &Server, user: &User) -> Vec<Value> {
    let (status, body) = server.get(&user.token, "/me/sessions").await;
    assert_eq!(status, 200, "{body}");
    body["sessions"].as_array().expect("sessions").clone()
}

/// Reads `ws` until the server closes it; the close code.
async fn closed_with(ws: &mut Ws) -> Ended {
    ws.until_closed(WAIT).await.0
}

#[tokio::test]
async fn logout_ends_the_session_everywhere_and_only_that_session() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    let phone = login(&server, "alice", Some("phone")).await;
    let mut laptop_socket = server.connect(&alice).await;
    let mut phone_socket = server.connect(&phone).await;
    let unredeemed = ticket(&server, &alice).await;

    let (status, _) = server.post(&alice.token, "/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(
        closed_with(&mut laptop_socket).await,
        Ended::Close(Some(4001)),
        "the signed-out session's socket closes"
    );
    let url = format!("{}?ticket={unredeemed}", server.ws_base);
    match Ws::connect(&url, None, &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(
            resp.status().as_u16(),
            401,
            "a ticket issued before logout does not open a socket after it"
        ),
        other => panic!("expected a 401 refusal, got {:?}", other.map(|w| w.hello)),
    }
    let (status, _) = server.get(&alice.token, "/me").await;
    assert_eq!(status, 401, "the token is refused");
    assert!(
        Ws::connect(&server.ws_base, Some(&alice.token), &[])
            .await
            .is_err()
    );

    // The other device is untouched: its socket still receives, its token still works.
    server.send(&bob, &general, "after", "still here?").await;
    let e = phone_socket.next_event_in(&general).await;
    assert_eq!(e["message"]["body"], "still here?");
    assert_eq!(server.get(&phone.token, "/me").await.0, 200);
}

#[tokio::test]
async fn devices_are_listed_and_signed_out_one_or_all_but_this() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let mallory = server.register("mallory").await;
    let phone = login(&server, "alice", Some("Phone app 2.1")).await;
    let tablet = login(&server, "alice", None).await;

    let listed = sessions(&server, &phone).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["client_name"], "Phone app 2.1");
    assert!(
        listed.iter().all(|s| s["created_from"] == "127.0.0.1"
            && s["created_at"].is_string()
            && s["last_seen_at"].is_string()),
        "{listed:?}"
    );
    let id_of = |user: &User| {
        let server = &server;
        let token = user.token.clone();
        async move {
            let (_, body) = server.get(&token, "/me/sessions").await;
            body["sessions"]
                .as_array()
                .expect("sessions")
                .iter()
                .find(|s| s["current"] == true)
                .map(|session| s(&session["id"]))
                .expect("current")
        }
    };
    let tablet_id = id_of(&tablet).await;
    let mut tablet_socket = server.connect(&tablet).await;

    // Another user cannot sign alice's tablet out by naming it.
    let (status, body) = server
        .request(
            reqwest::Method::DELETE,
            Some(&mallory.token),
            &format!("/me/sessions/{tablet_id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("session_not_found"))
    );
    assert_eq!(server.get(&tablet.token, "/me").await.0, 200);

    // Alice signs the tablet out from her phone.
    let (status, _) = server
        .request(
            reqwest::Method::DELETE,
            Some(&phone.token),
            &format!("/me/sessions/{tablet_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        closed_with(&mut tablet_socket).await,
        Ended::Close(Some(4001))
    );
    assert_eq!(server.get(&tablet.token, "/me").await.0, 401);
    let (status, _) = server
        .request(
            reqwest::Method::DELETE,
            Some(&phone.token),
            &format!("/me/sessions/{tablet_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "already gone");

    // And then every session but the phone's.
    let mut laptop_socket = server.connect(&alice).await;
    let (status, body) = server
        .post(&phone.token, "/me/sessions/revoke-others", json!({}))
        .await;
    assert_eq!((status, body["revoked"].as_u64()), (200, Some(1)));
    assert_eq!(
        closed_with(&mut laptop_socket).await,
        Ended::Close(Some(4001))
    );
    assert_eq!(server.get(&alice.token, "/me").await.0, 401);
    let left = sessions(&server, &phone).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    // Mallory's own session was never touched.
    assert_eq!(server.get(&mallory.token, "/me").await.0, 200);
}

/// A password change needs the current password; it signs every other session out (their
/// sockets close) and keeps this one; the old password no longer signs in, the new one does.
#[tokio::test]
async fn a_password_change_needs_the_current_one_and_signs_other_devices_out() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let phone = login(&server, "alice", Some("phone")).await;
    let mut phone_socket = server.connect(&phone).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, body) = server
        .post(
            &alice.token,
            "/me/password",
            change("not it at all", "battery staple"),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("wrong_password"))
    );
    assert_eq!(
        server.get(&phone.token, "/me").await.0,
        200,
        "a refused change signs nobody out"
    );
    let (status, body) = server
        .post(
            &alice.token,
            "/me/password",
            change("correct horse", "short"),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_password"))
    );

    let (status, body) = server
        .post(
            &alice.token,
            "/me/password",
            change("correct horse", "battery staple"),
        )
        .await;
    assert_eq!((status, body["revoked"].as_u64()), (200, Some(1)), "{body}");
    assert_eq!(
        closed_with(&mut phone_socket).await,
        Ended::Close(Some(4001))
    );
    assert_eq!(server.get(&phone.token, "/me").await.0, 401);
    assert_eq!(
        server.get(&alice.token, "/me").await.0,
        200,
        "this session stays"
    );
    let old = json!({"username": "alice", "password": "correct horse"});
    let (status, _) = server
        .request(reqwest::Method::POST, None, "/auth/login", Some(old))
        .await;
    assert_eq!(status, 401);
    let new = json!({"username": "alice", "password": "battery staple"});
    let (status, _) = server
        .request(reqwest::Method::POST, None, "/auth/login", Some(new))
        .await;
    assert_eq!(status, 200);
}

/// An operator resets a password with `confab admin reset-password`, no email needed: the
/// one-time link sets a new password once, and signs every session of the user's out.
#[tokio::test]
async fn an_operator_s_reset_link_sets_a_password_once_and_signs_everything_out() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let mut socket = server.connect(&alice).await;
    let printed = server.admin(&["reset-password", "alice"]).await;
    let token = printed
        .split("#token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no link in {printed:?}"))
        .to_owned();
    let reset = |token: &str, password: &str| json!({"token": token, "new_password": password});
    let (status, _) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/reset-password",
            Some(reset(&token, "brand new horse")),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(closed_with(&mut socket).await, Ended::Close(Some(4001)));
    assert_eq!(
        server.get(&alice.token, "/me").await.0,
        401,
        "every session ends"
    );
    let (status, body) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/reset-password",
            Some(reset(&token, "another horse")),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_reset_token")),
        "the link works once"
    );
    login_with(&server, "alice", "brand new horse").await;
}

async fn login_with(server: &Server, username: &str, password: &str) {
    let (status, body) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": username, "password": password})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
