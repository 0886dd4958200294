//! The behaviour suite: Changes to messages: threads, edits, deletes, reactions, and what a message never grows with.

use super::*;

pub async fn thread_replies_attach_to_the_root(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, general) = workspace(store, &alice).await;
    let other = public_channel(store, &ws, &alice, "other").await;
    let root = stored(store, new_message(&general, &alice, "root", "root")).await;
    let mut reply = new_message(&general, &alice, "r1", "reply");
    reply.thread_root_id = Some(root.id.clone());
    let reply = expect(store.send_message(reply).await, "reply").message;
    assert_eq!(reply.thread_root_id.as_ref(), Some(&root.id));
    let mut nested = new_message(&general, &alice, "r2", "nested");
    nested.thread_root_id = Some(reply.id.clone());
    let nested = expect(store.send_message(nested).await, "nested").message;
    assert_eq!(nested.thread_root_id.as_ref(), Some(&root.id));
    let mut elsewhere = new_message(&other.id, &alice, "r3", "wrong channel");
    elsewhere.thread_root_id = Some(root.id.clone());
    assert!(matches!(
        store.send_message(elsewhere).await,
        Err(StoreError::InvalidThreadRoot)
    ));
    let mut missing = new_message(&general, &alice, "r4", "no root");
    missing.thread_root_id = Some(MessageId::generate());
    assert!(matches!(
        store.send_message(missing).await,
        Err(StoreError::InvalidThreadRoot)
    ));
}

pub async fn edits_and_deletes_are_changes(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let sent = stored(store, new_message(&general, &alice, "m", "first")).await;
    let now = Timestamp::now();
    let edited = expect(
        store
            .edit_message(&sent.id, "second", &Mentions::default(), now)
            .await,
        "edit",
    );
    let Change::MessageEdited { message } = &edited.change else {
        panic!("{edited:?}")
    };
    assert_eq!(
        (message.body.as_deref(), message.version, edited.seq),
        (Some("second"), sent.seq + 1, sent.seq + 1)
    );
    assert_eq!(message.edited_at, Some(now));
    expect(
        store
            .set_reaction(&sent.id, ":+1:", &alice, true, 50, now)
            .await,
        "react",
    );
    let deleted = expect(store.delete_message(&sent.id, now).await, "delete").expect("a change");
    let Change::MessageDeleted {
        message,
        root: None,
    } = &deleted.change
    else {
        panic!("{deleted:?}")
    };
    assert!(message.deleted && message.body.is_none() && message.reactions.is_empty());
    assert!(expect(store.delete_message(&sent.id, now).await, "delete twice").is_none());
    assert!(matches!(
        store
            .edit_message(&sent.id, "x", &Mentions::default(), now)
            .await,
        Err(StoreError::MessageDeleted)
    ));
    assert!(matches!(
        store
            .set_reaction(&sent.id, ":+1:", &alice, true, 50, now)
            .await,
        Err(StoreError::MessageDeleted)
    ));
    // Every read path shows the tombstone only.
    let page = expect(store.messages_since(&general, 0, 10).await, "feed");
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].deleted && page.messages[0].body.is_none());
    let replay = expect(store.changes_after(&general, 0, 100).await, "changes");
    assert!(
        replay
            .iter()
            .filter_map(|e| e.change.message())
            .all(|m| m.body.is_none() && m.reactions.is_empty())
    );
}

