//! Notifications for people who are away, end to end: a real SMTP server (aiosmtpd), real
//! HTTP receivers on loopback for the webhook and a push service, the real binary. Delays
//! are short here, and every wait is for an event (a delivery, a frame, the server's own
//! count of pending notifications reaching zero), each with a timeout.

use std::sync::atomic::Ordering;

use confab_notify::testing::Subscription;
use confab_testkit::SmtpServer;
use serde_json::{Value, json};

use crate::harness::{Server, User, WAIT, s};
use crate::receivers::{Receiver, SECRET, settled, webhook};

/// A server whose notifications go to `hook` (and `smtp` when given) after `delay_ms`.
async fn server(hook: &Receiver, smtp: Option<&SmtpServer>, delay_ms: u64) -> Server {
    let delay = delay_ms.to_string();
    let hook_url = format!("{}/hook", hook.url);
    let smtp_url = smtp.map(SmtpServer::url);
    let mut args = vec![
        "--notify-push-delay-ms",
        &delay,
        "--notify-email-delay-ms",
        &delay,
        "--notify-webhook-delay-ms",
        &delay,
    ];
    args.extend([
        "--notify-poll-ms",
        "50",
        "--notify-retry-base-ms",
        "50",
        "--notify-webhook-url",
        &hook_url,
        "--notify-webhook-secret",
        SECRET,
        "--notify-push-allow-insecure",
        "true",
    ]);
    if let Some(url) = &smtp_url {
        args.extend(["--smtp-url", url.as_str()]);
    }
    Server::start_with(&args).await
}

