//! The behaviour suite: Read state: cursors, and the channel list with its unread and mention counts.

use super::*;

pub async fn channel_list_shows_public_and_own_channels(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, _) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let public = expect(
        store
            .create_channel(new_channel(&ws, &alice, "random", ChannelKind::Public))
            .await,
        "c",
    );
    let secret = expect(
        store
            .create_channel(new_channel(&ws, &alice, "secret", ChannelKind::Private))
            .await,
        "c",
    );
    let names = |views: Vec<crate::ChannelView>| {
        views
            .into_iter()
            .map(|v| (v.channel.name.unwrap_or_default(), v.is_member))
            .collect::<Vec<_>>()
    };
    let for_alice = names(expect(store.list_channels(&ws, &alice, true).await, "list"));
    assert_eq!(
        for_alice,
        vec![
            ("general".into(), true),
            ("random".into(), true),
            ("secret".into(), true)
        ]
    );
    let for_bob = names(expect(store.list_channels(&ws, &bob, true).await, "list"));
    assert_eq!(
        for_bob,
        vec![("general".into(), true), ("random".into(), false)]
    );
    let bob_own = names(expect(store.list_channels(&ws, &bob, false).await, "list"));
    assert_eq!(bob_own, vec![("general".into(), true)]);
    let mut ids = expect(store.user_channel_ids(&alice).await, "ids");
    ids.sort();
    let mut expected = vec![
        public.value.id,
        secret.value.id,
        expect(store.workspace(&ws).await, "ws")
            .expect("ws")
            .general_channel_id,
    ];
    expected.sort();
    assert_eq!(ids, expected);
}

pub async fn read_cursors_only_move_forward(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let mallory = user(store, "mallory").await;
    let (_, general) = workspace(store, &alice).await;
    for i in 0..3 {
        send(store, &general, &alice, &format!("m{i}")).await; // seqs 2..=4
    }
    assert_eq!(
        expect(store.mark_read(&general, &alice, 3).await, "read"),
        3
    );
    assert_eq!(
        expect(store.mark_read(&general, &alice, 2).await, "back"),
        3,
        "never backwards"
    );
    assert_eq!(
        expect(store.mark_read(&general, &alice, 99).await, "past"),
        4,
        "never past the end"
    );
    assert!(matches!(
        store.mark_read(&general, &mallory, 1).await,
        Err(StoreError::NotMember)
    ));
}

pub async fn unread_and_mention_counts(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let mentioning = |cid: &str, users: Vec<UserId>, channel: bool| {
        let mut m = new_message(&general, &alice, cid, cid);
        m.mentions = Mentions {
            user_ids: users,
            channel,
            ..Mentions::default()
        };
        m
    };
    let plain = stored(store, new_message(&general, &alice, "a", "a")).await;
    let named = expect(
        store
            .send_message(mentioning("b", vec![bob.clone()], false))
            .await,
        "b",
    )
    .message;
    expect(store.send_message(mentioning("c", vec![], true)).await, "c");
    send(store, &general, &bob, "own").await; // bob's own message never counts for bob
    let mut reply = new_message(&general, &alice, "r", "reply");
    reply.thread_root_id = Some(plain.id.clone());
    expect(store.send_message(reply).await, "reply"); // thread replies are not unread
    let counts = |views: Vec<crate::ChannelView>| {
        let v = views
            .into_iter()
            .find(|v| v.channel.id == general)
            .expect("general listed");
        (v.unread_count, v.mention_count)
    };
    assert_eq!(
        counts(expect(store.list_channels(&ws, &bob, true).await, "list")),
        (3, 2)
    );
    // Edits and deletes change the counts.
    expect(
        store
            .edit_message(
                &named.id,
                "no mention now",
                &Mentions::default(),
                Timestamp::now(),
            )
            .await,
        "edit",
    );
    assert_eq!(
        counts(expect(store.list_channels(&ws, &bob, true).await, "list")),
        (3, 1)
    );
    expect(
        store.delete_message(&plain.id, Timestamp::now()).await,
        "delete",
    );
    assert_eq!(
        counts(expect(store.list_channels(&ws, &bob, true).await, "list")),
        (2, 1)
    );
    expect(store.mark_read(&general, &bob, named.seq).await, "read");
    assert_eq!(
        counts(expect(store.list_channels(&ws, &bob, true).await, "list")),
        (1, 1)
    );
    assert_eq!(
        counts(expect(store.list_channels(&ws, &alice, true).await, "list")).0,
        1,
        "bob's message"
    );
}
