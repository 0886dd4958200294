//! Search: what words find (parts of words, accents, stems, code, CJK), that the index
//! follows every edit and delete in the write's transaction, the access matrix, the
//! operators, and paging.

use confab_core::search::parse;
use confab_core::{ChannelId, ChannelKind, Mentions, Role, Timestamp, UserId, WorkspaceId};

use super::{
    add_member, expect, new_channel, new_message, public_channel, stored, user, workspace,
};
use crate::{SearchOrder, SearchPage, SearchRequest, Store};

async fn search_page(
    store: &dyn Store,
    me: &UserId,
    ws: &WorkspaceId,
    q: &str,
    order: SearchOrder,
) -> SearchPage {
    let mut request = SearchRequest::new(me.clone(), ws.clone(), &parse(q), 50);
    request.order = order;
    expect(store.search(&request).await, q)
}

/// The bodies `q` finds for `me`, newest first.
async fn found(store: &dyn Store, me: &UserId, ws: &WorkspaceId, q: &str) -> Vec<String> {
    search_page(store, me, ws, q, SearchOrder::Recent)
        .await
        .hits
        .into_iter()
        .map(|h| h.message.body.unwrap_or_default())
        .collect()
}

async fn say(
    store: &dyn Store,
    channel: &ChannelId,
    author: &UserId,
    body: &str,
) -> confab_core::Message {
    let cid = format!("c-{}", confab_core::MessageId::generate());
    stored(store, new_message(channel, author, &cid, body)).await
}

pub async fn search_finds_parts_of_words_accents_stems_code_and_cjk(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    let bodies = [
        "Deployment finished",
        "Café au lait",
        "we run daily",
        "running late",
        "call foo_bar() now",
        "foo bar apart",
        "release v1.2.3 ready",
        "release v1.2.4 ready",
        "ping 192.168.0.1 please",
        "fixes #123",
        "fixes 123 too",
        "我家在上海东边",
        "海上の風",
        "明日東京に行きます",
        "テストを実行する",
        "서울에 갑니다",
        "let's go now",
        "a long time ago",
        "we ship it today",
        "it ship",
    ];
    for b in bodies {
        say(store, &general, &ada, b).await;
    }
    let cases: &[(&str, &[&str])] = &[
        ("deplo", &["Deployment finished"]),
        ("PLOYM", &["Deployment finished"]),
        ("cafe", &["Café au lait"]),
        ("CAFÉ", &["Café au lait"]),
        ("running", &["running late", "we run daily"]),
        ("runs", &["running late", "we run daily"]),
        ("foo_bar", &["call foo_bar() now"]),
        ("oo_ba", &["call foo_bar() now"]),
        ("foo -foo_bar", &["foo bar apart"]),
        ("v1.2.3", &["release v1.2.3 ready"]),
        ("192.168.0.1", &["ping 192.168.0.1 please"]),
        ("#123", &["fixes #123"]),
        ("上海", &["我家在上海东边"]),
        ("东边", &["我家在上海东边"]),
        ("在上海东", &["我家在上海东边"]),
        ("東京", &["明日東京に行きます"]),
        ("テスト", &["テストを実行する"]),
        ("서울", &["서울에 갑니다"]),
        ("边", &["我家在上海东边"]),
        ("go", &["let's go now"]),
        ("\"ship it\"", &["we ship it today"]),
        ("release ready -v1.2.4", &["release v1.2.3 ready"]),
        (
            "release 1.2",
            &["release v1.2.4 ready", "release v1.2.3 ready"],
        ),
        ("nothing-like-this", &[]),
        ("!!", &[]),
        ("", &[]),
    ];
    for (q, expected) in cases {
        assert_eq!(found(store, &ada, &ws, q).await, *expected, "{q}");
    }
    // The exact word ranks first by relevance; newest first otherwise.
    say(store, &general, &ada, "running again").await;
    say(store, &general, &ada, "run fast").await;
    let ranked: Vec<String> = search_page(store, &ada, &ws, "running", SearchOrder::Relevance)
        .await
        .hits
        .into_iter()
        .map(|h| h.message.body.unwrap_or_default())
        .collect();
    assert_eq!(
        ranked,
        ["running again", "running late", "run fast", "we run daily"]
    );
}

