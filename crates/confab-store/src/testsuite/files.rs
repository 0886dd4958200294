//! Files: uploads attached once, by their author, in their workspace, in the send's own
//! transaction; previews as message changes; quotas; the sweep.

use confab_core::{Change, FileId, Timestamp, UserId, WorkspaceId};

use super::{add_member, expect, new_message, public_channel, stored, user, workspace};
use crate::{FileState, NewFile, Store, StoreError};

async fn upload(store: &dyn Store, ws: &WorkspaceId, owner: &UserId, size: u64) -> FileId {
    let id = FileId::generate();
    expect(
        store
            .create_file(
                NewFile {
                    id: id.clone(),
                    workspace_id: ws.clone(),
                    uploader_id: owner.clone(),
                    filename: "plan.png".into(),
                    size,
                    declared_type: "image/png".into(),
                    created_at: Timestamp::now(),
                    upload_open_until: None,
                },
                None,
            )
            .await,
        "create file",
    );
    id
}

async fn complete(store: &dyn Store, id: &FileId) {
    assert!(expect(
        store.complete_file(id, "image/png", Some((800, 600))).await,
        "complete"
    ));
}

pub async fn files_attach_once_to_their_authors_sends_and_go_with_the_message(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bob = user(store, "bob").await;
    let (ws, general) = workspace(store, &ada).await;
    add_member(store, &ws, &bob).await;
    let (other_ws, _) = workspace(store, &ada).await;
    let file = upload(store, &ws, &ada, 1234).await;

    let mut send = new_message(&general, &ada, "with-file", "see attached");
    send.files = vec![file.clone()];
    assert!(
        matches!(
            store.send_message(send.clone()).await,
            Err(StoreError::FilesUnavailable)
        ),
        "a pending upload cannot be attached"
    );
    complete(store, &file).await;
    let sent = stored(store, send.clone()).await;
    assert_eq!(sent.files.len(), 1);
    assert_eq!(sent.files[0].id, file);
    assert_eq!(sent.files[0].size, 1234);
    assert_eq!(sent.files[0].content_type, "image/png");
    assert_eq!(
        (sent.files[0].width, sent.files[0].height),
        (Some(800), Some(600))
    );
    // Every read path carries it.
    let read = expect(store.message(&sent.id).await, "read").expect("message");
    assert_eq!(read.files, sent.files);
    let (page, _) = expect(
        store.messages_before(&general, i64::MAX, 10).await,
        "history",
    );
    assert_eq!(page[0].files, sent.files);
    let feed = expect(store.messages_since(&general, 0, 50).await, "feed");
    assert_eq!(
        feed.messages.last().map(|m| m.files.clone()),
        Some(sent.files.clone())
    );
    // A retry returns the original, files and all.
    let retried = expect(store.send_message(send).await, "retry");
    assert!(!retried.created);
    assert_eq!(retried.message.files, sent.files);
    // Attached once: not again, not by someone else, not in another workspace.
    let mut again = new_message(&general, &ada, "again", "again");
    again.files = vec![file.clone()];
    assert!(matches!(
        store.send_message(again).await,
        Err(StoreError::FilesUnavailable)
    ));
    let adas = upload(store, &ws, &ada, 10).await;
    complete(store, &adas).await;
    let mut bobs_send = new_message(&general, &bob, "bob", "mine now");
    bobs_send.files = vec![adas.clone()];
    assert!(matches!(
        store.send_message(bobs_send).await,
        Err(StoreError::FilesUnavailable)
    ));
    let elsewhere = upload(store, &other_ws, &ada, 10).await;
    complete(store, &elsewhere).await;
    let mut cross = new_message(&general, &ada, "cross", "from elsewhere");
    cross.files = vec![adas.clone(), elsewhere];
    assert!(matches!(
        store.send_message(cross).await,
        Err(StoreError::FilesUnavailable)
    ));
    // Refused sends wrote nothing: the unused file is still free.
    let mut two = new_message(&general, &ada, "two", "two files");
    let third = upload(store, &ws, &ada, 10).await;
    complete(store, &third).await;
    two.files = vec![third.clone(), adas.clone()];
    let two = stored(store, two).await;
    assert_eq!(
        two.files.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        vec![third, adas.clone()],
        "in the order given"
    );
    // A reply may carry files too.
    let mut reply = new_message(&general, &ada, "reply", "in thread");
    reply.thread_root_id = Some(sent.id.clone());
    let fourth = upload(store, &ws, &ada, 10).await;
    complete(store, &fourth).await;
    reply.files = vec![fourth.clone()];
    assert_eq!(stored(store, reply).await.files.len(), 1);

    // Deleting the message takes its files out of every read path.
    let deleted = expect(
        store.delete_message(&two.id, Timestamp::now()).await,
        "delete",
    )
    .expect("deleted");
    assert!(deleted.change.message().is_some_and(|m| m.files.is_empty()));
    let file_now = expect(store.file(&adas).await, "file").expect("row");
    assert_eq!(file_now.state, FileState::Deleted);
    let page = expect(store.channel_files(&general, None, 50).await, "files");
    assert!(page.files.iter().all(|f| f.info.id != adas));
}