pub async fn deleting_a_reply_updates_its_root(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let root = stored(store, new_message(&general, &alice, "root", "root")).await;
    let reply = |cid: &str, author: &UserId| {
        let mut m = new_message(&general, author, cid, cid);
        m.thread_root_id = Some(root.id.clone());
        m
    };
    let r1 = expect(store.send_message(reply("r1", &bob)).await, "r1");
    let root_now = r1.root.expect("a reply carries its root");
    assert_eq!(
        (
            root_now.reply_count,
            root_now.version,
            root_now.reply_users.clone()
        ),
        (1, r1.message.seq, vec![bob.clone()])
    );
    let r2 = expect(store.send_message(reply("r2", &alice)).await, "r2");
    assert_eq!(
        r2.root.as_ref().map(|r| r.reply_users.clone()),
        Some(vec![bob.clone(), alice.clone()])
    );
    let deleted = expect(
        store.delete_message(&r1.message.id, Timestamp::now()).await,
        "delete",
    )
    .expect("a change");
    let Change::MessageDeleted {
        root: Some(root_after),
        ..
    } = &deleted.change
    else {
        panic!("{deleted:?}")
    };
    assert_eq!(
        (root_after.reply_count, root_after.version),
        (1, deleted.seq)
    );
    assert_eq!(root_after.reply_users, vec![alice.clone()]);
    let (thread_root, replies) = expect(store.thread(&root.id).await, "thread").expect("a thread");
    assert_eq!(thread_root, *root_after);
    assert_eq!(
        replies.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![r2.message.id.clone()]
    );
    // Deleting the root keeps the replies reachable.
    expect(
        store.delete_message(&root.id, Timestamp::now()).await,
        "delete root",
    );
    let (thread_root, replies) = expect(store.thread(&root.id).await, "thread").expect("a thread");
    assert!(thread_root.deleted && thread_root.body.is_none());
    assert_eq!(replies.len(), 1);
    // History is the channel's timeline: replies live in their thread.
    let (history, _) = expect(
        store.messages_before(&general, i64::MAX, 50).await,
        "history",
    );
    assert!(history.iter().all(|m| m.thread_root_id.is_none()));
}

pub async fn reactions_are_idempotent_changes(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let m = stored(store, new_message(&general, &alice, "m", "hi")).await;
    let now = Timestamp::now();
    let added = expect(
        store.set_reaction(&m.id, "👍", &bob, true, 50, now).await,
        "react",
    )
    .expect("a change");
    assert!(
        expect(
            store.set_reaction(&m.id, "👍", &bob, true, 50, now).await,
            "again"
        )
        .is_none(),
        "idempotent"
    );
    expect(
        store
            .set_reaction(&m.id, ":tada:", &alice, true, 50, now)
            .await,
        "tada",
    );
    let last = expect(
        store.set_reaction(&m.id, "👍", &alice, true, 50, now).await,
        "alice +1",
    )
    .expect("a change");
    let Change::ReactionAdded {
        message,
        emoji,
        user_id,
    } = &last.change
    else {
        panic!("{last:?}")
    };
    assert_eq!((emoji.as_str(), user_id), ("👍", &alice));
    assert_eq!(message.version, last.seq);
    let summary: Vec<(String, Vec<UserId>)> = message
        .reactions
        .iter()
        .map(|r| (r.emoji.clone(), r.user_ids.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("👍".into(), vec![bob.clone(), alice.clone()]),
            (":tada:".into(), vec![alice.clone()])
        ]
    );
    let removed = expect(
        store.set_reaction(&m.id, "👍", &bob, false, 50, now).await,
        "unreact",
    )
    .expect("a change");
    assert!(matches!(removed.change, Change::ReactionRemoved { .. }));
    assert!(
        expect(
            store.set_reaction(&m.id, "👍", &bob, false, 50, now).await,
            "again"
        )
        .is_none()
    );
    let replay = expect(
        store.changes_after(&general, added.seq - 1, 100).await,
        "changes",
    );
    let kinds: Vec<&str> = replay.iter().map(|e| e.change.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            "reaction.added",
            "reaction.added",
            "reaction.added",
            "reaction.removed"
        ]
    );
}

