//! The store behaviour suite against SQLite files in temporary directories, plus what only a
//! file-backed store can show: state survives closing and reopening.

use std::sync::Arc;

use confab_core::{ChannelId, MessageId, Timestamp, UserId, WorkspaceId};
use confab_store::prelude::*;
use confab_store::sqlite::SqliteStore;
use confab_store::testsuite::Fixture;
use confab_store::{NewMessage, NewUser, NewWorkspace};

async fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_dir(dir.path())
        .await
        .expect("open sqlite");
    Fixture {
        store: Arc::new(store),
        guard: Box::new(dir),
    }
}

confab_store::store_behaviour_suite!(sqlite_fixture());

#[tokio::test]
async fn committed_messages_survive_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alice = UserId::generate();
    let general = ChannelId::generate();
    let sent = {
        let store = SqliteStore::open_dir(dir.path()).await.expect("open");
        store
            .create_user(NewUser {
                id: alice.clone(),
                username: "alice".into(),
                display_name: "Alice".into(),
                email: None,
                password_hash: "h".into(),
                created_at: Timestamp::now(),
            })
            .await
            .expect("user");
        store
            .create_workspace(NewWorkspace {
                id: WorkspaceId::generate(),
                name: "Acme".into(),
                owner: alice.clone(),
                general_channel_id: general.clone(),
                created_at: Timestamp::now(),
            })
            .await
            .expect("workspace");
        let sent = store
            .send_message(NewMessage {
                id: MessageId::generate(),
                channel_id: general.clone(),
                author_id: alice.clone(),
                client_msg_id: "c1".into(),
                body: "persisted".into(),
                thread_root_id: None,
                mentions: Default::default(),
                ts: Timestamp::now(),
                files: Vec::new(),
            })
            .await
            .expect("send");
        store.close().await;
        sent.message
    };
    let store = SqliteStore::open_dir(dir.path()).await.expect("reopen");
    assert_eq!(
        store.message(&sent.id).await.expect("read"),
        Some(sent.clone())
    );
    let retry = store
        .send_message(NewMessage {
            id: MessageId::generate(),
            channel_id: general,
            author_id: alice,
            client_msg_id: "c1".into(),
            body: "persisted".into(),
            thread_root_id: None,
            mentions: Default::default(),
            ts: Timestamp::now(),
            files: Vec::new(),
        })
        .await
        .expect("retry");
    assert!(!retry.created);
    assert_eq!(retry.message, sent);
}

/// A row that does not decode (here: a thread root whose `thread_root_id` is not UTF-8, as a
/// damaged file or a hand edit could leave it) fails the one send that reads it, as an
/// internal error. The group-commit writer survives it: a later send still commits. Decoding
/// with a panicking `Row::get` killed the writer's thread and every send after it.
#[tokio::test]
async fn a_row_that_does_not_decode_fails_one_request_and_not_the_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_dir(dir.path()).await.expect("open");
    let (alice, general) = confab_store::testsuite::owner_with_general(&store, "alice").await;
    let message = |cid: &str, root: Option<MessageId>| NewMessage {
        id: MessageId::generate(),
        channel_id: general.clone(),
        author_id: alice.clone(),
        client_msg_id: cid.into(),
        body: cid.into(),
        thread_root_id: root,
        mentions: Default::default(),
        ts: Timestamp::now(),
        files: Vec::new(),
    };
    let root = store
        .send_message(message("root", None))
        .await
        .expect("root")
        .message;

    // Damage the row from outside, as another program would.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("confab.db"))
        .foreign_keys(false);
    let mut outside = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("connect");
    sqlx::query("UPDATE messages SET thread_root_id = CAST(x'ff00fe' AS TEXT) WHERE id = ?")
        .bind(root.id.as_str())
        .execute(&mut outside)
        .await
        .expect("corrupt");
    sqlx::Connection::close(outside).await.expect("close");

    let within = std::time::Duration::from_secs(20);
    let reply = tokio::time::timeout(
        within,
        store.send_message(message("reply", Some(root.id.clone()))),
    )
    .await
    .expect("the reply was answered");
    assert!(
        matches!(reply, Err(confab_store::StoreError::Internal { .. })),
        "{reply:?}"
    );
    let read = store.message(&root.id).await;
    assert!(
        read.is_err(),
        "reading the damaged row is an error: {read:?}"
    );
    let after = tokio::time::timeout(within, store.send_message(message("after", None)))
        .await
        .expect("the writer still answers")
        .expect("and still commits");
    assert!(after.created);
}

/// A database from before the search index (migration 0007 undone on a store holding
/// messages) gets it built when it is opened: older messages are found, deleted ones not.
#[tokio::test]
async fn opening_a_database_from_before_search_indexes_its_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_dir(dir.path()).await.expect("open");
    let before = confab_store::testsuite::messages_from_before_the_index(&store).await;
    store.close().await;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("confab.db"));
    let mut outside = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("connect");
    sqlx::raw_sql(
        "DROP VIEW search_input; DROP TABLE search_text; \
         DROP TABLE search_docs; DROP TABLE search_backfill; \
         DELETE FROM _sqlx_migrations WHERE version = 7;",
    )
    .execute(&mut outside)
    .await
    .expect("undo the search migration");
    sqlx::Connection::close(outside).await.expect("close");
    let store = SqliteStore::open_dir(dir.path()).await.expect("reopen");
    confab_store::testsuite::older_messages_are_found_after_the_index_is_built(&store, before)
        .await;
}
