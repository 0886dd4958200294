//! The behaviour suite: notification preferences, thread follows, push subscriptions and the
//! outbox (jobs written by the message writes themselves, claims, withdrawal).

use super::*;
use crate::{NewNotification, NewSession, PushSubscription, Settled};
use confab_core::notify::{
    ChannelNotifyPrefs, DndSchedule, NotifyLevel, NotifyPrefs, NotifyReason,
};

const LEASE: i64 = 60;

async fn jobs(store: &dyn Store) -> u64 {
    expect(store.pending_notifications().await, "count").1
}

/// Claims every job now, with a fresh token.
async fn claim_all(store: &dyn Store, claim: i64) -> Vec<crate::NotifyJob> {
    let now = Timestamp::now();
    expect(
        store
            .claim_jobs(claim, now, now.plus_secs(LEASE), 100)
            .await,
        "claim jobs",
    )
}

fn mention(ids: &[&UserId]) -> Mentions {
    Mentions {
        user_ids: ids.iter().map(|u| (*u).clone()).collect(),
        ..Mentions::default()
    }
}

pub async fn messages_that_may_notify_leave_a_job_in_their_transaction(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;

    // A plain message in a channel nobody wants every message of: nothing to do.
    let plain = stored(store, new_message(&general, &alice, "plain", "hello")).await;
    assert_eq!(jobs(store).await, 0);

    // A mention, a thread reply, a DM: one job each.
    let mut named = new_message(&general, &alice, "named", "hi @bob");
    named.mentions = mention(&[&bob]);
    let named = stored(store, named).await;
    let mut reply = new_message(&general, &bob, "reply", "re");
    reply.thread_root_id = Some(plain.id.clone());
    stored(store, reply).await;
    let mut dm = new_channel(&ws, &alice, "", ChannelKind::Dm);
    dm.other_members = vec![bob.clone()];
    let dm = expect(store.create_channel(dm).await, "dm").value;
    stored(store, new_message(&dm.id, &alice, "dm", "psst")).await;
    assert_eq!(jobs(store).await, 3);

    // A member who wants every message makes plain messages count too.
    let all = NotifyPrefs {
        level: NotifyLevel::All,
        ..NotifyPrefs::default()
    };
    expect(store.set_notify_prefs(&bob, &all).await, "prefs");
    stored(
        store,
        new_message(&general, &alice, "plain2", "hello again"),
    )
    .await;
    assert_eq!(jobs(store).await, 4);

    // An edit that names someone new leaves an edit job with who was named before; one that
    // changes nothing of that leaves none.
    let carol = user(store, "carol").await;
    add_member(store, &ws, &carol).await;
    let before = jobs(store).await;
    expect(
        store
            .edit_message(&named.id, "hi @bob", &mention(&[&bob]), Timestamp::now())
            .await,
        "same mentions",
    );
    assert_eq!(jobs(store).await, before);
    expect(
        store
            .edit_message(
                &named.id,
                "hi @bob @carol",
                &mention(&[&bob, &carol]),
                Timestamp::now(),
            )
            .await,
        "new mention",
    );
    // A message's jobs are taken in order: its edit waits for its send's job.
    let claimed = claim_all(store, 7).await;
    assert_eq!(claimed.len(), 4);
    assert!(claimed.iter().all(|j| !j.edited));
    assert!(
        claimed.windows(2).all(|w| w[0].id < w[1].id),
        "oldest first"
    );
    let first = claimed
        .iter()
        .find(|j| j.message_id == named.id)
        .expect("the send's job");
    assert!(claim_all(store, 8).await.is_empty(), "the edit waits");
    assert!(expect(
        store.complete_job(first, &[], &[]).await,
        "complete"
    ));
    let edit = claim_all(store, 9).await.remove(0);
    assert!(edit.edited);
    assert_eq!(edit.message_id, named.id);
    assert_eq!(edit.old_mention_ids, vec![bob.to_string()]);
    assert_eq!(edit.mention_ids, vec![bob.to_string(), carol.to_string()]);
}

