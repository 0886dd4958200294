//! The store behaviour suite against PostgreSQL, each test on a scratch database of its own on
//! the server at `CONFAB_TEST_DATABASE_URL`, plus what only a shared server can show: several
//! processes (here, several pools) writing one channel, and connections lost under a store.

use std::sync::Arc;

use confab_core::{Change, ChannelId, Mentions, MessageId, Timestamp, UserId, WorkspaceId};
use confab_store::postgres::PgStore;
use confab_store::prelude::*;
use confab_store::testsuite::Fixture;
use confab_store::{NewMessage, NewUser, NewWorkspace, StoreError};
use confab_testkit::ScratchDb;
use sqlx::{Connection, Executor, PgConnection};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Tests run in parallel and the server allows 100 connections.
const POOL_SIZE: u32 = 4;

fn server_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// A scratch database on the test server, dropped (whoever is still connected) with the value.
fn scratch() -> ScratchDb {
    ScratchDb::create(&server_url()).expect("a scratch database on CONFAB_TEST_DATABASE_URL")
}

/// A connection to the test server itself, for what a test does beside the store.
async fn admin() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .expect("connect to the test server")
}

async fn pg_fixture() -> Fixture {
    let db = scratch();
    let store = PgStore::connect(&db.url(), POOL_SIZE)
        .await
        .expect("connect a store");
    Fixture {
        store: Arc::new(store),
        guard: Box::new(db),
    }
}

confab_store::store_behaviour_suite!(pg_fixture());

/// Two stores on one scratch database, as two processes would have, started at the same
/// moment so that both run the migrations at once.
async fn two_stores() -> (Arc<PgStore>, Arc<PgStore>, ScratchDb) {
    let db = scratch();
    let url = db.url();
    let (a, b) = tokio::join!(
        PgStore::connect(&url, POOL_SIZE),
        PgStore::connect(&url, POOL_SIZE)
    );
    (
        Arc::new(a.expect("first store")),
        Arc::new(b.expect("second store")),
        db,
    )
}

async fn user(store: &dyn Store, name: &str) -> UserId {
    let id = UserId::generate();
    store
        .create_user(NewUser {
            id: id.clone(),
            username: name.to_owned(),
            display_name: name.to_owned(),
            email: None,
            password_hash: "h".to_owned(),
            created_at: Timestamp::now(),
        })
        .await
        .expect("create a user");
    id
}

/// A workspace owned by `owner`; returns its `#general` (whose last_seq is then 1).
async fn general(store: &dyn Store, owner: &UserId) -> (WorkspaceId, ChannelId) {
    let (ws, general) = (WorkspaceId::generate(), ChannelId::generate());
    store
        .create_workspace(NewWorkspace {
            id: ws.clone(),
            name: "Acme".to_owned(),
            owner: owner.clone(),
            general_channel_id: general.clone(),
            created_at: Timestamp::now(),
        })
        .await
        .expect("create a workspace");
    (ws, general)
}

