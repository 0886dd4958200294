//! The store behaviour suite: written once against [`Store`], instantiated for every backend
//! with [`store_behaviour_suite!`](crate::store_behaviour_suite), so no backend can drift from
//! the others.

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use confab_core::{
    Change, ChannelId, ChannelKind, Mentions, MessageId, Role, SessionId, Timestamp, UserId,
    WorkspaceId,
};

use crate::{
    NewChannel, NewInvite, NewMessage, NewSession, NewUser, NewWorkspace, SessionLifetime, Store,
    StoreError,
};

/// A store under test and whatever must live as long as it (a temporary directory, a scratch
/// database).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub guard: Box<dyn Any + Send>,
}

/// Instantiates every behaviour test for a backend. `$make` is an expression evaluating to a
/// future of a fresh [`Fixture`]; it is evaluated once per test.
#[macro_export]
macro_rules! store_behaviour_suite {
    ($make:expr) => {
        $crate::store_behaviour_suite!(@tests $make;
            users_are_unique_by_username,
            sessions_resolve_until_deleted,
            sessions_expire_idle_and_absolutely,
            sessions_are_listed_and_revoked_one_or_all_others,
            tickets_are_single_use_expire_and_die_with_their_session,
            devices_are_remembered_twenty_at_most,
            workspace_creation_makes_owner_and_general,
            workspace_members_join_general_but_guests_do_not,
            invites_add_members_until_used_up_or_expired,
            channel_names_are_unique_per_workspace,
            channel_list_shows_public_and_own_channels,
            channel_access_reads_role_and_membership_at_once,

            dms_are_found_by_member_set,
            membership_changes_take_sequence_numbers,
            sends_take_gap_free_sequence_numbers,
            retried_sends_return_the_original,
            non_members_cannot_send_and_nothing_is_written,
            concurrent_sends_are_gap_free,
            mixed_concurrent_sends_commit_independently,
            bursts_of_sends_and_replies_store_exactly_what_was_sent,
            a_burst_of_long_messages_is_stored_whole,

            changes_feed_pages_and_cursor,
            feed_pages_at_every_size_add_up_to_one_full_read,
            history_pages_newest_first,
            changes_after_replays_every_kind,
            thread_replies_attach_to_the_root,
            edits_and_deletes_are_changes,
            deleting_a_reply_updates_its_root,
            reactions_are_idempotent_changes,
            read_cursors_only_move_forward,
            unread_and_mention_counts,
            channel_updates_are_changes,
            here_recipients_count_but_are_never_read_back,
            reactions_and_repliers_are_bounded,
            mention_names_resolve_within_the_workspace
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let fixture: $crate::testsuite::Fixture = $make.await;
                $crate::testsuite::$name(&*fixture.store).await;
                drop(fixture);
            }
        )*
    };
}

fn expect<T>(r: Result<T, StoreError>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

async fn user(store: &dyn Store, name: &str) -> UserId {
    let id = UserId::generate();
    expect(
        store
            .create_user(NewUser {
                id: id.clone(),
                username: name.to_owned(),
                display_name: name.to_uppercase(),
                email: None,
                password_hash: "hash".to_owned(),
                created_at: Timestamp::now(),
            })
            .await,
        "create user",
    );
    id
}

async fn workspace(store: &dyn Store, owner: &UserId) -> (WorkspaceId, ChannelId) {
    let id = WorkspaceId::generate();
    let general = ChannelId::generate();
    expect(
        store
            .create_workspace(NewWorkspace {
                id: id.clone(),
                name: "Acme".to_owned(),
                owner: owner.clone(),
                general_channel_id: general.clone(),
                created_at: Timestamp::now(),
            })
            .await,
        "create workspace",
    );
    (id, general)
}

/// A user owning a fresh workspace, and its `#general`: the start of most tests outside the
/// suite too.
pub async fn owner_with_general(store: &dyn Store, name: &str) -> (UserId, ChannelId) {
    let owner = user(store, name).await;
    let (_, general) = workspace(store, &owner).await;
    (owner, general)
}

/// Adds `user` to the workspace as a member (and so to `#general`).
async fn add_member(store: &dyn Store, ws: &WorkspaceId, user: &UserId) {
    expect(
        store
            .add_workspace_member(ws, user, Role::Member, Timestamp::now())
            .await,
        "add a member",
    );
}

fn new_channel(ws: &WorkspaceId, creator: &UserId, name: &str, kind: ChannelKind) -> NewChannel {
    NewChannel {
        id: ChannelId::generate(),
        workspace_id: ws.clone(),
        kind,
        name: (kind != ChannelKind::Dm).then(|| name.to_owned()),
        topic: String::new(),
        created_by: creator.clone(),
        created_at: Timestamp::now(),
        other_members: Vec::new(),
    }
}

fn new_message(
    channel: &ChannelId,
    author: &UserId,
    client_msg_id: &str,
    body: &str,
) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        channel_id: channel.clone(),
        author_id: author.clone(),
        client_msg_id: client_msg_id.to_owned(),
        body: body.to_owned(),
        thread_root_id: None,
        mentions: Mentions::default(),
        ts: Timestamp::now(),
    }
}

