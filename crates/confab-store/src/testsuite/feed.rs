//! The behaviour suite: Reading history back: the changes feed and its pages, history pages, and the change log replayed as events.

use super::*;

pub async fn changes_feed_pages_and_cursor(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, _) = workspace(store, &alice).await;
    let c = public_channel(store, &ws, &alice, "dev").await;
    for i in 0..5 {
        send(store, &c.id, &alice, &format!("m{i}")).await; // seqs 2..=6
    }
    let page = expect(store.messages_since(&c.id, 0, 3).await, "page 1");
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert!(page.has_more);
    assert_eq!(page.next_cursor, 4);
    let page = expect(
        store.messages_since(&c.id, page.next_cursor, 3).await,
        "page 2",
    );
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![5, 6]
    );
    assert!(!page.has_more);
    assert_eq!(page.next_cursor, 6);
    // A membership change is not a message, but it must not hold the cursor back.
    expect(
        store
            .add_channel_member(&c.id, &bob, Timestamp::now())
            .await,
        "add",
    ); // seq 7
    let page = expect(store.messages_since(&c.id, 6, 3).await, "page 3");
    assert!(page.messages.is_empty() && !page.has_more);
    assert_eq!(page.next_cursor, 7);
    let unknown = store.messages_since(&ChannelId::generate(), 0, 3).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(crate::Missing::Channel))),
        "{unknown:?}"
    );
}