pub async fn thumbnails_change_the_message_they_are_on(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    let loose = upload(store, &ws, &ada, 10).await;
    complete(store, &loose).await;
    assert!(
        expect(
            store
                .set_thumbnail(&loose, (360, 270), Timestamp::now())
                .await,
            "thumbnail"
        )
        .is_none(),
        "a file on no message changes no message"
    );
    let file = upload(store, &ws, &ada, 10).await;
    complete(store, &file).await;
    let mut send = new_message(&general, &ada, "pic", "pic");
    send.files = vec![file.clone()];
    let sent = stored(store, send).await;
    assert_eq!(sent.files[0].thumbnail, None);
    let event = expect(
        store
            .set_thumbnail(&file, (360, 270), Timestamp::now())
            .await,
        "thumbnail",
    )
    .expect("a message change");
    assert!(event.seq > sent.seq);
    let Change::MessageUpdated { message } = &event.change else {
        panic!("expected message.updated, got {:?}", event.change.kind());
    };
    assert_eq!(message.version, event.seq);
    assert_eq!(message.files[0].thumbnail, Some((360, 270)));
    // Catch-up replays it as it happened.
    let replayed = expect(store.changes_after(&general, sent.seq, 10).await, "changes");
    assert_eq!(
        replayed.last().map(|e| e.change.kind()),
        Some("message.updated")
    );
    // A file no longer complete gets no preview: not one still uploading, nor one deleted.
    let pending = upload(store, &ws, &ada, 10).await;
    assert!(matches!(
        store
            .set_thumbnail(&pending, (1, 1), Timestamp::now())
            .await,
        Err(StoreError::NotFound(crate::Missing::File))
    ));
    expect(
        store.delete_message(&sent.id, Timestamp::now()).await,
        "delete",
    );
    assert!(matches!(
        store.set_thumbnail(&file, (1, 1), Timestamp::now()).await,
        Err(StoreError::NotFound(crate::Missing::File))
    ));
}

pub async fn quotas_count_live_files_in_one_transaction(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, _) = workspace(store, &ada).await;
    let new = |size| NewFile {
        id: FileId::generate(),
        workspace_id: ws.clone(),
        uploader_id: ada.clone(),
        filename: "f".into(),
        size,
        declared_type: "application/octet-stream".into(),
        created_at: Timestamp::now(),
        upload_open_until: None,
    };
    expect(store.create_file(new(600), Some(1000)).await, "within");
    assert!(matches!(
        store.create_file(new(401), Some(1000)).await,
        Err(StoreError::QuotaExceeded)
    ));
    expect(store.create_file(new(400), Some(1000)).await, "exactly at");
    assert_eq!(expect(store.storage_used(&ada).await, "used"), 1000);
    expect(store.create_file(new(5000), None).await, "no quota");
}

