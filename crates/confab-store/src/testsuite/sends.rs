//! The behaviour suite: Sends: gap-free numbers, idempotent retries, refusals that write nothing, and bursts committed together.

use super::*;

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
pub(super) async fn futures_join_all<F: std::future::Future>(
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
