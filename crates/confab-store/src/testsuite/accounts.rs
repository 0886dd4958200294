//! The behaviour suite: Accounts, sessions, tickets and remembered devices.

use super::*;

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