/// A public channel created by `creator`.
async fn public_channel(
    store: &dyn Store,
    ws: &WorkspaceId,
    creator: &UserId,
    name: &str,
) -> confab_core::Channel {
    expect(
        store
            .create_channel(new_channel(ws, creator, name, ChannelKind::Public))
            .await,
        "create channel",
    )
    .value
}

/// The message a send created.
async fn stored(store: &dyn Store, m: NewMessage) -> confab_core::Message {
    expect(store.send_message(m).await, "send").message
}

async fn send(store: &dyn Store, channel: &ChannelId, author: &UserId, cid: &str) -> i64 {
    stored(store, new_message(channel, author, cid, cid))
        .await
        .seq
}

pub async fn users_are_unique_by_username(store: &dyn Store) {
    let id = user(store, "alice").await;
    let again = store
        .create_user(NewUser {
            id: UserId::generate(),
            username: "alice".into(),
            display_name: "Other".into(),
            email: None,
            password_hash: "x".into(),
            created_at: Timestamp::now(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::UsernameTaken)), "{again:?}");
    let (found, hash) =
        expect(store.user_credentials("alice").await, "credentials").expect("alice exists");
    assert_eq!((found.id.clone(), hash.as_str()), (id.clone(), "hash"));
    assert_eq!(
        expect(store.user(&id).await, "user").map(|u| u.display_name),
        Some("ALICE".into())
    );
    assert!(expect(store.user_credentials("nobody").await, "credentials").is_none());
}

const DAY: i64 = 86_400 * 1_000_000;
/// 30 days idle, 90 days in all.
const LIFE: SessionLifetime = SessionLifetime {
    idle_micros: 30 * DAY,
    absolute_micros: 90 * DAY,
};

async fn sign_in(store: &dyn Store, user: &UserId, token: &[u8], now: Timestamp) -> SessionId {
    let id = SessionId::generate();
    expect(
        store
            .create_session(
                NewSession {
                    id: id.clone(),
                    token_hash: token.to_vec(),
                    user: user.clone(),
                    now,
                    client_name: "test client".into(),
                    created_from: "127.0.0.1".into(),
                },
                LIFE,
            )
            .await,
        "session",
    );
    id
}

pub async fn sessions_resolve_until_deleted(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let now = Timestamp::now();
    let id = sign_in(store, &alice, b"tok", now).await;
    assert_eq!(
        expect(store.session(b"tok", now, LIFE).await, "lookup"),
        Some((alice.clone(), id.clone()))
    );
    assert_eq!(
        expect(store.session(b"other", now, LIFE).await, "lookup"),
        None
    );
    assert_eq!(
        expect(store.delete_session(b"tok").await, "delete"),
        Some(id)
    );
    assert_eq!(
        expect(store.session(b"tok", now, LIFE).await, "lookup"),
        None
    );
    assert_eq!(
        expect(store.delete_session(b"tok").await, "delete twice"),
        None
    );
}

/// Idle expiry moves with use; the absolute one never does, so a token used every day still
/// dies 90 days after its sign-in.
pub async fn sessions_expire_idle_and_absolutely(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let start = Timestamp::now();
    let at = |days: i64| Timestamp::from_micros(start.as_micros() + days * DAY);
    sign_in(store, &alice, b"daily", start).await;
    sign_in(store, &alice, b"forgotten", start).await;
    for day in (20..=80).step_by(20) {
        assert!(
            expect(store.session(b"daily", at(day), LIFE).await, "use").is_some(),
            "used every 20 days, alive on day {day}"
        );
    }
    assert!(
        expect(store.session(b"forgotten", at(31), LIFE).await, "idle").is_none(),
        "unused for 31 days"
    );
    assert!(
        expect(store.session(b"daily", at(91), LIFE).await, "absolute").is_none(),
        "91 days after sign-in, however used"
    );
    let live = expect(store.user_sessions(&alice, at(31), LIFE).await, "list");
    assert_eq!(live.len(), 1, "only the used one is listed: {live:?}");
}