pub async fn search_index_follows_edits_and_deletes_at_once(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    let m = say(store, &general, &ada, "alpha bravo").await;
    // Found as soon as the send returns: the index is written in its transaction.
    assert_eq!(found(store, &ada, &ws, "bravo").await, ["alpha bravo"]);
    expect(
        store
            .edit_message(
                &m.id,
                "alpha charlie",
                &Mentions::default(),
                Timestamp::now(),
            )
            .await,
        "edit",
    );
    assert!(
        found(store, &ada, &ws, "bravo").await.is_empty(),
        "old words"
    );
    assert_eq!(found(store, &ada, &ws, "charlie").await, ["alpha charlie"]);
    // A reply is indexed too, and its root's change leaves the root findable.
    let mut reply = new_message(&general, &ada, "reply", "delta in a thread");
    reply.thread_root_id = Some(m.id.clone());
    stored(store, reply).await;
    assert_eq!(
        found(store, &ada, &ws, "delta").await,
        ["delta in a thread"]
    );
    assert_eq!(found(store, &ada, &ws, "alpha").await, ["alpha charlie"]);
    expect(
        store.delete_message(&m.id, Timestamp::now()).await,
        "delete",
    );
    assert!(found(store, &ada, &ws, "alpha").await.is_empty(), "deleted");
    assert!(
        found(store, &ada, &ws, "charlie").await.is_empty(),
        "deleted"
    );
    assert_eq!(
        found(store, &ada, &ws, "delta").await,
        ["delta in a thread"]
    );
}

pub async fn search_finds_only_what_the_caller_may_read_now(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bo = user(store, "bo").await;
    let cy = user(store, "cy").await;
    let guest = user(store, "gus").await;
    let outsider = user(store, "olga").await;
    let (ws, general) = workspace(store, &ada).await;
    add_member(store, &ws, &bo).await;
    add_member(store, &ws, &cy).await;
    expect(
        store
            .add_workspace_member(&ws, &guest, Role::Guest, Timestamp::now())
            .await,
        "guest",
    );
    let (other_ws, other_general) = workspace(store, &outsider).await;
    let secret = expect(
        store
            .create_channel(new_channel(&ws, &ada, "secret", ChannelKind::Private))
            .await,
        "private",
    )
    .value;
    for u in [&bo, &guest] {
        expect(
            store
                .add_channel_member(&secret.id, u, Timestamp::now())
                .await,
            "add",
        );
    }
    let mut dm = new_channel(&ws, &ada, "", ChannelKind::Dm);
    dm.other_members = vec![cy.clone()];
    let dm = expect(store.create_channel(dm).await, "dm").value;
    say(store, &general, &ada, "zebra in general").await;
    say(store, &secret.id, &ada, "zebra in secret").await;
    say(store, &dm.id, &ada, "zebra in a dm").await;
    say(store, &other_general, &outsider, "zebra elsewhere").await;

    let zebras = |u: UserId, w: WorkspaceId| async move { found(store, &u, &w, "zebra").await };
    assert_eq!(
        zebras(ada.clone(), ws.clone()).await,
        ["zebra in a dm", "zebra in secret", "zebra in general"]
    );
    // A member of the private channel, not of the DM.
    assert_eq!(
        zebras(bo.clone(), ws.clone()).await,
        ["zebra in secret", "zebra in general"]
    );
    // In the DM, not the private channel.
    assert_eq!(
        zebras(cy.clone(), ws.clone()).await,
        ["zebra in a dm", "zebra in general"]
    );
    // A guest reads only the channels they are in: not #general, which guests do not join.
    assert_eq!(zebras(guest.clone(), ws.clone()).await, ["zebra in secret"]);
    // Another workspace's member finds nothing here, and only their own there.
    assert!(zebras(outsider.clone(), ws.clone()).await.is_empty());
    assert_eq!(
        zebras(outsider.clone(), other_ws.clone()).await,
        ["zebra elsewhere"]
    );
    assert!(zebras(ada.clone(), other_ws.clone()).await.is_empty());
    // A former member stops finding the private channel's messages at once.
    expect(
        store
            .remove_channel_member(&secret.id, &bo, Timestamp::now())
            .await,
        "remove",
    );
    assert_eq!(zebras(bo.clone(), ws.clone()).await, ["zebra in general"]);
    // Counts are of what the caller may read: nothing else leaks through them.
    let page = search_page(store, &bo, &ws, "zebra", SearchOrder::Recent).await;
    assert_eq!(page.total_estimate, 1);
}

