//! Notifications in a fleet: two chat services on one PostgreSQL both run the notification
//! worker, and each notification is delivered by exactly one of them.

use std::collections::BTreeMap;

use crate::fleet::{Backing, Fleet};
use crate::receivers::{Receiver, SECRET, settled, webhook};

#[tokio::test]
async fn two_chat_services_deliver_each_notification_exactly_once() {
    let mut hook = Receiver::start().await;
    let extra: Vec<String> = [
        "--notify-webhook-delay-ms",
        "200",
        "--notify-push-delay-ms",
        "200",
        "--notify-poll-ms",
        "20",
        "--notify-webhook-url",
        &format!("{}/hook", hook.url),
        "--notify-webhook-secret",
        SECRET,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fleet = Fleet::start_with(2, 0, Backing::shared(), extra, Vec::new()).await;
    let api = fleet.api();
    let alice = api.register("alice").await;
    let mut people = Vec::new();
    for i in 0..30 {
        people.push(api.register(&format!("user{i}")).await);
    }
    let refs: Vec<_> = people.iter().collect();
    let (_, general) = api.workspace(&alice, &refs).await;

    // 40 messages through both chat services, each naming five people.
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in 0..40 {
        let named: Vec<_> = (0..5)
            .map(|k| &people[(m * 7 + k * 3) % people.len()])
            .collect();
        let body = format!(
            "message {m} for {}",
            named
                .iter()
                .enumerate()
                .map(|(k, _)| format!("@user{}", (m * 7 + k * 3) % people.len()))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let chat = &fleet.chats[m % 2];
        chat.send(&alice, &general, &format!("m{m}"), &body).await;
        for u in named {
            *expected.entry((u.id.clone(), body.clone())).or_default() += 1;
        }
    }
    settled(&fleet.chats[0]).await;
    settled(&fleet.chats[1]).await;
    let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in hook.rest() {
        let (to, bodies) = webhook(&r);
        for b in bodies {
            *got.entry((to.clone(), b)).or_default() += 1;
        }
    }
    assert_eq!(got.len(), expected.len(), "every notification arrived");
    assert_eq!(got, expected, "each exactly once");
}