pub async fn the_sweep_claims_unattached_and_deleted_files_only(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    let orphan = upload(store, &ws, &ada, 10).await;
    let kept = upload(store, &ws, &ada, 10).await;
    complete(store, &kept).await;
    let mut send = new_message(&general, &ada, "k", "kept");
    send.files = vec![kept.clone()];
    stored(store, send).await;
    let gone = upload(store, &ws, &ada, 10).await;
    complete(store, &gone).await;
    let mut send = new_message(&general, &ada, "g", "gone");
    send.files = vec![gone.clone()];
    let message = stored(store, send).await;
    expect(
        store.delete_message(&message.id, Timestamp::now()).await,
        "delete",
    );

    let past = Timestamp::from_micros(0);
    assert!(
        expect(store.claim_sweep(past, past, 100).await, "sweep").is_empty(),
        "nothing is old enough yet"
    );
    let future = Timestamp::from_micros(Timestamp::now().as_micros() + 1_000_000);
    let mut claimed = expect(store.claim_sweep(future, future, 100).await, "sweep");
    claimed.sort();
    let mut expected = vec![orphan.clone(), gone.clone()];
    expected.sort();
    assert_eq!(
        claimed, expected,
        "the orphan and the deleted file, not the attached one"
    );
    // A claimed upload can no longer be attached.
    let mut late = new_message(&general, &ada, "late", "late");
    late.files = vec![orphan.clone()];
    assert!(store.send_message(late).await.is_err());
    // An unfinished claim is claimed again; forgotten files are gone.
    assert_eq!(
        expect(store.claim_sweep(past, past, 100).await, "again").len(),
        2
    );
    for id in &claimed {
        expect(store.forget_file(id).await, "forget");
        assert!(expect(store.file(id).await, "file").is_none());
    }
    assert!(expect(store.file(&kept).await, "file").is_some());
}

pub async fn channel_files_page_newest_first(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    let other = public_channel(store, &ws, &ada, "other").await;
    let mut sent = Vec::new();
    for i in 0..3 {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let id = upload(store, &ws, &ada, 10).await;
            complete(store, &id).await;
            ids.push(id);
        }
        let mut send = new_message(&general, &ada, &format!("m{i}"), "files");
        send.files = ids.clone();
        stored(store, send).await;
        sent.push(ids);
    }
    let elsewhere = upload(store, &ws, &ada, 10).await;
    complete(store, &elsewhere).await;
    let mut send = new_message(&other.id, &ada, "o", "other");
    send.files = vec![elsewhere];
    stored(store, send).await;

    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = expect(store.channel_files(&general, after, 4).await, "page");
        listed.extend(page.files.into_iter().map(|f| f.info.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<FileId> = sent.into_iter().rev().flatten().collect();
    assert_eq!(
        listed, expected,
        "newest message first, each message's files in order"
    );
}

pub async fn two_sends_racing_for_one_file_attach_it_once(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, general) = workspace(store, &ada).await;
    for round in 0..5 {
        let file = upload(store, &ws, &ada, 10).await;
        complete(store, &file).await;
        let mut first = new_message(&general, &ada, &format!("a{round}"), "first");
        first.files = vec![file.clone()];
        let mut second = new_message(&general, &ada, &format!("b{round}"), "second");
        second.files = vec![file.clone()];
        let (a, b) = tokio::join!(store.send_message(first), store.send_message(second));
        let won: Vec<_> = [a, b].into_iter().filter_map(Result::ok).collect();
        assert_eq!(won.len(), 1, "exactly one send attaches the file");
        assert_eq!(won[0].message.files.len(), 1);
    }
}

pub async fn upload_objects_are_forgotten_once_their_urls_close(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let (ws, _) = workspace(store, &ada).await;
    let direct = |open_until| NewFile {
        id: FileId::generate(),
        workspace_id: ws.clone(),
        uploader_id: ada.clone(),
        filename: "d".into(),
        size: 10,
        declared_type: "x/y".into(),
        created_at: Timestamp::now(),
        upload_open_until: Some(open_until),
    };
    let closed = direct(Timestamp::from_micros(1));
    let open = direct(Timestamp::from_micros(
        Timestamp::now().as_micros() + 60_000_000,
    ));
    let pending = direct(Timestamp::from_micros(1));
    let (closed_id, open_id) = (closed.id.clone(), open.id.clone());
    for f in [closed, open, pending] {
        expect(store.create_file(f, None).await, "create");
    }
    complete(store, &closed_id).await;
    complete(store, &open_id).await;
    let now = Timestamp::now();
    assert_eq!(
        expect(store.closed_uploads(now, 10).await, "closed"),
        vec![closed_id.clone()],
        "complete, and past its URL: not the open one, not the one never completed"
    );
    expect(store.forget_upload(&closed_id).await, "forget");
    assert!(expect(store.closed_uploads(now, 10).await, "closed").is_empty());
}
