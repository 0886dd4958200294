//! The behaviour suite: drafts and profiles.

use super::*;
use crate::ProfileChange;
use confab_core::Draft;

fn draft(channel: &ChannelId, root: Option<&MessageId>, body: &str, at: i64) -> Draft {
    Draft {
        channel_id: channel.clone(),
        thread_root_id: root.cloned(),
        body: body.to_owned(),
        updated_at: Timestamp::from_micros(at),
    }
}

pub async fn drafts_are_kept_per_composer_and_cleared_by_sending(store: &dyn Store) {
    let (alice, general) = owner_with_general(store, "alice").await;
    let root = expect(
        store
            .send_message(new_message(&general, &alice, "root", "root"))
            .await,
        "root",
    )
    .message
    .id;
    let now = Timestamp::now().as_micros();
    let channel_draft = draft(&general, None, "half a thought", now);
    let thread_draft = draft(&general, Some(&root), "a reply", now + 1);
    expect(store.put_draft(&alice, &channel_draft, 10).await, "put");
    expect(store.put_draft(&alice, &thread_draft, 10).await, "put");
    assert_eq!(
        expect(store.draft(&alice, &general, None).await, "get"),
        Some(channel_draft.clone())
    );
    assert_eq!(
        expect(store.draft(&alice, &general, Some(&root)).await, "get"),
        Some(thread_draft.clone())
    );
    // Saving again replaces.
    let edited = draft(&general, None, "a whole thought", now + 2);
    expect(store.put_draft(&alice, &edited, 10).await, "put");
    assert_eq!(
        expect(store.user_drafts(&alice, 10).await, "list"),
        vec![edited.clone(), thread_draft.clone()]
    );

    // Sending a reply clears the thread's draft and only it.
    let mut reply = new_message(&general, &alice, "reply", "a reply");
    reply.thread_root_id = Some(root.clone());
    expect(store.send_message(reply).await, "reply");
    assert_eq!(
        expect(store.user_drafts(&alice, 10).await, "list"),
        vec![edited.clone()]
    );
    // A retried send creates nothing, and clears nothing either.
    expect(store.put_draft(&alice, &thread_draft, 10).await, "put");
    let mut retry = new_message(&general, &alice, "reply", "a reply");
    retry.thread_root_id = Some(root.clone());
    assert!(!expect(store.send_message(retry).await, "retry").created);
    assert!(expect(store.draft(&alice, &general, Some(&root)).await, "get").is_some());
    // Sending in the channel clears the channel's draft.
    expect(
        store
            .send_message(new_message(&general, &alice, "sent", "a whole thought"))
            .await,
        "send",
    );
    assert_eq!(
        expect(store.draft(&alice, &general, None).await, "get"),
        None
    );

    assert!(expect(
        store.delete_draft(&alice, &general, Some(&root)).await,
        "delete"
    ));
    assert!(!expect(
        store.delete_draft(&alice, &general, Some(&root)).await,
        "delete"
    ));
    assert!(expect(store.user_drafts(&alice, 10).await, "list").is_empty());
}

pub async fn drafts_beyond_the_limit_forget_the_oldest(store: &dyn Store) {
    let (alice, general) = owner_with_general(store, "alice").await;
    let (bob, bobs) = owner_with_general(store, "bob").await;
    expect(
        store
            .put_draft(&bob, &draft(&bobs, None, "bob's", 1), 3)
            .await,
        "put",
    );
    let roots: Vec<MessageId> = (0..5).map(|_| MessageId::generate()).collect();
    for (n, root) in roots.iter().enumerate() {
        let d = draft(&general, Some(root), &format!("d{n}"), 100 + n as i64);
        expect(store.put_draft(&alice, &d, 3).await, "put");
    }
    let kept: Vec<String> = expect(store.user_drafts(&alice, 10).await, "list")
        .into_iter()
        .map(|d| d.body)
        .collect();
    assert_eq!(kept, ["d4", "d3", "d2"]);
    // Another user's drafts are theirs.
    assert_eq!(expect(store.user_drafts(&bob, 10).await, "list").len(), 1);
    assert_eq!(expect(store.user_drafts(&alice, 2).await, "list").len(), 2);
}

pub async fn profiles_change_only_what_is_given(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let until = Timestamp::from_micros(Timestamp::now().as_micros() + 3_600_000_000);
    let changed = expect(
        store
            .update_profile(
                &alice,
                ProfileChange {
                    display_name: None,
                    status: Some(("In a meeting", Some(until))),
                },
            )
            .await,
        "status",
    )
    .expect("alice exists");
    assert_eq!(
        (
            changed.display_name.as_str(),
            changed.status_text.as_str(),
            changed.status_expires_at
        ),
        ("ALICE", "In a meeting", Some(until))
    );
    let renamed = expect(
        store
            .update_profile(
                &alice,
                ProfileChange {
                    display_name: Some("Ada"),
                    status: None,
                },
            )
            .await,
        "rename",
    )
    .expect("alice exists");
    assert_eq!(
        (renamed.display_name.as_str(), renamed.status_text.as_str()),
        ("Ada", "In a meeting")
    );
    let cleared = expect(
        store
            .update_profile(
                &alice,
                ProfileChange {
                    display_name: None,
                    status: Some(("", None)),
                },
            )
            .await,
        "clear",
    )
    .expect("alice exists");
    assert_eq!(
        (cleared.status_text.as_str(), cleared.status_expires_at),
        ("", None)
    );
    assert_eq!(expect(store.user(&alice).await, "read"), Some(cleared));
    assert!(
        expect(
            store
                .update_profile(&UserId::generate(), ProfileChange::default())
                .await,
            "nobody"
        )
        .is_none()
    );
}