fn message(channel: &ChannelId, author: &UserId, client_msg_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        channel_id: channel.clone(),
        author_id: author.clone(),
        client_msg_id: client_msg_id.to_owned(),
        body: body.to_owned(),
        thread_root_id: None,
        mentions: Mentions::default(),
        ts: Timestamp::now(),
        files: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_sending_to_one_channel_share_one_gap_free_sequence() {
    const TASKS_PER_STORE: usize = 4;
    const SENDS_PER_TASK: usize = 50;
    let (a, b, _db) = two_stores().await;
    let alice = user(&*a, "alice").await;
    let (_, channel) = general(&*a, &alice).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (s, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        for t in 0..TASKS_PER_STORE {
            let (store, alice, channel) = (store.clone(), alice.clone(), channel.clone());
            tasks.spawn(async move {
                let mut seqs = Vec::with_capacity(SENDS_PER_TASK);
                for i in 0..SENDS_PER_TASK {
                    let sent = store
                        .send_message(message(&channel, &alice, &format!("{s}-{t}-{i}"), "x"))
                        .await
                        .expect("send");
                    assert!(sent.created);
                    seqs.push(sent.message.seq);
                }
                seqs
            });
        }
    }
    let mut seqs = Vec::new();
    while let Some(task) = tasks.join_next().await {
        seqs.extend(task.expect("sending task"));
    }
    seqs.sort_unstable();
    let last = 1 + (2 * TASKS_PER_STORE * SENDS_PER_TASK) as i64;
    let expected: Vec<i64> = (2..=last).collect();
    assert_eq!(seqs, expected, "every number exactly once");
    // The log and the channel agree, whichever store reads them.
    let logged: Vec<i64> = b
        .changes_after(&channel, 1, 10_000)
        .await
        .expect("changes")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(logged, expected);
    let channel_now = a.channel(&channel).await.expect("read").expect("channel");
    assert_eq!(channel_now.last_seq, last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_racing_from_both_processes_yields_one_message() {
    const RETRIES: usize = 50;
    let (a, b, _db) = two_stores().await;
    let alice = user(&*a, "alice").await;
    let (_, channel) = general(&*a, &alice).await;
    for i in 0..RETRIES {
        let cid = format!("retry-{i}");
        let from_a = tokio::spawn({
            let (a, m) = (a.clone(), message(&channel, &alice, &cid, "via a"));
            async move { a.send_message(m).await }
        });
        let from_b = tokio::spawn({
            let (b, m) = (b.clone(), message(&channel, &alice, &cid, "via b"));
            async move { b.send_message(m).await }
        });
        let one = from_a.await.expect("task").expect("send via a");
        let other = from_b.await.expect("task").expect("send via b");
        assert!(
            one.created != other.created,
            "exactly one creates: {} {}",
            one.created,
            other.created
        );
        assert_eq!(one.message, other.message, "the retry returns the original");
    }
    // The losers took no sequence number.
    let last = 1 + RETRIES as i64;
    let channel_now = b.channel(&channel).await.expect("read").expect("channel");
    assert_eq!(channel_now.last_seq, last);
    let events = a.changes_after(&channel, 1, 1000).await.expect("changes");
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (2..=last).collect::<Vec<_>>()
    );
    assert!(
        events
            .iter()
            .all(|e| matches!(e.change, Change::MessageCreated { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_removed_by_another_process_sends_nothing_after_leaving() {
    let (a, b, _db) = two_stores().await;
    let alice = user(&*a, "alice").await;
    let bob = user(&*a, "bob").await;
    let (ws, channel) = general(&*a, &alice).await;
    a.add_workspace_member(&ws, &bob, confab_core::Role::Member, Timestamp::now())
        .await
        .expect("add bob");
    let (ten_sent, after_ten) = tokio::sync::oneshot::channel();
    let sender = tokio::spawn({
        let (a, bob, channel) = (a.clone(), bob.clone(), channel.clone());
        async move {
            let mut ten_sent = Some(ten_sent);
            let mut acked = Vec::new();
            for i in 0..500 {
                match a
                    .send_message(message(&channel, &bob, &format!("b{i}"), "x"))
                    .await
                {
                    Ok(sent) => acked.push(sent.message.seq),
                    Err(StoreError::NotMember) => break,
                    Err(e) => panic!("send: {e:?}"),
                }
                if i == 9
                    && let Some(tx) = ten_sent.take()
                {
                    let _ = tx.send(());
                }
            }
            acked
        }
    });
    after_ten.await.expect("ten sends");
    let left = b
        .remove_channel_member(&channel, &bob, Timestamp::now())
        .await
        .expect("remove")
        .expect("bob was a member");
    let acked = sender.await.expect("sending task");
    assert!(acked.len() >= 10);
    assert!(
        acked.iter().all(|seq| *seq < left.seq),
        "a message after member.left (seq {}): {acked:?}",
        left.seq
    );
    // Everything acknowledged is in the log, in one gap-free run up to member.left.
    let events = a.changes_after(&channel, 0, 10_000).await.expect("changes");
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=left.seq).collect::<Vec<_>>());
    let created = events
        .iter()
        .filter(|e| matches!(e.change, Change::MessageCreated { .. }))
        .count();
    assert_eq!(created, acked.len());
}

#[tokio::test]
async fn lost_connections_are_replaced_and_their_errors_are_retryable() {
    let db = scratch();
    let store = PgStore::connect(&db.url(), 2).await.expect("connect");
    let alice = user(&store, "alice").await;
    // Kill every session on the database, as a server restart would.
    let mut admin = admin().await;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(db.name())
    .execute(&mut admin)
    .await
    .expect("terminate sessions");
    let _ = admin.close().await;
    // The pool tests a connection before lending it, so no dead one is handed out again.
    for _ in 0..3 {
        assert!(
            store
                .user(&alice)
                .await
                .expect("read after reconnect")
                .is_some()
        );
    }
    // An error from a killed session is retryable.
    let mut conn = PgConnection::connect(&db.url()).await.expect("connect");
    let killed = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut conn)
        .await
        .expect_err("the session is killed");
    let classified = StoreError::db("testing", killed);
    assert!(
        matches!(classified, StoreError::Unavailable { .. }),
        "{classified:?}"
    );
    // So is a server that is not there; and the wait for it is bounded.
    let started = std::time::Instant::now();
    let unreachable = PgStore::connect("postgres://postgres@127.0.0.1:1/none", 1).await;
    assert!(
        matches!(unreachable, Err(StoreError::Unavailable { .. })),
        "{:?}",
        unreachable.err()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    store.close().await;
}

/// Polls `fut` `polls` times, letting its I/O arrive between polls, then drops it: a
/// cancellation at each of its await points in turn, whatever the machine's speed.
async fn cancel_after_polls<F: std::future::Future>(fut: F, polls: usize) -> bool {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..polls {
        let ready = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx)))
            .await
            .is_ready();
        if ready {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    false
}

/// A request dropped while its transaction starts (its client gone, the gateway that called
/// it killed) must not leave the pooled connection inside that transaction: the next
/// borrower's autocommit statements, a batch of sends among them, would run inside it, be
/// acknowledged and never be committed (sqlx #4393). One connection, so every call reuses the
/// one a cancelled call returned; an edit is cancelled at each of its await points in turn,
/// and after each a send must be visible to another process.
#[tokio::test]
async fn calls_cancelled_mid_transaction_never_poison_the_pool() {
    let db = scratch();
    let store = PgStore::connect(&db.url(), 1).await.expect("store");
    let other = PgStore::connect(&db.url(), 1)
        .await
        .expect("another process");
    let alice = user(&store, "alice").await;
    let (_, channel) = general(&store, &alice).await;
    let edited = store
        .send_message(message(&channel, &alice, "edited", "edit me"))
        .await
        .expect("send")
        .message;
    let mut completed = false;
    for polls in 1..=40 {
        completed = cancel_after_polls(
            store.edit_message(
                &edited.id,
                &format!("edit {polls}"),
                &Mentions::default(),
                Timestamp::now(),
            ),
            polls,
        )
        .await;
        let sent = store
            .send_message(message(
                &channel,
                &alice,
                &format!("s{polls}"),
                "after a cancel",
            ))
            .await
            .unwrap_or_else(|e| panic!("send after {polls} polls: {e:?}"));
        let seen = other
            .message(&sent.message.id)
            .await
            .unwrap_or_else(|e| panic!("read after {polls} polls: {e:?}"));
        assert!(
            seen.is_some(),
            "a send acknowledged after an edit cancelled at poll {polls} is not committed"
        );
        if completed {
            break;
        }
    }
    assert!(
        completed,
        "the edit completes within 40 polls, so every await point was cut"
    );
}

/// Every hot statement can be answered through an index. With sequential scans priced out
/// (`enable_seqscan = off`), a plan that still scans one of confab's tables has no index it
/// could use, and on a database of millions of messages it would read them all: the
/// gateways' hole-filling did, at 376 ms a call.
#[tokio::test]
async fn hot_statements_never_scan_a_table() {
    let db = scratch();
    let store = PgStore::connect(&db.url(), 1).await.expect("migrate");
    // Nor are they compiled: JIT cost more than the statement itself.
    assert_eq!(store.session_setting("jit").await.expect("jit"), "off");
    store.close().await;
    let mut conn = PgConnection::connect(&db.url()).await.expect("connect");
    conn.execute("SET enable_seqscan = off").await.expect("set");
    for (name, mut sql, params) in confab_store::postgres::hot_statements() {
        for (i, literal) in params.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 1), literal);
        }
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan"), "{name} scans a table:\n{plan}");
    }
}

/// A database from before the search index (migration 0006 undone on a store holding
/// messages) gets it built when a store connects: older messages are found, deleted ones not.
#[tokio::test]
async fn connecting_to_a_database_from_before_search_indexes_its_messages() {
    let db = scratch();
    let store = PgStore::connect(&db.url(), POOL_SIZE)
        .await
        .expect("connect");
    let before = confab_store::testsuite::messages_from_before_the_index(&store).await;
    store.close().await;
    let mut conn = PgConnection::connect(&db.url()).await.expect("connect");
    conn.execute(
        "DROP TABLE message_search; DROP TABLE search_backfill; \
         DROP FUNCTION confab_send_batch(TEXT[], TEXT[], TEXT[], TEXT[], TEXT[], BIGINT[], TEXT[], BIGINT[], TEXT[], TEXT[]); \
         DELETE FROM _sqlx_migrations WHERE version = 6;",
    )
    .await
    .expect("undo the search migration");
    conn.close().await.expect("close");
    let store = PgStore::connect(&db.url(), POOL_SIZE)
        .await
        .expect("reconnect");
    confab_store::testsuite::older_messages_are_found_after_the_index_is_built(&store, before)
        .await;
}