pub async fn sessions_are_listed_and_revoked_one_or_all_others(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let now = Timestamp::now();
    let laptop = sign_in(store, &alice, b"laptop", now).await;
    let phone = sign_in(store, &alice, b"phone", now).await;
    let tablet = sign_in(store, &alice, b"tablet", now).await;
    let bobs = sign_in(store, &bob, b"bob", now).await;
    let listed = expect(store.user_sessions(&alice, now, LIFE).await, "list");
    let ids: BTreeSet<SessionId> = listed.iter().map(|s| s.id.clone()).collect();
    assert_eq!(
        ids,
        [laptop.clone(), phone.clone(), tablet.clone()]
            .into_iter()
            .collect()
    );
    assert!(listed.iter().all(|s| s.client_name == "test client"
        && s.created_from == "127.0.0.1"
        && s.created_at == now));
    // Someone else's session cannot be revoked by naming it.
    assert!(expect(store.revoke_sessions(&alice, &bobs, false).await, "foreign").is_empty());
    assert!(expect(store.session(b"bob", now, LIFE).await, "bob").is_some());
    assert_eq!(
        expect(store.revoke_sessions(&alice, &phone, false).await, "one"),
        vec![phone.clone()]
    );
    assert!(expect(store.session(b"phone", now, LIFE).await, "phone").is_none());
    assert_eq!(
        expect(store.revoke_sessions(&alice, &laptop, true).await, "others"),
        vec![tablet]
    );
    assert!(expect(store.session(b"laptop", now, LIFE).await, "kept").is_some());
    assert!(expect(store.session(b"tablet", now, LIFE).await, "tablet").is_none());
}

pub async fn tickets_are_single_use_expire_and_die_with_their_session(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let now = Timestamp::now();
    let session = sign_in(store, &alice, b"tok", now).await;
    expect(
        store
            .create_ticket(b"t1", &alice, &session, now.plus_secs(30))
            .await,
        "ticket",
    );
    assert_eq!(
        expect(store.redeem_ticket(b"t1", now, LIFE).await, "redeem"),
        Some((alice.clone(), session.clone()))
    );
    assert_eq!(
        expect(store.redeem_ticket(b"t1", now, LIFE).await, "redeem twice"),
        None
    );
    expect(
        store
            .create_ticket(b"t2", &alice, &session, now.plus_secs(30))
            .await,
        "ticket",
    );
    assert_eq!(
        expect(
            store.redeem_ticket(b"t2", now.plus_secs(31), LIFE).await,
            "redeem late"
        ),
        None
    );
    expect(
        store
            .create_ticket(b"t3", &alice, &session, now.plus_secs(30))
            .await,
        "ticket",
    );
    expect(store.delete_session(b"tok").await, "sign out");
    assert_eq!(
        expect(
            store.redeem_ticket(b"t3", now, LIFE).await,
            "after sign-out"
        ),
        None,
        "a ticket issued before sign-out does not outlive its session"
    );
}

/// A user's devices are remembered until they expire, and only the 20 most recent: signing
/// in over and over cannot grow the table without bound.
pub async fn devices_are_remembered_twenty_at_most(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let now = Timestamp::now();
    for i in 0..25i64 {
        let token = format!("device-{i}");
        expect(
            store
                .remember_device(token.as_bytes(), &alice, now.plus_secs(3600 + i))
                .await,
            "remember",
        );
    }
    async fn known(store: &dyn Store, user: &UserId, now: Timestamp, i: i64) -> bool {
        let token = format!("device-{i}");
        expect(
            store.device_known(token.as_bytes(), user, now).await,
            "known",
        )
    }
    assert!(known(store, &alice, now, 24).await, "the newest");
    assert!(known(store, &alice, now, 5).await, "the 20th newest");
    assert!(
        !known(store, &alice, now, 4).await,
        "older ones are forgotten"
    );
    assert!(
        !expect(
            store
                .device_known(b"device-24", &alice, now.plus_secs(7200))
                .await,
            "expired"
        ),
        "an expired device is not known"
    );
}

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
        matches!(ghost, Err(StoreError::NotFound("user"))),
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
        Err(StoreError::NotFound("invite"))
    ));
    assert_eq!(
        expect(store.workspace_role(&ws, &carol).await, "role"),
        None
    );
}

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

