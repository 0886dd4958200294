//! The bus and presence behaviour suites, written once against [`Bus`] and
//! [`PresenceRegistry`] and instantiated for every backend with [`bus_behaviour_suite!`] and
//! [`presence_behaviour_suite!`](crate::presence_behaviour_suite); plus [`RedisServer`], a
//! private `redis-server` for tests that must stop and restart Redis.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use confab_core::{
    BusMessage, Change, ChannelEvent, ChannelId, Mentions, Message, MessageId, Presence, Timestamp,
    Topic, UserEvent, UserId,
};

use crate::{Bus, Delivery, PresenceRegistry, Subscription};

/// A backend under test and whatever must live as long as it.
pub struct Fixture<T: ?Sized> {
    pub backend: Arc<T>,
    pub guard: Box<dyn Any + Send>,
}

/// Instantiates every bus behaviour test for a backend. `$make` evaluates to a future of a
/// fresh `Fixture<dyn Bus>`, once per test.
#[macro_export]
macro_rules! bus_behaviour_suite {
    ($make:expr) => {
        $crate::bus_behaviour_suite!(@tests $make;
            delivers_only_subscribed_topics_in_publish_order,
            unsubscribing_stops_delivery,
            every_subscription_gets_its_own_copy,
            every_kind_of_message_arrives_intact,
            publishing_never_waits_for_subscribers
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let fixture: $crate::testsuite::Fixture<dyn $crate::Bus> = $make.await;
                $crate::testsuite::$name(fixture.backend.clone()).await;
                drop(fixture);
            }
        )*
    };
}

/// Instantiates every presence behaviour test for a backend. `$make` evaluates to a future of
/// a fresh `Fixture<dyn PresenceRegistry>`.
#[macro_export]
macro_rules! presence_behaviour_suite {
    ($make:expr) => {
        $crate::presence_behaviour_suite!(@tests $make;
            presence_aggregates_over_sockets,
            presence_reports_each_change_once,
            presence_status_of_many_users_at_once
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let fixture: $crate::testsuite::Fixture<dyn $crate::PresenceRegistry> =
                    $make.await;
                $crate::testsuite::$name(&*fixture.backend).await;
                drop(fixture);
            }
        )*
    };
}

const WAIT: Duration = Duration::from_secs(5);

/// The next delivery, failing the test if none comes in time.
pub async fn next(sub: &Arc<dyn Subscription>) -> Delivery {
    match tokio::time::timeout(WAIT, sub.recv()).await {
        Ok(Some(d)) => d,
        Ok(None) => panic!("the subscription ended"),
        Err(_) => panic!("no delivery within {WAIT:?}"),
    }
}

/// The next message, skipping `Resync`s (which a backend may send after connecting) and the
/// probes of [`await_live`] (negative sequence numbers).
pub async fn next_message(sub: &Arc<dyn Subscription>) -> Arc<BusMessage> {
    loop {
        if let Delivery::Message(m) = next(sub).await {
            if matches!(&*m, BusMessage::Channel(e) if e.seq < 0) {
                continue;
            }
            return m;
        }
    }
}

pub fn member_event(channel: &ChannelId, seq: i64) -> Arc<BusMessage> {
    Arc::new(BusMessage::Channel(ChannelEvent {
        channel_id: channel.clone(),
        seq,
        change: Change::MemberJoined {
            user_id: UserId::generate(),
        },
    }))
}

fn seq_of(msg: &BusMessage) -> i64 {
    match msg {
        BusMessage::Channel(e) => e.seq,
        other => panic!("expected a channel event, got {other:?}"),
    }
}

/// Publishes to `channel` until `sub` receives one, proving the subscription is live (a
/// backend may confirm a subscription before its server has it everywhere). Returns the seq
/// after the last probe.
async fn await_live(bus: &Arc<dyn Bus>, sub: &Arc<dyn Subscription>, channel: &ChannelId) -> i64 {
    for seq in 1..=50 {
        bus.publish(member_event(channel, -seq))
            .await
            .expect("publish");
        if let Ok(Some(Delivery::Message(m))) =
            tokio::time::timeout(Duration::from_millis(100), sub.recv()).await
        {
            assert_eq!(m.topic(), Topic::Channel(channel.clone()));
            // Drain any other probes still in flight.
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_millis(100), sub.recv()).await
            {}
            return seq;
        }
    }
    panic!("the subscription never went live");
}

pub async fn delivers_only_subscribed_topics_in_publish_order(bus: Arc<dyn Bus>) {
    let sub = bus.subscription(1024);
    let (a, b) = (ChannelId::generate(), ChannelId::generate());
    sub.subscribe(Topic::Channel(a.clone()))
        .await
        .expect("subscribe");
    await_live(&bus, &sub, &a).await;
    for seq in 1..=100 {
        bus.publish(member_event(&b, seq)).await.expect("publish");
        bus.publish(member_event(&a, seq)).await.expect("publish");
    }
    for want in 1..=100 {
        let m = next_message(&sub).await;
        assert_eq!(
            m.topic(),
            Topic::Channel(a.clone()),
            "only the subscribed topic"
        );
        assert_eq!(seq_of(&m), want, "in publish order");
    }
}

pub async fn unsubscribing_stops_delivery(bus: Arc<dyn Bus>) {
    let sub = bus.subscription(64);
    let (a, b) = (ChannelId::generate(), ChannelId::generate());
    sub.subscribe(Topic::Channel(a.clone()))
        .await
        .expect("subscribe");
    sub.subscribe(Topic::Channel(b.clone()))
        .await
        .expect("subscribe");
    await_live(&bus, &sub, &a).await;
    sub.unsubscribe(&Topic::Channel(a.clone()))
        .await
        .expect("unsubscribe");
    bus.publish(member_event(&a, 1)).await.expect("publish");
    bus.publish(member_event(&b, 1)).await.expect("publish");
    // Publishes from one publisher arrive in order: once b's arrives, a's would have.
    let m = next_message(&sub).await;
    assert_eq!(
        m.topic(),
        Topic::Channel(b),
        "a's publish was not delivered"
    );
}

