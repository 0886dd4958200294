//! The behaviour suite: Workspaces, their members and invites, and names resolved within one.

use super::*;

pub async fn workspace_creation_makes_owner_and_general(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, general) = workspace(store, &alice).await;
    assert_eq!(
        expect(store.workspace_role(&ws, &alice).await, "role"),
        Some(Role::Owner)
    );
    let channel = expect(store.channel(&general).await, "general").expect("general exists");
    assert_eq!(
        (channel.name.as_deref(), channel.kind, channel.last_seq),
        (Some("general"), ChannelKind::Public, 1)
    );
    assert!(expect(
        store.is_channel_member(&general, &alice).await,
        "member"
    ));
    let listed = expect(store.user_workspaces(&alice).await, "workspaces");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].0.id.clone(), listed[0].1), (ws, Role::Owner));
}

pub async fn workspace_members_join_general_but_guests_do_not(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let gus = user(store, "gus").await;
    let (ws, general) = workspace(store, &alice).await;
    let now = Timestamp::now();
    let joined = expect(
        store
            .add_workspace_member(&ws, &bob, Role::Member, now)
            .await,
        "add bob",
    );
    assert_eq!(joined.events.len(), 1);
    assert_eq!(joined.events[0].seq, 2);
    assert_eq!(
        joined.events[0].change,
        Change::MemberJoined {
            user_id: bob.clone()
        }
    );
    assert!(expect(
        store.is_channel_member(&general, &bob).await,
        "member"
    ));
    let again = store
        .add_workspace_member(&ws, &bob, Role::Member, now)
        .await;
    assert!(matches!(again, Err(StoreError::AlreadyMember)), "{again:?}");
    let guest = expect(
        store
            .add_workspace_member(&ws, &gus, Role::Guest, now)
            .await,
        "add guest",
    );
    assert!(guest.events.is_empty() && guest.value.general.is_none());
    assert!(!expect(
        store.is_channel_member(&general, &gus).await,
        "member"
    ));
    assert_eq!(
        expect(store.workspace_role(&ws, &gus).await, "role"),
        Some(Role::Guest)
    );
    let ghost = store
        .add_workspace_member(&ws, &UserId::generate(), Role::Member, now)
        .await;
    assert!(
        matches!(ghost, Err(StoreError::NotFound(crate::Missing::User))),
        "{ghost:?}"
    );
}

pub async fn invites_add_members_until_used_up_or_expired(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, _) = workspace(store, &alice).await;
    let now = Timestamp::now();
    let invite = |code: &[u8], expires_at, max_uses| NewInvite {
        code_hash: code.to_vec(),
        workspace_id: ws.clone(),
        created_by: alice.clone(),
        created_at: now,
        expires_at,
        max_uses,
    };
    expect(
        store
            .create_invite(invite(b"one", now.plus_secs(60), 1))
            .await,
        "invite",
    );
    expect(
        store
            .create_invite(invite(b"old", now.plus_secs(-1), 5))
            .await,
        "invite",
    );
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let joined = expect(store.accept_invite(b"one", &bob, now).await, "accept");
    assert_eq!(joined.value.workspace.id, ws);
    assert_eq!(
        expect(store.workspace_role(&ws, &bob).await, "role"),
        Some(Role::Member)
    );
    assert!(matches!(
        store.accept_invite(b"one", &carol, now).await,
        Err(StoreError::InviteExpired)
    ));
    assert!(matches!(
        store.accept_invite(b"old", &carol, now).await,
        Err(StoreError::InviteExpired)
    ));
    assert!(matches!(
        store.accept_invite(b"nope", &carol, now).await,
        Err(StoreError::NotFound(crate::Missing::Invite))
    ));
    assert_eq!(
        expect(store.workspace_role(&ws, &carol).await, "role"),
        None
    );
}

pub async fn mention_names_resolve_within_the_workspace(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let outsider = user(store, "outsider").await;
    let (ws, general) = workspace(store, &alice).await;
    add_member(store, &ws, &bob).await;
    let names = vec![
        "bob".to_owned(),
        "outsider".to_owned(),
        "alice".to_owned(),
        "ghost".to_owned(),
    ];
    assert_eq!(
        expect(store.workspace_users_by_name(&ws, &names).await, "resolve"),
        vec![bob.clone(), alice.clone()]
    );
    let mut members = expect(store.channel_member_ids(&general).await, "members");
    members.sort();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);
    let shared = expect(
        store
            .users_sharing_workspace(&alice, &[bob.clone(), outsider.clone()])
            .await,
        "shared",
    );
    assert_eq!(shared, vec![bob]);
}

/// Members page by username, each with their role; someone of another workspace is in none
/// of its pages.
pub async fn workspace_members_page_by_username(store: &dyn Store) {
    let carol = user(store, "carol").await;
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let stranger = user(store, "stranger").await;
    let (ws, _) = workspace(store, &carol).await;
    add_member(store, &ws, &alice).await;
    add_member(store, &ws, &bob).await;
    workspace(store, &stranger).await;
    let first = expect(store.workspace_members(&ws, "", 2).await, "first page");
    let names: Vec<(&str, Role)> = first
        .iter()
        .map(|(u, r)| (u.username.as_str(), *r))
        .collect();
    assert_eq!(names, vec![("alice", Role::Member), ("bob", Role::Member)]);
    assert_eq!(first[0].0.id, alice);
    let rest = expect(store.workspace_members(&ws, "bob", 2).await, "next page");
    let names: Vec<(&str, Role)> = rest
        .iter()
        .map(|(u, r)| (u.username.as_str(), *r))
        .collect();
    assert_eq!(names, vec![("carol", Role::Owner)]);
    assert_eq!(
        expect(
            store.workspace_members(&ws, "carol", 2).await,
            "past the end"
        )
        .len(),
        0
    );
}