pub async fn sends_take_gap_free_sequence_numbers(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let seqs = [
        send(store, &general, &alice, "a").await,
        send(store, &general, &alice, "b").await,
    ];
    assert_eq!(seqs, [2, 3]);
    let msg = expect(
        store
            .send_message(new_message(&general, &alice, "c", "hello"))
            .await,
        "send",
    );
    assert!(msg.created);
    assert_eq!(
        (
            msg.message.seq,
            msg.message.version,
            msg.message.body.as_deref()
        ),
        (4, 4, Some("hello"))
    );
    let stored = expect(store.message(&msg.message.id).await, "read").expect("stored");
    assert_eq!(stored, msg.message);
}

pub async fn retried_sends_return_the_original(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let first = expect(
        store
            .send_message(new_message(&general, &alice, "same", "one"))
            .await,
        "first",
    );
    let retry = expect(
        store
            .send_message(new_message(&general, &alice, "same", "two"))
            .await,
        "retry",
    );
    assert!(first.created && !retry.created);
    assert_eq!(retry.message, first.message);
    assert_eq!(
        expect(store.channel(&general).await, "c").map(|c| c.last_seq),
        Some(first.message.seq)
    );
}

pub async fn non_members_cannot_send_and_nothing_is_written(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let mallory = user(store, "mallory").await;
    let (ws, general) = workspace(store, &alice).await;
    let c = expect(
        store
            .create_channel(new_channel(&ws, &alice, "secret", ChannelKind::Private))
            .await,
        "c",
    )
    .value;
    for channel in [&c.id, &general] {
        let refused = store
            .send_message(new_message(channel, &mallory, "x", "hi"))
            .await;
        assert!(matches!(refused, Err(StoreError::NotMember)), "{refused:?}");
    }
    assert_eq!(
        expect(store.channel(&c.id).await, "c").map(|c| c.last_seq),
        Some(1)
    );
    let page = expect(store.messages_since(&c.id, 0, 10).await, "feed");
    assert!(page.messages.is_empty());
    // The refused client_msg_id was not recorded either: once a member, the same ID works.
    expect(
        store
            .add_channel_member(&c.id, &mallory, Timestamp::now())
            .await,
        "add",
    );
    assert!(
        expect(
            store
                .send_message(new_message(&c.id, &mallory, "x", "hi"))
                .await,
            "send"
        )
        .created
    );
}

pub async fn concurrent_sends_are_gap_free(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let sends =
        (0..200).map(|i| store.send_message(new_message(&general, &alice, &format!("c{i}"), "x")));
    let results = futures_join_all(sends).await;
    let seqs: BTreeSet<i64> = results
        .into_iter()
        .map(|r| expect(r, "send").message.seq)
        .collect();
    assert_eq!(seqs, (2..=201).collect::<BTreeSet<_>>());
}

/// Joins futures without a dependency on `futures`: spawn-free, polled by one task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

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
        matches!(unknown, Err(StoreError::NotFound("channel"))),
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