/// Who `@here` reached counts them as mentioned, but no read gives the list back: it grows with
/// the channel, and every read path ends up in a frame.
pub async fn here_recipients_count_but_are_never_read_back(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    add_member(store, &ws, &carol).await;
    let mut m = new_message(&general, &alice, "h", "@here @carol standup");
    m.mentions = Mentions {
        user_ids: vec![carol.clone()],
        here: true,
        here_ids: vec![bob.clone(), carol.clone()],
        ..Mentions::default()
    };
    let sent = stored(store, m).await;
    let expected = Mentions {
        user_ids: vec![carol.clone()],
        here: true,
        ..Mentions::default()
    };
    assert_eq!(sent.mentions, expected, "as sent");
    let read = expect(store.message(&sent.id).await, "read").expect("stored");
    assert_eq!(read.mentions, expected, "as read");
    let feed = expect(store.messages_since(&general, 0, 10).await, "feed");
    assert_eq!(feed.messages[0].mentions, expected, "in the feed");
    let mention_count = |views: Vec<crate::ChannelView>| {
        views
            .into_iter()
            .find(|v| v.channel.id == general)
            .map(|v| v.mention_count)
    };
    for who in [&bob, &carol] {
        assert_eq!(
            mention_count(expect(store.list_channels(&ws, who, true).await, "list")),
            Some(1),
            "@here reached them"
        );
    }
    // An edit that drops the @here drops the mention.
    expect(
        store
            .edit_message(&sent.id, "standup", &Mentions::default(), Timestamp::now())
            .await,
        "edit",
    );
    assert_eq!(
        mention_count(expect(store.list_channels(&ws, &bob, true).await, "list")),
        Some(0)
    );
}

/// A message holds at most `max_distinct` emoji; a reaction names its first users and counts
/// them all; a root names its first repliers. None of it grows with the channel.
pub async fn reactions_and_repliers_are_bounded(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, general) = workspace(store, &alice).await;
    let m = stored(store, new_message(&general, &alice, "m", "hi")).await;
    let now = Timestamp::now();
    for emoji in [":a:", ":b:", ":c:"] {
        expect(
            store.set_reaction(&m.id, emoji, &alice, true, 3, now).await,
            "react",
        );
    }
    let fourth = store.set_reaction(&m.id, ":d:", &alice, true, 3, now).await;
    assert!(
        matches!(fourth, Err(StoreError::TooManyReactions(3))),
        "{fourth:?}"
    );
    let last_seq = |c: Option<confab_core::Channel>| c.map(|c| c.last_seq);
    let before = last_seq(expect(store.channel(&general).await, "channel"));
    assert!(
        store
            .set_reaction(&m.id, ":d:", &alice, true, 3, now)
            .await
            .is_err()
    );
    assert_eq!(
        last_seq(expect(store.channel(&general).await, "channel")),
        before,
        "a refused reaction takes no sequence number"
    );
    expect(
        store
            .set_reaction(&m.id, ":c:", &alice, false, 3, now)
            .await,
        "unreact",
    );
    expect(
        store.set_reaction(&m.id, ":d:", &alice, true, 3, now).await,
        "room again",
    );

    let mut people = Vec::new();
    for i in 0..(confab_core::limits::REACTION_USERS_SHOWN + 5) {
        let u = user(store, &format!("u{i}")).await;
        add_member(store, &ws, &u).await;
        people.push(u);
    }
    for u in &people {
        expect(
            store.set_reaction(&m.id, ":a:", u, true, 3, now).await,
            "pile on",
        );
    }
    let read = expect(store.message(&m.id).await, "read").expect("stored");
    let a = read
        .reactions
        .iter()
        .find(|r| r.emoji == ":a:")
        .expect(":a:");
    assert_eq!(a.count as usize, people.len() + 1);
    assert_eq!(a.user_ids.len(), confab_core::limits::REACTION_USERS_SHOWN);
    assert_eq!(a.user_ids[0], alice, "in order of reacting");

    for (i, u) in people.iter().enumerate() {
        let mut reply = new_message(&general, u, &format!("r{i}"), "reply");
        reply.thread_root_id = Some(m.id.clone());
        expect(store.send_message(reply).await, "reply");
    }
    let root = expect(store.message(&m.id).await, "read").expect("stored");
    assert_eq!(root.reply_count as usize, people.len());
    assert_eq!(
        root.reply_users,
        people[..confab_core::limits::REPLY_USERS_SHOWN].to_vec()
    );
}
