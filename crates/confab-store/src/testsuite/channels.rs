//! The behaviour suite: Channels and membership: names, DMs, access, and membership and channel changes as numbered changes.

use super::*;

pub async fn channel_names_are_unique_per_workspace(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, _) = workspace(store, &alice).await;
    let (other_ws, _) = workspace(store, &alice).await;
    expect(
        store
            .create_channel(new_channel(&ws, &alice, "dev", ChannelKind::Public))
            .await,
        "create",
    );
    let dup = store
        .create_channel(new_channel(&ws, &alice, "dev", ChannelKind::Private))
        .await;
    assert!(matches!(dup, Err(StoreError::ChannelNameTaken)), "{dup:?}");
    let general = store
        .create_channel(new_channel(&ws, &alice, "general", ChannelKind::Public))
        .await;
    assert!(
        matches!(general, Err(StoreError::ChannelNameTaken)),
        "{general:?}"
    );
    expect(
        store
            .create_channel(new_channel(&other_ws, &alice, "dev", ChannelKind::Public))
            .await,
        "other ws",
    );
}

pub async fn dms_are_found_by_member_set(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let (ws, _) = workspace(store, &alice).await;
    let mut dm = new_channel(&ws, &alice, "", ChannelKind::Dm);
    dm.other_members = vec![bob.clone()];
    let created = expect(store.create_channel(dm).await, "dm");
    assert_eq!(created.events.len(), 2);
    let mut members = created.value.dm_members.clone();
    members.sort();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);
    let found = expect(
        store.find_dm(&ws, &[bob.clone(), alice.clone()]).await,
        "find",
    );
    assert_eq!(found.map(|c| c.id), Some(created.value.id.clone()));
    assert!(
        expect(
            store.find_dm(&ws, &[alice.clone(), carol.clone()]).await,
            "find"
        )
        .is_none()
    );
    let mut dup = new_channel(&ws, &bob, "", ChannelKind::Dm);
    dup.other_members = vec![alice.clone()];
    assert!(
        store.create_channel(dup).await.is_err(),
        "the same member set cannot make a second DM"
    );
}

pub async fn membership_changes_take_sequence_numbers(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, _) = workspace(store, &alice).await;
    let c = expect(
        store
            .create_channel(new_channel(&ws, &alice, "dev", ChannelKind::Private))
            .await,
        "c",
    )
    .value;
    assert_eq!(c.last_seq, 1);
    let now = Timestamp::now();
    let joined = expect(store.add_channel_member(&c.id, &bob, now).await, "add").expect("an event");
    assert_eq!(
        (joined.seq, joined.change),
        (
            2,
            Change::MemberJoined {
                user_id: bob.clone()
            }
        )
    );
    assert!(
        expect(
            store.add_channel_member(&c.id, &bob, now).await,
            "add again"
        )
        .is_none()
    );
    let left = expect(
        store.remove_channel_member(&c.id, &bob, now).await,
        "remove",
    )
    .expect("an event");
    assert_eq!(
        (left.seq, left.change),
        (
            3,
            Change::MemberLeft {
                user_id: bob.clone()
            }
        )
    );
    assert!(
        expect(
            store.remove_channel_member(&c.id, &bob, now).await,
            "remove again"
        )
        .is_none()
    );
    assert!(!expect(
        store.is_channel_member(&c.id, &bob).await,
        "member"
    ));
    assert_eq!(
        expect(store.channel(&c.id).await, "c").map(|c| c.last_seq),
        Some(3)
    );
}

pub async fn channel_updates_are_changes(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, general) = workspace(store, &alice).await;
    let dev = public_channel(store, &ws, &alice, "dev").await;
    let event = expect(
        store
            .update_channel(&dev.id, Some("backend"), Some("APIs"), Timestamp::now())
            .await,
        "update",
    );
    let Change::ChannelUpdated { channel } = &event.change else {
        panic!("{event:?}")
    };
    assert_eq!(
        (
            channel.name.as_deref(),
            channel.topic.as_str(),
            channel.last_seq
        ),
        (Some("backend"), "APIs", event.seq)
    );
    let taken = store
        .update_channel(&general, Some("backend"), None, Timestamp::now())
        .await;
    assert!(
        matches!(taken, Err(StoreError::ChannelNameTaken)),
        "{taken:?}"
    );
    let replay = expect(store.changes_after(&dev.id, 1, 10).await, "changes");
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0].change, event.change);
}

pub async fn channel_access_reads_role_and_membership_at_once(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let outsider = user(store, "outsider").await;
    let (ws, general) = workspace(store, &alice).await;
    expect(
        store
            .add_workspace_member(&ws, &bob, Role::Guest, Timestamp::now())
            .await,
        "add guest",
    );
    let (channel, role, member) =
        expect(store.channel_access(&general, &alice).await, "alice").expect("found");
    assert_eq!(
        (channel.id, role, member),
        (general.clone(), Some(Role::Owner), true)
    );
    let (_, role, member) =
        expect(store.channel_access(&general, &bob).await, "bob").expect("found");
    assert_eq!((role, member), (Some(Role::Guest), false));
    let (_, role, member) =
        expect(store.channel_access(&general, &outsider).await, "outsider").expect("found");
    assert_eq!((role, member), (None, false));
    assert!(
        expect(
            store.channel_access(&ChannelId::generate(), &alice).await,
            "unknown"
        )
        .is_none()
    );
}

pub async fn browsing_lists_public_channels_one_is_not_in_with_member_counts(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (ws, _) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let dev = public_channel(store, &ws, &alice, "dev").await;
    let ops = public_channel(store, &ws, &alice, "ops").await;
    expect(
        store
            .add_channel_member(&ops.id, &bob, Timestamp::now())
            .await,
        "join",
    );
    expect(
        store
            .create_channel(new_channel(&ws, &alice, "secret", ChannelKind::Private))
            .await,
        "private",
    );
    let listed = |found: Vec<(confab_core::Channel, i64)>| {
        found
            .into_iter()
            .map(|(c, n)| (c.name.unwrap_or_default(), n))
            .collect::<Vec<_>>()
    };
    // Bob is in #general and #ops: #dev is what he can browse; #secret never shows.
    assert_eq!(
        listed(expect(
            store.browse_channels(&ws, &bob, 100).await,
            "browse"
        )),
        vec![("dev".to_owned(), 1)]
    );
    assert_eq!(
        listed(expect(
            store.browse_channels(&ws, &alice, 100).await,
            "browse"
        )),
        vec![]
    );
    expect(
        store
            .remove_channel_member(&dev.id, &alice, Timestamp::now())
            .await,
        "leave",
    );
    assert_eq!(
        listed(expect(
            store.browse_channels(&ws, &alice, 1).await,
            "browse"
        )),
        vec![("dev".to_owned(), 0)]
    );
}
