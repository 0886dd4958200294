//! The store behaviour suite against SQLite files in temporary directories, plus what only a
//! file-backed store can show: state survives closing and reopening.

use std::sync::Arc;

use confab_core::{ChannelId, MessageId, Timestamp, UserId, WorkspaceId};
use confab_store::sqlite::SqliteStore;
use confab_store::testsuite::Fixture;
use confab_store::{NewMessage, NewUser, NewWorkspace, Store};

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
        })
        .await
        .expect("retry");
    assert!(!retry.created);
    assert_eq!(retry.message, sent);
}