/// Sends arriving together (and so committed together, where a backend batches) stay
/// independent: a refusal spoils no other send, and a retry of a send in the same burst finds
/// the original.
pub async fn mixed_concurrent_sends_commit_independently(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let mallory = user(store, "mallory").await;
    let (_, general) = workspace(store, &alice).await;
    let mut sends = Vec::new();
    for i in 0..60 {
        sends.push(match i % 3 {
            0 => new_message(&general, &alice, &format!("ok-{i}"), "valid"),
            1 => new_message(&general, &mallory, &format!("no-{i}"), "refused"),
            _ => new_message(&general, &alice, &format!("ok-{}", i - 2), "a retry"),
        });
    }
    let results = futures_join_all(sends.into_iter().map(|m| store.send_message(m))).await;
    let (mut created, mut refused, mut retried) = (Vec::new(), 0, 0);
    for result in results {
        match result {
            Ok(outcome) if outcome.created => created.push(outcome.message),
            Ok(outcome) => {
                assert_eq!(
                    outcome.message.body.as_deref(),
                    Some("valid"),
                    "a retry returns the original"
                );
                retried += 1;
            }
            Err(StoreError::NotMember) => refused += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((created.len(), refused, retried), (20, 20, 20));
    let seqs: BTreeSet<i64> = created.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (2..=21).collect::<BTreeSet<_>>(),
        "gap-free: refusals took no number"
    );
    let page = expect(store.messages_since(&general, 0, 100).await, "feed");
    assert_eq!(page.messages.len(), 20);
}

/// A burst spanning channels, thread replies and awkward text (committed together where a
/// backend batches): every send is stored exactly as sent, each channel's numbers stay gap-free
/// around the replies, and the root counts every reply.
pub async fn bursts_of_sends_and_replies_store_exactly_what_was_sent(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (ws, general) = workspace(store, &alice).await;
    let other = public_channel(store, &ws, &alice, "other").await;
    let root = stored(store, new_message(&general, &alice, "root", "root")).await;
    let mut sends = Vec::new();
    for i in 0..90 {
        let body = format!(
            "{i}: \"quoted\" back\\slash \u{1F600} tab\t new\nline cr\r é 中文 {{\"json\": [1]}} %_ '"
        );
        let mut m = match i % 3 {
            0 => new_message(&general, &alice, &format!("g{i}"), &body),
            1 => {
                let mut reply = new_message(&general, &alice, &format!("r{i}"), &body);
                reply.thread_root_id = Some(root.id.clone());
                reply
            }
            _ => new_message(&other.id, &alice, &format!("o{i}"), &body),
        };
        if i % 5 == 0 {
            m.mentions = Mentions {
                user_ids: vec![alice.clone()],
                channel: true,
                here: i % 2 == 0,
                here_ids: Vec::new(),
            };
        }
        sends.push(m);
    }
    let expected: Vec<NewMessage> = sends.clone();
    let results = futures_join_all(sends.into_iter().map(|m| store.send_message(m))).await;
    for (sent, result) in expected.iter().zip(results) {
        let outcome = expect(result, "send");
        assert!(outcome.created, "{}", sent.client_msg_id);
        assert_eq!(outcome.message.id, sent.id);
    }
    for (channel, count) in [(&general, 61), (&other.id, 30)] {
        let page = expect(store.messages_since(channel, 0, 200).await, "feed");
        assert_eq!(page.messages.len(), count);
        // The feed is by version: the root moves up with each reply.
        let mut seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
        seqs.sort_unstable();
        let first = seqs[0];
        assert_eq!(
            seqs,
            (first..first + count as i64).collect::<Vec<_>>(),
            "gap-free"
        );
        for stored in &page.messages {
            if stored.id == root.id {
                assert_eq!(stored.reply_count, 30);
                continue;
            }
            let sent = expected
                .iter()
                .find(|m| m.id == stored.id)
                .unwrap_or_else(|| panic!("unexpected message {}", stored.id));
            assert_eq!(stored.body.as_deref(), Some(sent.body.as_str()));
            assert_eq!(stored.thread_root_id, sent.thread_root_id);
            assert_eq!(&stored.channel_id, channel);
            assert_eq!(stored.mentions, sent.mentions);
        }
    }
}

/// Long bodies arriving together (where a backend writes a batch in parts by size, across
/// the parts): every one stored whole, numbered gap-free in arrival order.
pub async fn a_burst_of_long_messages_is_stored_whole(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let (_, general) = workspace(store, &alice).await;
    let bodies: Vec<String> = (0..120)
        .map(|i| format!("{i}:{}", "é".repeat(20_000)))
        .collect();
    let sends = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| store.send_message(new_message(&general, &alice, &format!("l{i}"), body)));
    let results = futures_join_all(sends).await;
    let mut seqs = Vec::new();
    for result in results {
        let outcome = expect(result, "send");
        assert!(outcome.created);
        seqs.push(outcome.message.seq);
    }
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (2..=121).collect::<Vec<_>>(), "gap-free");
    let page = expect(store.messages_since(&general, 1, 200).await, "feed");
    assert_eq!(page.messages.len(), 120);
    for m in &page.messages {
        let i: usize = m
            .body
            .as_deref()
            .and_then(|b| b.split(':').next())
            .and_then(|n| n.parse().ok())
            .expect("marker");
        assert_eq!(m.body.as_deref(), Some(bodies[i].as_str()));
    }
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