pub async fn search_operators_filter_by_channel_person_date_and_kind(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bo = user(store, "bo").await;
    let (ws, general) = workspace(store, &ada).await;
    add_member(store, &ws, &bo).await;
    let ops = public_channel(store, &ws, &ada, "ops").await;
    expect(
        store
            .add_channel_member(&ops.id, &bo, Timestamp::now())
            .await,
        "join",
    );
    let mut dm = new_channel(&ws, &ada, "", ChannelKind::Dm);
    dm.other_members = vec![bo.clone()];
    let dm = expect(store.create_channel(dm).await, "dm").value;
    let day = |d: &str| {
        let date = time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE)
            .expect("date");
        Timestamp::from_micros(
            date.midnight().assume_utc().unix_timestamp() * 1_000_000 + 3_600_000_000,
        )
    };
    let at = |channel: &ChannelId, author: &UserId, body: &str, ts: Timestamp| {
        let mut m = new_message(channel, author, &format!("c-{body}"), body);
        m.ts = ts;
        m
    };
    stored(
        store,
        at(&general, &ada, "kiwi one by ada", day("2026-01-15")),
    )
    .await;
    stored(store, at(&ops.id, &bo, "kiwi two by bo", day("2026-02-10"))).await;
    let three = stored(
        store,
        at(
            &dm.id,
            &bo,
            "kiwi three https://example.com",
            day("2026-03-01"),
        ),
    )
    .await;
    let mut reply = at(&general, &ada, "kiwi four reply", day("2026-03-02"));
    reply.thread_root_id = Some(three.id.clone());
    // A reply in another channel is no reply: put it in the DM's thread.
    reply.channel_id = dm.id.clone();
    stored(store, reply).await;
    expect(
        store
            .set_reaction(&three.id, ":tada:", &ada, true, 50, Timestamp::now())
            .await,
        "react",
    );
    let cases: &[(&str, &[&str])] = &[
        (
            "kiwi from:@bo",
            &["kiwi three https://example.com", "kiwi two by bo"],
        ),
        ("kiwi from:me", &["kiwi four reply", "kiwi one by ada"]),
        ("kiwi in:#ops", &["kiwi two by bo"]),
        ("kiwi in:#nowhere", &[]),
        (
            "kiwi in:@bo",
            &["kiwi four reply", "kiwi three https://example.com"],
        ),
        ("kiwi before:2026-02-10", &["kiwi one by ada"]),
        (
            "kiwi after:2026-02-10",
            &["kiwi four reply", "kiwi three https://example.com"],
        ),
        ("kiwi on:2026-02-10", &["kiwi two by bo"]),
        (
            "kiwi during:2026-03",
            &["kiwi four reply", "kiwi three https://example.com"],
        ),
        ("kiwi during:2025", &[]),
        ("kiwi has:link", &["kiwi three https://example.com"]),
        ("kiwi has:reaction", &["kiwi three https://example.com"]),
        ("kiwi has:file", &[]),
        (
            "kiwi is:thread",
            &["kiwi four reply", "kiwi three https://example.com"],
        ),
        ("from:@bo in:#ops", &["kiwi two by bo"]),
    ];
    for (q, expected) in cases {
        assert_eq!(found(store, &ada, &ws, q).await, *expected, "{q}");
    }
}