pub async fn jobs_and_deliveries_are_claimed_by_one_worker_at_a_time(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let mut m = new_message(&general, &alice, "m", "hi @bob");
    m.mentions = mention(&[&bob]);
    let m = stored(store, m).await;

    let first = claim_all(store, 1).await;
    assert_eq!(first.len(), 1);
    assert!(
        claim_all(store, 2).await.is_empty(),
        "held by the first claim"
    );
    // After the lease, another worker may take it; the first one's completion then fails.
    let later = Timestamp::now().plus_secs(LEASE + 1);
    let second = expect(
        store.claim_jobs(3, later, later.plus_secs(LEASE), 10).await,
        "reclaim",
    );
    assert_eq!(second.len(), 1);
    let item = |sink: &'static str, due: Timestamp| NewNotification {
        user_id: bob.clone(),
        sink,
        channel_id: general.clone(),
        message_id: m.id.clone(),
        seq: m.seq,
        reason: NotifyReason::Mention,
        due_at: due,
    };
    let now = Timestamp::now();
    let items = [item("push", now), item("email", now.plus_secs(120))];
    assert!(!expect(
        store.complete_job(&first[0], &items, &[]).await,
        "stale"
    ));
    assert!(expect(
        store.complete_job(&second[0], &items, &[]).await,
        "complete"
    ));
    assert_eq!(expect(store.pending_notifications().await, "count"), (2, 0));

    // Only the push head is due now; one claim takes it, a second finds nothing.
    let heads = expect(
        store
            .claim_deliveries(10, now, now.plus_secs(LEASE), 10)
            .await,
        "claim heads",
    );
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].sink, "push");
    assert!(
        expect(
            store
                .claim_deliveries(11, now, now.plus_secs(LEASE), 10)
                .await,
            "claim again"
        )
        .is_empty()
    );
    let due = expect(store.due_notifications(&heads[0], now, 50).await, "due");
    assert_eq!(due.len(), 1);
    assert!(due[0].member);
    assert_eq!(due[0].last_read_seq, 0);
    assert_eq!(due[0].message_id.as_ref(), Some(&m.id));
    assert_eq!(due[0].reason, Some(NotifyReason::Mention));

    // A failed attempt: due again later, the claim released.
    assert!(expect(
        store.retry_delivery(&heads[0], now.plus_secs(5)).await,
        "retry"
    ));
    let retried = expect(
        store
            .claim_deliveries(12, now.plus_secs(5), now.plus_secs(LEASE), 10)
            .await,
        "claim the retry",
    );
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 1);
    let settled = Settled {
        done: vec![due[0].id],
        sent: true,
        pushed: vec![(general.clone(), m.seq)],
        withdrew: Vec::new(),
        gone: Vec::new(),
    };
    assert!(!expect(
        store.finish_delivery(&heads[0], &settled, now, None).await,
        "stale"
    ));
    assert!(expect(
        store
            .finish_delivery(&retried[0], &settled, now, None)
            .await,
        "finish"
    ));
    assert_eq!(expect(store.pending_notifications().await, "count"), (1, 0));

    // Reading the channel cancels the email and queues a withdrawal of what was pushed.
    let withdrawn = expect(
        store
            .withdraw_notifications(&bob, &general, m.seq, now)
            .await,
        "withdraw",
    );
    assert_eq!(withdrawn.cancelled, 1);
    assert!(withdrawn.pushed);
    let heads = expect(
        store
            .claim_deliveries(13, now, now.plus_secs(LEASE), 10)
            .await,
        "claim the clear",
    );
    assert_eq!(heads.len(), 1);
    let due = expect(store.due_notifications(&heads[0], now, 50).await, "due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].message_id, None, "a withdrawal");
    assert_eq!(due[0].reason, None);
    // Reading again withdraws nothing more.
    let again = expect(
        store
            .withdraw_notifications(&bob, &general, m.seq, now)
            .await,
        "withdraw again",
    );
    assert_eq!(again, crate::Withdrawn::default());
}

