//! The bus and presence behaviour suites against Redis (the server at
//! `CONFAB_TEST_REDIS_URL`, default the local one, each test under a prefix of its own), and
//! what only a networked backend must show: surviving a Redis restart, and presence that
//! outlives a gateway only as long as its heartbeat.

use std::sync::Arc;
use std::time::Duration;

use confab_bus::testsuite::{Fixture, member_event, next, next_message};
use confab_bus::{Bus, Delivery, PresenceRegistry, RedisBus, RedisPresence};
use confab_core::{BusMessage, ChannelId, Presence, Topic, UserId};
use confab_testkit::PrivateRedis as RedisServer;

fn redis_url() -> String {
    std::env::var("CONFAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn prefix() -> String {
    format!("confab-test-{}", uuid::Uuid::now_v7())
}

async fn redis_bus() -> Fixture<dyn Bus> {
    let bus = RedisBus::connect(&redis_url(), &prefix())
        .await
        .expect("redis is running (the test command starts it)");
    assert!(bus.sharded(), "Redis 7 has sharded pub/sub");
    Fixture {
        backend: Arc::new(bus),
        guard: Box::new(()),
    }
}

async fn redis_presence() -> Fixture<dyn PresenceRegistry> {
    let presence = RedisPresence::connect(&redis_url(), &prefix(), Duration::from_secs(6))
        .await
        .expect("redis is running");
    Fixture {
        backend: Arc::new(presence),
        guard: Box::new(()),
    }
}

confab_bus::bus_behaviour_suite!(redis_bus());
confab_bus::presence_behaviour_suite!(redis_presence());

fn seq(msg: &BusMessage) -> i64 {
    match msg {
        BusMessage::Channel(e) => e.seq,
        other => panic!("expected a channel event, got {other:?}"),
    }
}

/// Receives until a message of `channel` with `seq >= from` arrives, returning its seq:
/// publishes retried after a reconnect may arrive again, and probes are negative.
async fn next_seq_from(sub: &Arc<dyn confab_bus::Subscription>, from: i64) -> i64 {
    loop {
        let s = seq(&*next_message(sub).await);
        if s >= from {
            return s;
        }
    }
}

#[tokio::test]
async fn a_restarted_redis_is_resubscribed_and_resync_is_asked() {
    let mut server = RedisServer::start().expect("a private redis-server");
    let bus = RedisBus::connect(&server.url(), "confab")
        .await
        .expect("connect");
    let sub = bus.subscription(1024);
    let channel = ChannelId::generate();
    sub.subscribe(Topic::Channel(channel.clone()))
        .await
        .expect("subscribe");
    // Live before the restart.
    let mut probe = 1;
    loop {
        bus.publish(member_event(&channel, probe))
            .await
            .expect("publish");
        if let Ok(Some(Delivery::Message(_))) =
            tokio::time::timeout(Duration::from_millis(200), sub.recv()).await
        {
            break;
        }
        probe += 1;
        assert!(probe < 50, "never live");
    }

    server.restart().expect("redis restarts");
    // The subscription notices, reconnects, subscribes again, and says deliveries were lost.
    loop {
        match next(&sub).await {
            Delivery::Resync => break,
            Delivery::Message(_) => continue,
        }
    }
    // And live delivery resumes on its own: publishes made now arrive (the publisher
    // reconnects too).
    let mut n = 1_000;
    loop {
        bus.publish(member_event(&channel, n))
            .await
            .expect("publish");
        match tokio::time::timeout(Duration::from_millis(200), sub.recv()).await {
            Ok(Some(Delivery::Message(m))) if seq(&m) >= 1_000 => break,
            _ => {}
        }
        n += 1;
        assert!(n < 1_100, "live delivery did not resume");
    }
    // In order, from there on.
    for s in 2_000..2_100 {
        bus.publish(member_event(&channel, s))
            .await
            .expect("publish");
    }
    for want in 2_000..2_100 {
        assert_eq!(next_seq_from(&sub, 2_000).await, want);
    }
}

#[tokio::test]
async fn publishing_while_redis_is_down_returns_at_once_and_is_delivered_after() {
    let mut server = RedisServer::start().expect("a private redis-server");
    let bus = RedisBus::connect(&server.url(), "confab")
        .await
        .expect("connect");
    let sub = bus.subscription(1024);
    let channel = ChannelId::generate();
    sub.subscribe(Topic::Channel(channel.clone()))
        .await
        .expect("subscribe");
    server.kill();
    tokio::time::timeout(Duration::from_secs(5), async {
        for s in 1..=100 {
            bus.publish(member_event(&channel, s))
                .await
                .expect("queued");
        }
    })
    .await
    .expect("publish never waits for redis");
    server.restart().expect("redis restarts");
    // Whatever the subscriber missed, it is told to resync; the queued publishes then arrive
    // once the publisher is back (duplicates are dropped by sequence number downstream).
    let mut resynced = false;
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 100 || !resynced {
        match next(&sub).await {
            Delivery::Resync => resynced = true,
            Delivery::Message(m) => {
                seen.insert(seq(&m));
            }
        }
    }
    assert_eq!(seen, (1..=100).collect());
}

#[tokio::test]
async fn a_silent_gateway_s_users_go_offline_after_its_ttl() {
    let prefix = prefix();
    let ttl = Duration::from_millis(600);
    let dead = RedisPresence::connect(&redis_url(), &prefix, ttl)
        .await
        .expect("connect");
    let alive = RedisPresence::connect(&redis_url(), &prefix, ttl)
        .await
        .expect("connect");
    let (a, b) = (UserId::generate(), UserId::generate());
    assert_eq!(dead.set(&a, 1, false).await, Some(Presence::Online));
    assert_eq!(dead.set(&b, 2, false).await, Some(Presence::Online));
    assert_eq!(
        alive.set(&b, 1, true).await,
        None,
        "b is also on the live gateway"
    );
    // The dead gateway stops its heartbeat; the live one keeps sweeping.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut changes = Vec::new();
    while changes.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
        changes = alive.maintain().await;
    }
    changes.sort_by_key(|(u, _)| *u == b);
    assert_eq!(
        changes,
        vec![(a.clone(), Presence::Offline), (b.clone(), Presence::Idle)]
    );
    assert_eq!(
        alive.status(&[a, b]).await,
        vec![Presence::Offline, Presence::Idle]
    );
    assert!(
        alive.maintain().await.is_empty(),
        "each change is reported once"
    );
}