pub async fn search_pages_add_up_to_every_match_once(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    for i in 0..25 {
        let body = if i % 3 == 0 {
            format!("mango {i}")
        } else {
            format!("mangoes {i}")
        };
        say(store, &general, &ada, &body).await;
    }
    for order in [SearchOrder::Recent, SearchOrder::Relevance] {
        let mut request = SearchRequest::new(ada.clone(), ws.clone(), &parse("mango"), 10);
        request.order = order;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = expect(store.search(&request).await, "page");
            assert_eq!(page.total_estimate, 25);
            pages += 1;
            seen.extend(
                page.hits
                    .iter()
                    .map(|h| h.message.body.clone().unwrap_or_default()),
            );
            let Some(last) = page.hits.last() else { break };
            if !page.has_more {
                break;
            }
            request.after = Some(last.cursor);
        }
        assert_eq!(pages, 3, "{order:?}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (25, 25), "{order:?}: {seen:?}");
        if order == SearchOrder::Relevance {
            // The nine exact "mango" first.
            assert!(
                seen[..9].iter().all(|b| b.starts_with("mango ")),
                "{seen:?}"
            );
        } else {
            assert_eq!(seen[0], "mango 24", "newest first");
        }
    }
}

/// What a database holds before its search index exists: the first half of the backfill
/// test each backend runs (it then removes the index as if it had never been migrated, and
/// reopens the store: [`older_messages_are_found_after_the_index_is_built`]).
pub async fn messages_from_before_the_index(store: &dyn Store) -> (UserId, WorkspaceId) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    for i in 0..5 {
        say(store, &general, &ada, &format!("older kiwi {i}")).await;
    }
    let gone = say(store, &general, &ada, "older kiwi deleted").await;
    expect(
        store.delete_message(&gone.id, Timestamp::now()).await,
        "delete",
    );
    (ada, ws)
}

pub async fn older_messages_are_found_after_the_index_is_built(
    store: &dyn Store,
    (ada, ws): (UserId, WorkspaceId),
) {
    let general = expect(store.user_workspaces(&ada).await, "workspaces")[0]
        .0
        .general_channel_id
        .clone();
    say(store, &general, &ada, "newer kiwi").await;
    assert_eq!(
        found(store, &ada, &ws, "kiwi").await,
        [
            "newer kiwi",
            "older kiwi 4",
            "older kiwi 3",
            "older kiwi 2",
            "older kiwi 1",
            "older kiwi 0"
        ]
    );
}

/// Past the count's window (SQLite estimates from the newest ten thousand candidates) the
/// total still counts only what the caller may read, and every page adds up.
pub async fn search_counts_estimate_only_what_the_caller_may_read(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bo = user(store, "bo").await;
    let (ws, general) = workspace(store, &ada).await;
    add_member(store, &ws, &bo).await;
    let secret = expect(
        store
            .create_channel(new_channel(&ws, &ada, "secret", ChannelKind::Private))
            .await,
        "private",
    )
    .value;
    // 10,100 matches, one in 67 of them in #general, which Bo reads; the rest in #secret.
    let sends: Vec<_> = (0..10_100)
        .map(|i| {
            let channel = if i % 67 == 0 { &general } else { &secret.id };
            new_message(channel, &ada, &format!("k{i}"), &format!("kiwi {i}"))
        })
        .collect();
    for chunk in sends.chunks(1000) {
        for r in
            super::sends::futures_join_all(chunk.iter().cloned().map(|m| store.send_message(m)))
                .await
        {
            expect(r, "send");
        }
    }
    let readable = (0..10_100).filter(|i| i % 67 == 0).count() as i64;
    let mut request = SearchRequest::new(bo.clone(), ws.clone(), &parse("kiwi"), 100);
    let first = expect(store.search(&request).await, "search");
    let off = (first.total_estimate - readable).abs();
    assert!(
        off * 10 <= readable,
        "estimated {} of {readable}",
        first.total_estimate
    );
    let mut seen = first.hits.len();
    let mut page = first;
    while page.has_more {
        request.after = page.hits.last().map(|h| h.cursor);
        page = expect(store.search(&request).await, "page");
        seen += page.hits.len();
    }
    assert_eq!(seen as i64, readable);
}