pub async fn every_subscription_gets_its_own_copy(bus: Arc<dyn Bus>) {
    let a = ChannelId::generate();
    let subs: Vec<_> = (0..3).map(|_| bus.subscription(64)).collect();
    for sub in &subs {
        sub.subscribe(Topic::Channel(a.clone()))
            .await
            .expect("subscribe");
        await_live(&bus, sub, &a).await;
    }
    bus.publish(member_event(&a, 7)).await.expect("publish");
    for sub in &subs {
        assert_eq!(seq_of(&*next_message(sub).await), 7);
    }
}

pub async fn every_kind_of_message_arrives_intact(bus: Arc<dyn Bus>) {
    let channel = ChannelId::generate();
    let user = UserId::generate();
    let sub = bus.subscription(64);
    for topic in [
        Topic::Channel(channel.clone()),
        Topic::User(user.clone()),
        Topic::Presence(user.clone()),
    ] {
        sub.subscribe(topic).await.expect("subscribe");
    }
    await_live(&bus, &sub, &channel).await;
    let message = Message {
        id: MessageId::generate(),
        channel_id: channel.clone(),
        author_id: user.clone(),
        seq: 3,
        version: 3,
        body: Some("héllo *world* 🎉\n\"quoted\"".into()),
        ts: Timestamp::now(),
        edited_at: None,
        deleted: false,
        thread_root_id: None,
        reply_count: 0,
        last_reply_at: None,
        reply_users: vec![],
        reactions: vec![],
        mentions: Mentions {
            user_ids: vec![user.clone()],
            ..Mentions::default()
        },
        files: vec![confab_core::FileInfo {
            id: confab_core::FileId::generate(),
            filename: "plan é.png".into(),
            size: 25 * 1024 * 1024,
            content_type: "image/png".into(),
            width: Some(4000),
            height: Some(3000),
            thumbnail: Some((360, 270)),
        }],
    };
    let sent = vec![
        BusMessage::Channel(ChannelEvent {
            channel_id: channel.clone(),
            seq: 3,
            change: Change::MessageCreated {
                message,
                root: None,
            },
        }),
        BusMessage::User {
            user_id: user.clone(),
            event: UserEvent::Read {
                channel_id: channel.clone(),
                seq: 3,
            },
        },
        BusMessage::Typing {
            channel_id: channel.clone(),
            user_id: user.clone(),
        },
        BusMessage::Presence {
            user_id: user.clone(),
            status: Presence::Idle,
        },
    ];
    for msg in &sent {
        bus.publish(Arc::new(msg.clone())).await.expect("publish");
    }
    for want in &sent {
        assert_eq!(&*next_message(&sub).await, want);
    }
}

pub async fn publishing_never_waits_for_subscribers(bus: Arc<dyn Bus>) {
    let a = ChannelId::generate();
    let sub = bus.subscription(1);
    sub.subscribe(Topic::Channel(a.clone()))
        .await
        .expect("subscribe");
    // Nobody reads: every publish must still return at once.
    tokio::time::timeout(WAIT, async {
        for seq in 1..=1_000 {
            bus.publish(member_event(&a, seq)).await.expect("publish");
        }
    })
    .await
    .expect("publishes did not block on a subscriber that does not read");
}

pub async fn presence_aggregates_over_sockets(p: &dyn PresenceRegistry) {
    let u = UserId::generate();
    assert_eq!(
        p.status(std::slice::from_ref(&u)).await,
        vec![Presence::Offline]
    );
    assert_eq!(p.set(&u, 1, false).await, Some(Presence::Online));
    assert_eq!(
        p.set(&u, 2, true).await,
        None,
        "one active socket keeps the user online"
    );
    assert_eq!(p.set(&u, 1, true).await, Some(Presence::Idle));
    assert_eq!(
        p.status(std::slice::from_ref(&u)).await,
        vec![Presence::Idle]
    );
    assert_eq!(p.remove(&u, 2).await, None);
    assert_eq!(p.set(&u, 1, false).await, Some(Presence::Online));
    assert_eq!(p.remove(&u, 1).await, Some(Presence::Offline));
    assert_eq!(
        p.remove(&u, 1).await,
        None,
        "removing twice changes nothing"
    );
    assert_eq!(p.status(&[u]).await, vec![Presence::Offline]);
}

pub async fn presence_reports_each_change_once(p: &dyn PresenceRegistry) {
    let u = UserId::generate();
    // Many sockets of one user coming at once: exactly one of them turns the user online.
    let results = futures_util::future::join_all((0..20).map(|s| p.set(&u, s, false))).await;
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Some(Presence::Online))
            .count(),
        1,
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1);
    let results = futures_util::future::join_all((0..20).map(|s| p.remove(&u, s))).await;
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Some(Presence::Offline))
            .count(),
        1,
        "{results:?}"
    );
    assert!(
        p.maintain().await.is_empty(),
        "nothing changed behind the registry's back"
    );
}

pub async fn presence_status_of_many_users_at_once(p: &dyn PresenceRegistry) {
    let users: Vec<UserId> = (0..5).map(|_| UserId::generate()).collect();
    p.set(&users[1], 1, false).await;
    p.set(&users[3], 2, true).await;
    assert_eq!(
        p.status(&users).await,
        vec![
            Presence::Offline,
            Presence::Online,
            Presence::Offline,
            Presence::Idle,
            Presence::Offline
        ]
    );
    assert!(p.status(&[]).await.is_empty());
}