/// A user with an email address, who wants every email at once (no batching).
async fn register_with_email(server: &Server, name: &str) -> User {
    let (status, body) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/register",
            Some(json!({"username": name, "password": "correct horse",
                        "email": format!("{name}@example.com")})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user = User {
        id: s(&body["user"]["id"]),
        token: s(&body["token"]),
    };
    set_prefs(server, &user, json!({"email_interval_minutes": 0})).await;
    user
}

async fn set_prefs(server: &Server, user: &User, prefs: Value) -> Value {
    let (status, body) = server
        .put_json(&user.token, "/me/notification-preferences", prefs)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn decoded(mail: &confab_testkit::SmtpMessage) -> String {
    let raw = quoted_printable::decode(&mail.data, quoted_printable::ParseMode::Robust)
        .unwrap_or_else(|_| mail.data.clone().into_bytes());
    String::from_utf8_lossy(&raw).into_owned()
}

/// Basic delivery: an offline user is mentioned; after the delay exactly one email and one
/// webhook arrive, with the message and a link to it, the webhook validly signed.
#[tokio::test]
async fn an_offline_mention_sends_one_email_and_one_webhook() {
    let mut hook = Receiver::start().await;
    let mut smtp = SmtpServer::start().await.expect("aiosmtpd");
    let server = server(&hook, Some(&smtp), 300).await;
    let alice = server.register("alice").await;
    let bob = register_with_email(&server, "bob").await;
    let (ws, general) = server.workspace(&alice, &[&bob]).await;
    let sent = server
        .send(&alice, &general, "m1", "deploy at noon, @bob")
        .await;

    let mail = smtp.next_message(WAIT).await.expect("an email");
    assert_eq!(mail.rcpt_tos, vec!["bob@example.com".to_owned()]);
    let text = decoded(&mail);
    assert!(text.contains("deploy at noon, @bob"), "{text}");
    let link = format!("/w/{ws}/c/{general}/m/{}", sent["seq"]);
    assert!(text.contains(&link), "a link back to the message: {text}");
    assert!(text.contains("List-Unsubscribe:"), "{text}");

    let (to, bodies) = webhook(&hook.next().await);
    assert_eq!(to, bob.id);
    assert_eq!(bodies, vec!["deploy at noon, @bob".to_owned()]);

    // Exactly one of each: the next ones are the next message's.
    server
        .send(&alice, &general, "m2", "and @bob, lunch?")
        .await;
    let mail = smtp.next_message(WAIT).await.expect("a second email");
    let text = decoded(&mail);
    assert!(
        text.contains("lunch?") && !text.contains("deploy at noon"),
        "{text}"
    );
    let (_, bodies) = webhook(&hook.next().await);
    assert_eq!(bodies, vec!["and @bob, lunch?".to_owned()]);
    settled(&server).await;
    assert!(hook.rest().is_empty());
}

/// Read elsewhere first: the user reads the channel on another device before the delay.
/// Nothing is sent, and their other sockets hear `notification.cleared`.
#[tokio::test]
async fn reading_on_another_device_first_sends_nothing_and_clears_every_device() {
    let mut hook = Receiver::start().await;
    let mut smtp = SmtpServer::start().await.expect("aiosmtpd");
    let server = server(&hook, Some(&smtp), 1500).await;
    let alice = server.register("alice").await;
    let bob = register_with_email(&server, "bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    // Bob's laptop is open but idle (so it is not "active now", which would drop the
    // notification by itself); alice watches his presence to know the server has that.
    let mut laptop = server.connect(&bob).await;
    laptop
        .send_json(json!({"type": "presence", "status": "idle"}))
        .await;
    let mut watcher = server.connect(&alice).await;
    watcher
        .send_json(json!({"type": "presence_subscribe", "user_ids": [bob.id]}))
        .await;
    loop {
        let p = watcher.next_of("presence").await;
        if p["status"] == "idle" {
            break;
        }
    }
    let sent = server
        .send(&alice, &general, "m1", "@bob the build broke")
        .await;
    let seq = sent["seq"].as_i64().expect("seq");
    // His phone reads the channel.
    let (status, body) = server
        .post(
            &bob.token,
            &format!("/channels/{general}/read"),
            json!({"seq": seq}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cleared = laptop.next_of("notification.cleared").await;
    assert_eq!(cleared["channel_id"], general.as_str());
    assert_eq!(cleared["seq"], seq);

    // Nothing went: the next delivery is of a later message, alone.
    server.send(&alice, &general, "m2", "@bob fixed now").await;
    let (_, bodies) = webhook(&hook.next().await);
    assert_eq!(bodies, vec!["@bob fixed now".to_owned()]);
    let text = decoded(&smtp.next_message(WAIT).await.expect("an email"));
    assert!(
        text.contains("fixed now") && !text.contains("build broke"),
        "{text}"
    );
}

/// Preferences: `none`, `mentions`, mute, ignoring `@channel`, DND and snooze each
/// suppress what they should and nothing else.
#[tokio::test]
async fn preferences_suppress_what_they_should_and_nothing_else() {
    let mut hook = Receiver::start().await;
    let server = server(&hook, None, 200).await;
    let alice = server.register("alice").await;
    let names = [
        "none", "mentions", "muted", "ignoring", "dnd", "snoozed", "all",
    ];
    let mut users = Vec::new();
    for n in names {
        users.push(server.register(n).await);
    }
    let refs: Vec<&User> = users.iter().collect();
    let (_, general) = server.workspace(&alice, &refs).await;
    let by = |name: &str| &users[names.iter().position(|n| *n == name).expect("a user")];
    // DND over the next two hours, in UTC.
    let now_min = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 60)
        % 1440;
    let hhmm = |m: u64| format!("{:02}:{:02}", (m % 1440) / 60, m % 60);
    set_prefs(&server, by("none"), json!({"level": "none"})).await;
    set_prefs(&server, by("mentions"), json!({"level": "mentions"})).await;
    set_prefs(&server, by("all"), json!({"level": "all"})).await;
    set_prefs(
        &server,
        by("dnd"),
        json!({"time_zone": "UTC", "dnd": {"start": hhmm(now_min + 1439), "end": hhmm(now_min + 120)}}),
    )
    .await;
    set_prefs(&server, by("snoozed"), json!({"snooze_minutes": 60})).await;
    for (name, prefs) in [
        ("muted", json!({"muted": true})),
        ("ignoring", json!({"ignore_channel_mentions": true})),
    ] {
        let (status, body) = server
            .put_json(
                &by(name).token,
                &format!("/channels/{general}/notification-preferences"),
                prefs,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    server.send(&alice, &general, "plain", "plain hello").await;
    server
        .send(&alice, &general, "everyone", "@channel standup")
        .await;
    server
        .send(
            &alice,
            &general,
            "named",
            "@none @mentions @muted @ignoring @dnd @snoozed review please",
        )
        .await;
    // A DM still reaches the one who muted the channel.
    let (status, dm) = server
        .post(
            &alice.token,
            &format!("/workspaces/{}/dms", server_ws(&server, &alice).await),
            json!({"user_ids": [by("muted").id]}),
        )
        .await;
    assert!(status == 200 || status == 201, "{dm}");
    server
        .send(&alice, &s(&dm["channel"]["id"]), "dm", "a word in private")
        .await;
    settled(&server).await;

    let mut heard: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in hook.rest() {
        let (to, bodies) = webhook(&r);
        heard.entry(to).or_default().extend(bodies);
    }
    let expect = |bodies: &[&str]| {
        let mut v: Vec<String> = bodies.iter().map(|b| (*b).to_owned()).collect();
        v.sort();
        v
    };
    let named = "@none @mentions @muted @ignoring @dnd @snoozed review please";
    let table: [(&str, Vec<String>); 7] = [
        ("none", expect(&[])),
        ("mentions", expect(&["@channel standup", named])),
        ("muted", expect(&["a word in private"])),
        ("ignoring", expect(&[named])),
        ("dnd", expect(&[])),
        ("snoozed", expect(&[])),
        ("all", expect(&["plain hello", "@channel standup", named])),
    ];
    for (name, wanted) in table {
        let mut got = heard.remove(&by(name).id).unwrap_or_default();
        got.sort();
        assert_eq!(got, wanted, "{name}");
    }
    assert!(heard.is_empty(), "nobody else heard anything: {heard:?}");
}

async fn server_ws(server: &Server, user: &User) -> String {
    let (status, me) = server.get(&user.token, "/me").await;
    assert_eq!(status, 200, "{me}");
    s(&me["workspaces"][0]["id"])
}

/// Crash: the process is killed between the commit and the delivery; after a restart the
/// notification is still delivered, exactly once.
#[tokio::test]
async fn a_notification_committed_before_a_crash_is_delivered_once_after_restart() {
    let mut hook = Receiver::start().await;
    // The process may die while it holds the job (claimed, not yet expanded): the job passes
    // on when its lease runs out, so the lease is short here.
    let hook_url = format!("{}/hook", hook.url);
    let mut server = Server::start_with(&[
        "--notify-webhook-delay-ms",
        "1500",
        "--notify-push-delay-ms",
        "1500",
        "--notify-poll-ms",
        "50",
        "--notify-lease-ms",
        "2000",
        "--notify-sink-timeout-ms",
        "1000",
        "--notify-webhook-url",
        &hook_url,
        "--notify-webhook-secret",
        SECRET,
    ])
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    server
        .send(&alice, &general, "m1", "@bob before the crash")
        .await;
    server.kill9().await;
    let server = server.restart().await;
    let (to, bodies) = webhook(&hook.next().await);
    assert_eq!(to, bob.id);
    assert_eq!(bodies, vec!["@bob before the crash".to_owned()]);
    settled(&server).await;
    assert!(hook.rest().is_empty(), "delivered once");
}

/// Web Push: the payload is encrypted per RFC 8291 for the subscription (the test decrypts
/// it with the browser's private key); reading withdraws it with a clear push; a push
/// service answering 410 gets the subscription removed.
#[tokio::test]
async fn web_push_is_encrypted_for_the_browser_withdrawn_when_read_and_forgotten_when_gone() {
    let hook = Receiver::start().await;
    let mut push = Receiver::start().await;
    let server = server(&hook, None, 200).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    let browser = Subscription::generate().expect("keys");
    let endpoint = format!("{}/push/bob-laptop", push.url);
    let (status, body) = server
        .post(
            &bob.token,
            "/me/push-subscriptions",
            json!({"endpoint": endpoint, "keys": {"p256dh": browser.p256dh(), "auth": browser.auth_base64url()}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, list) = server.get(&bob.token, "/me/push-subscriptions").await;
    assert_eq!(status, 200);
    assert_eq!(list["subscriptions"].as_array().map(Vec::len), Some(1));
    assert!(list["vapid_public_key"].is_string());

    let sent = server.send(&alice, &general, "m1", "@bob ship it").await;
    let delivery = push.next().await;
    assert_eq!(delivery.path, "/push/bob-laptop");
    assert_eq!(delivery.headers["content-encoding"], "aes128gcm");
    assert!(
        delivery.headers["authorization"]
            .to_str()
            .expect("vapid")
            .starts_with("vapid t="),
    );
    let plain: Value = serde_json::from_slice(&browser.decrypt(&delivery.body).expect("decrypts"))
        .expect("json payload");
    let shown = &plain["notifications"][0];
    assert_eq!(shown["tag"], general.as_str());
    assert_eq!(shown["body"], "@bob ship it");
    assert_eq!(shown["seq"], sent["seq"]);

    // Read on another device: a clear push for the channel's tag.
    let (status, _) = server
        .post(
            &bob.token,
            &format!("/channels/{general}/read"),
            json!({"seq": sent["seq"]}),
        )
        .await;
    assert_eq!(status, 200);
    let clear = push.next().await;
    let plain: Value = serde_json::from_slice(&browser.decrypt(&clear.body).expect("decrypts"))
        .expect("json payload");
    assert_eq!(plain["clear"], json!([general]));
    assert_eq!(plain["notifications"], json!([]));

    // The browser unsubscribed: the push service says 410, and the subscription goes.
    push.status.store(410, Ordering::SeqCst);
    server.send(&alice, &general, "m2", "@bob again").await;
    push.next().await;
    settled(&server).await;
    let (_, list) = server.get(&bob.token, "/me/push-subscriptions").await;
    assert_eq!(list["subscriptions"], json!([]), "{list}");
}

/// Edits and deletes: a mention added by an edit notifies; a deleted message's pending
/// notification is withdrawn.
#[tokio::test]
async fn an_edit_that_mentions_notifies_and_a_delete_withdraws() {
    let mut hook = Receiver::start().await;
    let server = server(&hook, None, 800).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    let plain = server.send(&alice, &general, "m1", "who can review?").await;
    // Bob had read it before it named him: the edit is news all the same.
    let (status, _) = server
        .post(
            &bob.token,
            &format!("/channels/{general}/read"),
            json!({"seq": plain["seq"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .patch(
            &alice.token,
            &format!("/messages/{}", s(&plain["id"])),
            json!({"body": "who can review? @bob"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (to, bodies) = webhook(&hook.next().await);
    assert_eq!(to, bob.id);
    assert_eq!(bodies, vec!["who can review? @bob".to_owned()]);

    let gone = server
        .send(&alice, &general, "m2", "@bob oops, wrong channel")
        .await;
    let (status, _) = server
        .delete(&alice.token, &format!("/messages/{}", s(&gone["id"])))
        .await;
    assert!(status == 200 || status == 204, "{status}");
    settled(&server).await;
    assert!(
        hook.rest().is_empty(),
        "the deleted message notified nobody"
    );
}

/// Bad preferences are refused whole, and change nothing.
#[tokio::test]
async fn bad_preferences_and_subscriptions_are_refused_and_change_nothing() {
    let hook = Receiver::start().await;
    let server = server(&hook, None, 200).await;
    let bob = server.register("bob").await;
    let before = server
        .get(&bob.token, "/me/notification-preferences")
        .await
        .1;
    for bad in [
        json!({"level": "loud"}),
        json!({"level": "all", "time_zone": "Mars/Olympus"}),
        json!({"dnd": {"start": "25:00", "end": "08:00"}}),
        json!({"email_interval_minutes": 100000}),
        json!({"snooze_minutes": -1}),
    ] {
        let (status, body) = server
            .put_json(&bob.token, "/me/notification-preferences", bad.clone())
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(
            body["error"]["code"], "invalid_preferences",
            "{bad}: {body}"
        );
    }
    assert_eq!(
        server
            .get(&bob.token, "/me/notification-preferences")
            .await
            .1,
        before
    );
    let browser = Subscription::generate().expect("keys");
    for (endpoint, p256dh, auth) in [
        (
            "ftp://push.example/x".to_owned(),
            browser.p256dh(),
            browser.auth_base64url(),
        ),
        (
            format!("{}/x", hook.url),
            "bm90IGEga2V5".to_owned(),
            browser.auth_base64url(),
        ),
        (
            format!("{}/x", hook.url),
            browser.p256dh(),
            "c2hvcnQ".to_owned(),
        ),
    ] {
        let (status, body) = server
            .post(
                &bob.token,
                "/me/push-subscriptions",
                json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}),
            )
            .await;
        assert_eq!(status, 400, "{endpoint}: {body}");
        assert_eq!(body["error"]["code"], "invalid_push_subscription");
    }
    let (_, list) = server.get(&bob.token, "/me/push-subscriptions").await;
    assert_eq!(list["subscriptions"], json!([]));
}

/// Threads: replies notify whoever started the thread, replied in it, or follows it, and not
/// one who unfollowed; the link opens the thread's root.
#[tokio::test]
async fn thread_replies_notify_starters_repliers_and_followers_until_they_unfollow() {
    let mut hook = Receiver::start().await;
    let server = server(&hook, None, 200).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let dave = server.register("dave").await;
    let (ws, general) = server.workspace(&alice, &[&bob, &carol, &dave]).await;
    let root = server.send(&bob, &general, "root", "lunch plans?").await;
    let root_id = s(&root["id"]);
    let reply = |user: &User, cid: &str, body: &str| {
        let (token, cid, body, root_id) = (
            user.token.clone(),
            cid.to_owned(),
            body.to_owned(),
            root_id.clone(),
        );
        let server = &server;
        let general = general.clone();
        async move {
            let (status, resp) = server
                .post(
                    &token,
                    &format!("/channels/{general}/messages"),
                    json!({"client_msg_id": cid, "body": body, "thread_root_id": root_id}),
                )
                .await;
            assert_eq!(status, 201, "{resp}");
        }
    };
    reply(&carol, "r1", "tacos").await;
    settled(&server).await;
    // Carol's reply told bob, who started the thread, and nobody else.
    let (to, bodies) = webhook(&hook.next().await);
    assert_eq!((to, bodies), (bob.id.clone(), vec!["tacos".to_owned()]));
    assert!(hook.rest().is_empty());
    let (status, body) = server
        .put(&dave.token, &format!("/messages/{root_id}/follow"))
        .await;
    assert_eq!((status, &body["following"]), (200, &json!(true)), "{body}");

    let (_, thread) = server
        .get(&bob.token, &format!("/messages/{root_id}/thread"))
        .await;
    assert_eq!(thread["following"], true, "a starter follows");
    let (status, body) = server
        .delete(&bob.token, &format!("/messages/{root_id}/follow"))
        .await;
    assert_eq!((status, &body["following"]), (200, &json!(false)), "{body}");
    reply(&alice, "r2", "ramen?").await;
    settled(&server).await;
    let mut heard: Vec<(String, Vec<String>, String)> = hook
        .rest()
        .iter()
        .map(|r| {
            let (to, bodies) = webhook(r);
            (to, bodies, s(&r.json()["notifications"][0]["url"]))
        })
        .collect();
    heard.sort();
    let link = format!("/w/{ws}/c/{general}/m/{}", root["seq"]);
    let mut want = vec![
        (carol.id.clone(), vec!["ramen?".to_owned()]),
        (dave.id.clone(), vec!["ramen?".to_owned()]),
    ];
    want.sort();
    assert_eq!(
        heard
            .iter()
            .map(|(to, b, _)| (to.clone(), b.clone()))
            .collect::<Vec<_>>(),
        want,
        "the replier and the follower, not bob who unfollowed"
    );
    for (_, _, url) in heard {
        assert!(url.ends_with(&link), "{url} opens the root {link}");
    }
}

/// Privacy: one who left a private channel before the delay hears nothing of it; with
/// `notify_hide_content`, push, email and webhook carry no message text.
#[tokio::test]
async fn notifications_never_carry_what_the_recipient_may_no_longer_read() {
    let mut hook = Receiver::start().await;
    let server = server(&hook, None, 600).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let (ws, _) = server.workspace(&alice, &[&bob, &carol]).await;
    let secret = server
        .channel(&alice, &ws, "secret", true, &[&bob, &carol])
        .await;
    server
        .send(&alice, &secret, "m1", "@bob @carol the merger is on")
        .await;
    let (status, body) = server
        .post(&bob.token, &format!("/channels/{secret}/leave"), json!({}))
        .await;
    assert!(status == 200 || status == 204, "{body}");
    settled(&server).await;
    let heard: Vec<String> = hook.rest().iter().map(|r| webhook(r).0).collect();
    assert_eq!(heard, vec![carol.id.clone()], "only carol, still a member");

    // Content hidden: the digest says who and where, never what.
    let mut hook = Receiver::start().await;
    let mut smtp = SmtpServer::start().await.expect("aiosmtpd");
    let hook_url = format!("{}/hook", hook.url);
    let smtp_url = smtp.url();
    let server = Server::start_with(&[
        "--notify-webhook-delay-ms",
        "100",
        "--notify-email-delay-ms",
        "100",
        "--notify-poll-ms",
        "50",
        "--notify-hide-content",
        "true",
        "--notify-webhook-url",
        &hook_url,
        "--notify-webhook-secret",
        SECRET,
        "--smtp-url",
        &smtp_url,
    ])
    .await;
    let alice = server.register("alice").await;
    let bob = register_with_email(&server, "bob").await;
    let (_, general) = server.workspace(&alice, &[&bob]).await;
    server
        .send(&alice, &general, "m1", "@bob the password is hunter2")
        .await;
    let hooked = hook.next().await;
    assert!(!String::from_utf8_lossy(&hooked.body).contains("hunter2"));
    assert_eq!(hooked.json()["notifications"][0]["body"], Value::Null);
    let text = decoded(&smtp.next_message(WAIT).await.expect("an email"));
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("New message from"), "{text}");
}

/// A deactivated account keeps its memberships (its words stay), but nothing reaches it:
/// neither what was said after it was deactivated nor what was pending when it was.
#[tokio::test]
async fn deactivated_accounts_hear_nothing_more() {
    let mut hook = Receiver::start().await;
    let mut smtp = SmtpServer::start().await.expect("aiosmtpd");
    let server = server(&hook, Some(&smtp), 800).await;
    let admin = server.register("admin").await;
    let bob = register_with_email(&server, "bob").await;
    let carol = register_with_email(&server, "carol").await;
    let dave = register_with_email(&server, "dave").await;
    let (_, general) = server.workspace(&admin, &[&bob, &carol, &dave]).await;
    let deactivate = async |user: &User| {
        let (status, body) = server
            .post(
                &admin.token,
                &format!("/admin/users/{}/deactivate", user.id),
                json!({}),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    };
    deactivate(&carol).await;
    server
        .send(
            &admin,
            &general,
            "m1",
            "@bob @carol @dave the office is closed",
        )
        .await;
    // Dave's is pending (the delay has not passed) when he is deactivated.
    deactivate(&dave).await;
    settled(&server).await;
    let heard: Vec<String> = hook.rest().iter().map(|r| webhook(r).0).collect();
    assert_eq!(heard, vec![bob.id.clone()], "only bob, still active");
    let mail = smtp.next_message(WAIT).await.expect("bob's email");
    assert_eq!(mail.rcpt_tos, vec!["bob@example.com".to_owned()]);
    // And no other email: the next is the next message's, to bob.
    server
        .send(&admin, &general, "m2", "@bob @carol @dave reopened")
        .await;
    let mail = smtp.next_message(WAIT).await.expect("bob's second email");
    assert_eq!(mail.rcpt_tos, vec!["bob@example.com".to_owned()]);
    assert!(decoded(&mail).contains("reopened"));
    let (to, _) = webhook(&hook.next().await);
    assert_eq!(to, bob.id);
}