#[tokio::test]
async fn a_gateway_registers_its_sockets_again_after_redis_forgets_them() {
    let mut server = RedisServer::start().expect("a private redis-server");
    let p = RedisPresence::connect(&server.url(), "confab", Duration::from_secs(6))
        .await
        .expect("connect");
    let u = UserId::generate();
    assert_eq!(p.set(&u, 1, false).await, Some(Presence::Online));
    server.restart().expect("redis restarts");
    // Redis keeps nothing: the user reads offline until the next heartbeat puts them back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never re-registered"
        );
        let changes = p.maintain().await;
        if !changes.is_empty() {
            assert_eq!(changes, vec![(u.clone(), Presence::Online)]);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(p.status(&[u]).await, vec![Presence::Online]);
}

/// Runs a command on the private server with redis-cli.
fn redis_cli(server: &RedisServer, args: &[&str]) {
    let status = std::process::Command::new("redis-cli")
        .args(["-p", &server.port.to_string()])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("redis-cli is installed with redis-server");
    assert!(status.success(), "redis-cli {args:?}");
}

#[tokio::test]
async fn presence_writes_redis_missed_are_replayed_by_the_next_heartbeat() {
    let server = RedisServer::start().expect("a private redis-server");
    let ttl = Duration::from_secs(60);
    let gateway = RedisPresence::connect(&server.url(), "confab", ttl)
        .await
        .expect("connect");
    let reader = RedisPresence::connect(&server.url(), "confab", ttl)
        .await
        .expect("connect");
    let (u, v) = (UserId::generate(), UserId::generate());
    assert_eq!(gateway.set(&v, 2, false).await, Some(Presence::Online));
    assert!(gateway.maintain().await.is_empty());

    // Redis stays up, with this gateway's liveness key alive, but refuses its writes for a
    // while (as a blip that loses commands would): a socket arrives and another leaves.
    redis_cli(&server, &["ACL", "SETUSER", "default", "-@scripting"]);
    assert_eq!(
        gateway.set(&u, 1, false).await,
        None,
        "the write was refused"
    );
    assert_eq!(gateway.remove(&v, 2).await, None, "so was this one");
    redis_cli(&server, &["ACL", "SETUSER", "default", "+@all"]);
    assert_eq!(
        reader.status(&[u.clone(), v.clone()]).await,
        vec![Presence::Offline, Presence::Online],
        "Redis missed both"
    );

    // The next heartbeat makes Redis match the gateway, and reports both changes.
    let mut changes = gateway.maintain().await;
    changes.sort_by_key(|(user, _)| *user == v);
    assert_eq!(
        changes,
        vec![
            (u.clone(), Presence::Online),
            (v.clone(), Presence::Offline)
        ]
    );
    assert_eq!(
        reader.status(&[u, v]).await,
        vec![Presence::Online, Presence::Offline]
    );
    assert!(gateway.maintain().await.is_empty(), "and nothing more");
}

/// While Redis is away, publishes wait in a queue bounded in bytes, not only in count (a
/// hundred thousand 64 KiB messages would be gigabytes): past the budget `publish` refuses at
/// once (the change is committed; subscribers catch up from the store), and once Redis is back
/// and the queue drains, publishing is accepted again.
#[tokio::test]
async fn the_publish_queue_is_bounded_in_bytes_while_redis_is_down() {
    let mut server = RedisServer::start().expect("a private redis-server");
    let bus = RedisBus::connect_with_budget(&server.url(), "confab", 64 * 1024)
        .await
        .expect("connect");
    let channel = ChannelId::generate();
    server.kill();
    let (mut accepted, mut refused) = (0, 0);
    for seq in 1..=2_000 {
        match bus.publish(member_event(&channel, seq)).await {
            Ok(()) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    // A member event is ~200 bytes: a few hundred fit the 64 KiB budget, not 2,000.
    assert!(
        accepted > 100 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
    server.restart().expect("redis restarts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while bus.publish(member_event(&channel, 0)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