/// An `@channel` in a large channel completes as one job: thousands of items (more than one
/// statement writes) and one head per user and sink, due at that user's earliest item.
pub async fn a_broadcast_completes_whole_in_one_transaction(store: &dyn Store) {
    const USERS: usize = 1_100;
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let mut m = new_message(&general, &alice, "m", "@channel hi");
    m.mentions = Mentions {
        channel: true,
        ..Mentions::default()
    };
    let m = stored(store, m).await;
    let job = claim_all(store, 1).await.remove(0);
    let now = Timestamp::now();
    let users: Vec<UserId> = (0..USERS).map(|_| UserId::generate()).collect();
    let mut add = Vec::new();
    for u in &users {
        for (sink, due) in [("push", now), ("email", now.plus_secs(30))] {
            add.push(NewNotification {
                user_id: u.clone(),
                sink,
                channel_id: general.clone(),
                message_id: m.id.clone(),
                seq: m.seq,
                reason: NotifyReason::Channel,
                due_at: due,
            });
        }
    }
    // One user with two push items, the later first: the head is due at the earlier.
    let mut early = add[0].clone();
    early.due_at = now.plus_secs(-30);
    add.insert(1, early);
    add.sort_by(|a, b| (&a.user_id, a.sink).cmp(&(&b.user_id, b.sink)));
    assert!(expect(
        store.complete_job(&job, &add, &[]).await,
        "complete"
    ));
    assert_eq!(
        expect(store.pending_notifications().await, "count"),
        (add.len() as u64, 0)
    );
    let heads = |at: Timestamp| async move {
        expect(
            store
                .claim_deliveries(2, at, at.plus_secs(LEASE), 10_000)
                .await,
            "claim heads",
        )
    };
    let early_heads = heads(now.plus_secs(-1)).await;
    assert_eq!(early_heads.len(), 1, "only the user with the earlier item");
    assert_eq!(
        (&early_heads[0].user_id, early_heads[0].sink.as_str()),
        (&users[0], "push")
    );
    assert_eq!(heads(now).await.len(), USERS - 1, "every other push head");
    // (The push heads are held for their lease still.)
    assert_eq!(
        heads(now.plus_secs(30)).await.len(),
        USERS,
        "every email head"
    );
}

pub async fn deleting_a_message_drops_its_pending_notifications(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let mut m = new_message(&general, &alice, "m", "hi @bob");
    m.mentions = mention(&[&bob]);
    let m = stored(store, m).await;
    let job = claim_all(store, 1).await.remove(0);
    let n = NewNotification {
        user_id: bob.clone(),
        sink: "webhook",
        channel_id: general.clone(),
        message_id: m.id.clone(),
        seq: m.seq,
        reason: NotifyReason::Mention,
        due_at: Timestamp::now(),
    };
    assert!(expect(
        store.complete_job(&job, &[n], &[]).await,
        "complete"
    ));
    // An edit job still waiting goes too.
    expect(
        store
            .edit_message(&m.id, "hi", &Mentions::default(), Timestamp::now())
            .await,
        "edit",
    );
    expect(
        store
            .edit_message(&m.id, "hi @bob", &mention(&[&bob]), Timestamp::now())
            .await,
        "edit",
    );
    // (The edit that took the mention away left a job too: it withdraws.)
    assert_eq!(expect(store.pending_notifications().await, "count"), (1, 2));
    expect(
        store.delete_message(&m.id, Timestamp::now()).await,
        "delete",
    );
    assert_eq!(expect(store.pending_notifications().await, "count"), (0, 0));
}

pub async fn notification_preferences_round_trip(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    assert_eq!(
        expect(store.notify_prefs(&alice).await, "prefs"),
        NotifyPrefs::default()
    );
    let prefs = NotifyPrefs {
        level: NotifyLevel::None,
        push: false,
        email: true,
        email_interval_minutes: 60,
        time_zone: "Europe/Berlin".into(),
        dnd: Some(DndSchedule {
            start_minute: 22 * 60,
            end_minute: 8 * 60,
        }),
        snooze_until: Some(Timestamp::from_micros(1_900_000_000_000_000)),
    };
    expect(store.set_notify_prefs(&alice, &prefs).await, "set");
    assert_eq!(expect(store.notify_prefs(&alice).await, "prefs"), prefs);

    let muted = ChannelNotifyPrefs {
        level: NotifyLevel::All,
        muted: true,
        ignore_channel_mentions: true,
    };
    expect(
        store
            .set_channel_notify_prefs(&alice, &general, &muted)
            .await,
        "set channel",
    );
    assert_eq!(
        expect(store.channel_notify_prefs(&alice, &general).await, "get"),
        muted
    );
    assert_eq!(
        expect(store.all_channel_notify_prefs(&alice).await, "list"),
        vec![(general.clone(), muted)]
    );
    // Several users at once, in the order asked, defaults for those with nothing saved.
    assert_eq!(
        expect(
            store
                .notify_prefs_in(&general, &[bob.clone(), alice.clone()])
                .await,
            "many"
        ),
        vec![
            (
                bob.clone(),
                NotifyPrefs::default(),
                ChannelNotifyPrefs::default()
            ),
            (alice.clone(), prefs.clone(), muted)
        ]
    );
    // A deactivated account is reached by nothing.
    expect(
        store.deactivate_user(&bob, Timestamp::now()).await,
        "deactivate",
    );
    assert_eq!(
        expect(
            store
                .notify_prefs_in(&general, &[bob.clone(), alice.clone()])
                .await,
            "many"
        ),
        vec![(alice.clone(), prefs.clone(), muted)]
    );
    assert!(expect(store.notify_recipient(&bob).await, "bob").is_none());
    assert_eq!(
        expect(store.notify_recipient(&alice).await, "alice").map(|u| u.id),
        Some(alice.clone())
    );
    // Back to defaults forgets the row.
    expect(
        store
            .set_channel_notify_prefs(&alice, &general, &ChannelNotifyPrefs::default())
            .await,
        "reset",
    );
    assert!(expect(store.all_channel_notify_prefs(&alice).await, "list").is_empty());

    assert_eq!(
        expect(store.workspace_notify_default(&ws).await, "default"),
        NotifyLevel::Mentions
    );
    expect(
        store
            .set_workspace_notify_default(&ws, NotifyLevel::All)
            .await,
        "set default",
    );
    assert_eq!(
        expect(store.workspace_notify_default(&ws).await, "default"),
        NotifyLevel::All
    );
}