/// A channel full of threads, edits, reactions and deleted replies, paged through at every
/// page size from 1 to 10: what the pages add up to is exactly one full read. A thread reply
/// and its root share a version, so a page that ended between them used to lose one for good.
pub async fn feed_pages_at_every_size_add_up_to_one_full_read(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let now = Timestamp::now();
    let mut roots = Vec::new();
    for i in 0..4 {
        roots.push(
            stored(
                store,
                new_message(&general, &alice, &format!("t{i}"), "top"),
            )
            .await,
        );
    }
    let mut replies = Vec::new();
    for i in 0..9 {
        let author = if i % 2 == 0 { &bob } else { &alice };
        let mut m = new_message(&general, author, &format!("r{i}"), "reply");
        m.thread_root_id = Some(roots[i % 3].id.clone());
        replies.push(expect(store.send_message(m).await, "reply").message);
        if i % 3 == 1 {
            stored(
                store,
                new_message(&general, &bob, &format!("b{i}"), "between"),
            )
            .await;
        }
    }
    let edit = |id: MessageId| async move {
        expect(
            store
                .edit_message(&id, "edited", &Mentions::default(), now)
                .await,
            "edit",
        );
    };
    edit(roots[3].id.clone()).await;
    edit(replies[4].id.clone()).await;
    for (m, emoji) in [
        (&roots[0], ":+1:"),
        (&replies[2], ":eyes:"),
        (&roots[3], ":tada:"),
    ] {
        expect(
            store.set_reaction(&m.id, emoji, &bob, true, 50, now).await,
            "react",
        );
    }
    for gone in [&replies[0], &replies[7], &roots[2]] {
        expect(store.delete_message(&gone.id, now).await, "delete");
    }
    stored(store, new_message(&general, &alice, "last", "last")).await;

    let full = expect(store.messages_since(&general, 0, 200).await, "full read");
    assert!(!full.has_more);
    let by_id = |messages: &[confab_core::Message]| {
        messages
            .iter()
            .map(|m| (m.id.clone(), m.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let expected = by_id(&full.messages);
    // The scenario does make version groups, or this test would prove nothing.
    let versions: BTreeSet<i64> = full.messages.iter().map(|m| m.version).collect();
    assert!(versions.len() < full.messages.len(), "no shared versions");
    for limit in 1..=10 {
        let (mut cursor, mut seen, mut pages) = (0, Vec::new(), 0);
        loop {
            let page = expect(store.messages_since(&general, cursor, limit).await, "page");
            assert!(page.messages.iter().all(|m| m.version > cursor));
            assert!(page.next_cursor >= cursor, "the cursor never moves back");
            seen.extend(page.messages);
            cursor = page.next_cursor;
            pages += 1;
            assert!(pages <= 100, "paging at limit {limit} does not end");
            if !page.has_more {
                break;
            }
        }
        assert_eq!(
            seen.len(),
            expected.len(),
            "limit {limit}: a change was skipped or repeated"
        );
        assert_eq!(by_id(&seen), expected, "limit {limit}");
        assert_eq!(cursor, full.next_cursor, "limit {limit}");
    }
}

pub async fn history_pages_newest_first(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    for i in 0..5 {
        send(store, &general, &alice, &format!("m{i}")).await; // seqs 2..=6
    }
    let (page, more) = expect(store.messages_before(&general, i64::MAX, 2).await, "latest");
    assert_eq!(
        (page.iter().map(|m| m.seq).collect::<Vec<_>>(), more),
        (vec![6, 5], true)
    );
    let (page, more) = expect(store.messages_before(&general, 5, 10).await, "older");
    assert_eq!(
        (page.iter().map(|m| m.seq).collect::<Vec<_>>(), more),
        (vec![4, 3, 2], false)
    );
    // The newer side, oldest first, for a page around a message; replies stay in threads.
    let mut reply = new_message(&general, &alice, "reply", "in a thread");
    reply.thread_root_id = page.first().map(|m| m.id.clone());
    stored(store, reply).await; // seq 7
    send(store, &general, &alice, "last").await; // seq 8
    let (page, more) = expect(store.messages_after(&general, 3, 2).await, "newer");
    assert_eq!(
        (page.iter().map(|m| m.seq).collect::<Vec<_>>(), more),
        (vec![4, 5], true)
    );
    let (page, more) = expect(store.messages_after(&general, 5, 10).await, "newest");
    assert_eq!(
        (page.iter().map(|m| m.seq).collect::<Vec<_>>(), more),
        (vec![6, 8], false)
    );
}

pub async fn changes_after_replays_every_kind(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, _) = workspace(store, &alice).await;
    let c = public_channel(store, &ws, &alice, "dev").await;
    let now = Timestamp::now();
    expect(store.add_channel_member(&c.id, &bob, now).await, "join"); // 2
    let sent = stored(store, new_message(&c.id, &bob, "m", "hi")).await; // 3
    expect(store.remove_channel_member(&c.id, &bob, now).await, "leave"); // 4
    let events = expect(store.changes_after(&c.id, 1, 100).await, "changes");
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(
        events[0].change,
        Change::MemberJoined {
            user_id: bob.clone()
        }
    );
    assert_eq!(
        events[1].change,
        Change::MessageCreated {
            message: sent,
            root: None
        }
    );
    assert_eq!(
        events[2].change,
        Change::MemberLeft {
            user_id: bob.clone()
        }
    );
    assert_eq!(
        expect(store.changes_after(&c.id, 2, 1).await, "limited").len(),
        1
    );
    assert!(expect(store.changes_after(&c.id, 4, 100).await, "none").is_empty());

    // Every message kind, replayed with the messages as they are now.
    let root = stored(store, new_message(&c.id, &alice, "root", "root")).await; // 5
    let mut reply = new_message(&c.id, &alice, "reply", "reply");
    reply.thread_root_id = Some(root.id.clone());
    let reply = expect(store.send_message(reply).await, "reply").message; // 6
    let none = Mentions::default();
    expect(
        store
            .edit_message(&root.id, "root, edited", &none, now)
            .await,
        "edit",
    ); // 7
    for present in [true, false] {
        expect(
            store
                .set_reaction(&reply.id, "tada", &alice, present, 50, now)
                .await,
            "react",
        ); // 8, 9
    }
    expect(store.delete_message(&reply.id, now).await, "delete"); // 10
    expect(
        store
            .update_channel(&c.id, None, Some("new topic"), now)
            .await,
        "topic",
    ); // 11
    let events = expect(store.changes_after(&c.id, 4, 100).await, "changes");
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (5..=11).collect::<Vec<_>>()
    );
    match &events[1].change {
        Change::MessageCreated {
            message,
            root: Some(r),
        } => {
            assert_eq!((&message.id, message.deleted), (&reply.id, true));
            assert_eq!((&r.id, r.body.as_deref()), (&root.id, Some("root, edited")));
        }
        other => panic!("a reply's creation replays with its root: {other:?}"),
    }
    match &events[2].change {
        Change::MessageEdited { message } => {
            assert_eq!(message.body.as_deref(), Some("root, edited"))
        }
        other => panic!("an edit: {other:?}"),
    }
    match (&events[3].change, &events[4].change) {
        (
            Change::ReactionAdded {
                message,
                emoji,
                user_id,
            },
            Change::ReactionRemoved { .. },
        ) => assert_eq!(
            (&message.id, emoji.as_str(), user_id),
            (&reply.id, "tada", &alice)
        ),
        other => panic!("a reaction added, then removed: {other:?}"),
    }
    match &events[5].change {
        Change::MessageDeleted {
            message,
            root: Some(r),
        } => assert_eq!((&message.id, &r.id), (&reply.id, &root.id)),
        other => panic!("a reply's deletion replays with its root: {other:?}"),
    }
    match &events[6].change {
        Change::ChannelUpdated { channel } => assert_eq!(channel.topic, "new topic"),
        other => panic!("a channel update: {other:?}"),
    }
}
