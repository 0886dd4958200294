//! The chat service's errors keep their meaning: a failure to read a channel is not "that
//! message does not exist". A client told 404 forgets a message; one told 500 or 503 does not.

use std::sync::Arc;

use confab_bus::{MemoryBus, MemoryPresence};
use confab_chat::{ChatConfig, ChatService, SendRequest};
use confab_core::ErrorCode;
use confab_store::sqlite::SqliteStore;

#[tokio::test]
async fn a_failed_access_check_is_not_reported_as_a_missing_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open_dir(dir.path()).await.expect("open"));
    let (alice, general) = confab_store::testsuite::owner_with_general(&*store, "alice").await;
    let chat = ChatService::new(
        store.clone(),
        Arc::new(MemoryBus::new()),
        Arc::new(MemoryPresence::new()),
        ChatConfig::default(),
    );
    let sent = chat
        .send_message(
            &alice,
            SendRequest {
                channel_id: general.as_str(),
                client_msg_id: "m",
                body: "hello",
                thread_root_id: None,
                file_ids: &[],
            },
        )
        .await
        .expect("send")
        .message;

    // The message reads fine; its channel's row does not (a damaged file, say).
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("confab.db"));
    let mut outside = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("connect");
    sqlx::query("UPDATE channels SET topic = CAST(x'ff00fe' AS TEXT) WHERE id = ?")
        .bind(general.as_str())
        .execute(&mut outside)
        .await
        .expect("corrupt");
    sqlx::Connection::close(outside).await.expect("close");

    let edit = chat.edit_message(&alice, &sent.id, "edited").await;
    let read = chat.message(&alice, &sent.id).await;
    for (what, code) in [
        ("edit", edit.err().map(|e| e.code())),
        ("read", read.err().map(|e| e.code())),
    ] {
        assert_eq!(code, Some(ErrorCode::Internal), "{what}");
    }
}