pub async fn thread_followers_are_starters_repliers_and_who_chose(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    add_member(store, &ws, &carol).await;
    let root = stored(store, new_message(&general, &alice, "root", "root")).await;
    let mut reply = new_message(&general, &bob, "reply", "re");
    reply.thread_root_id = Some(root.id.clone());
    stored(store, reply).await;
    let followers = |v: Vec<UserId>| v.into_iter().collect::<BTreeSet<_>>();
    assert_eq!(
        followers(expect(store.thread_followers(&root.id).await, "followers")),
        followers(vec![alice.clone(), bob.clone()])
    );
    assert!(expect(store.follows_thread(&root.id, &bob).await, "bob"));
    assert!(!expect(
        store.follows_thread(&root.id, &carol).await,
        "carol"
    ));
    expect(
        store.set_thread_follow(&root.id, &carol, true).await,
        "follow",
    );
    expect(
        store.set_thread_follow(&root.id, &alice, false).await,
        "unfollow",
    );
    assert!(expect(
        store.follows_thread(&root.id, &carol).await,
        "carol"
    ));
    assert!(!expect(
        store.follows_thread(&root.id, &alice).await,
        "alice"
    ));
    assert_eq!(
        followers(expect(store.thread_followers(&root.id).await, "followers")),
        followers(vec![bob.clone(), carol.clone()])
    );
}

pub async fn push_subscriptions_belong_to_a_live_session(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let session = |user: &UserId| NewSession {
        id: SessionId::generate(),
        token_hash: MessageId::generate().to_string().into_bytes(),
        user: user.clone(),
        now: Timestamp::now(),
        client_name: "test".into(),
        created_from: "127.0.0.1".into(),
    };
    let life = SessionLifetime {
        idle_micros: i64::MAX / 4,
        absolute_micros: i64::MAX / 4,
    };
    let (s1, s2) = (session(&alice), session(&bob));
    let (s1_id, s2_id) = (s1.id.clone(), s2.id.clone());
    expect(store.create_session(s1, life).await, "session");
    expect(store.create_session(s2, life).await, "session");
    let sub = |id: &str, user: &UserId, session: &SessionId| PushSubscription {
        id: id.to_owned(),
        user_id: user.clone(),
        session_id: session.clone(),
        endpoint: "https://push.example/abc".to_owned(),
        p256dh: "key".to_owned(),
        auth: "auth".to_owned(),
        created_at: Timestamp::now(),
    };
    let (first, created) = expect(
        store
            .put_push_subscription(&sub("one", &alice, &s1_id))
            .await,
        "put",
    );
    assert!(created);
    assert_eq!(first.id, "one");
    // The same endpoint again keeps its id; from another account it changes hands.
    let (again, created) = expect(
        store.put_push_subscription(&sub("two", &bob, &s2_id)).await,
        "put again",
    );
    assert!(!created);
    assert_eq!(again.id, "one");
    assert_eq!(again.user_id, bob);
    assert!(expect(store.push_subscriptions(&alice).await, "alice's").is_empty());
    assert_eq!(
        expect(store.push_subscriptions(&bob).await, "bob's").len(),
        1
    );
    assert!(!expect(
        store.delete_push_subscription(&alice, "one").await,
        "not hers"
    ));
    // A signed-out device's subscription is not used.
    expect(store.revoke_all_sessions(&bob).await, "sign out");
    assert!(expect(store.push_subscriptions(&bob).await, "bob's").is_empty());
    assert!(expect(
        store.delete_push_subscription(&bob, "one").await,
        "remove"
    ));
    assert!(!expect(
        store.delete_push_subscription(&bob, "one").await,
        "gone"
    ));
}
