//! Files' records: an upload from the moment it is asked for, through its one PUT, to the
//! message it is attached to and the sweep that removes what nobody attached. The bytes are
//! the blob store's; here is who owns them, where they were shared and what they are.
//! Attaching happens inside a send's own transaction (each backend's send path).

use async_trait::async_trait;
use confab_core::{
    ChannelEvent, ChannelId, FileId, FileInfo, MessageId, Timestamp, UserId, WorkspaceId,
};

use crate::StoreResult;

/// Where an upload is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum FileState {
    /// Asked for; no bytes yet (or a PUT failed part-way and may be tried again).
    Pending,
    /// Its one PUT is running.
    Uploading,
    /// Every declared byte arrived.
    Complete,
    /// Its message was deleted; the blob goes after a grace period.
    Deleted,
    /// The sweep is removing its blob; the row goes after.
    Swept,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

pub struct NewFile {
    pub id: FileId,
    pub workspace_id: WorkspaceId,
    pub uploader_id: UserId,
    pub filename: String,
    pub size: u64,
    pub declared_type: String,
    pub created_at: Timestamp,
    /// For a direct upload (S3), when its presigned URL stops working.
    pub upload_open_until: Option<Timestamp>,
}

/// A file's record.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// `content_type` is the sniffed type once complete, the declared one before.
    pub info: FileInfo,
    pub workspace_id: WorkspaceId,
    pub uploader_id: UserId,
    pub state: FileState,
    pub message_id: Option<MessageId>,
    pub channel_id: Option<ChannelId>,
    pub created_at: Timestamp,
}

/// A page of a channel's files, newest message first (a message's files in their order).
#[derive(Clone, Debug)]
pub struct FilesPage {
    pub files: Vec<StoredFile>,
    /// Where the next page starts: the `(message_seq, position)` of this page's last file.
    pub next: Option<(i64, i64)>,
}

/// Both backends implement it from one text (`common/files.rs`).
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Records an upload asked for. With a `quota`, refuses (`QuotaExceeded`) one that would
    /// take the uploader's live files (pending, uploading or complete) past it, decided in the
    /// same transaction as the insert.
    async fn create_file(&self, file: NewFile, quota: Option<u64>) -> StoreResult<()>;
    async fn file(&self, id: &FileId) -> StoreResult<Option<StoredFile>>;
    /// Moves a file from `from` to `to`; whether it was in `from` (nothing changes if not).
    /// This is how an upload URL works once: only one PUT moves it out of `pending`.
    async fn move_file(&self, id: &FileId, from: FileState, to: FileState) -> StoreResult<bool>;
    /// Marks an upload complete with what its bytes turned out to be; whether it was
    /// `pending` or `uploading`.
    async fn complete_file(
        &self,
        id: &FileId,
        content_type: &str,
        dimensions: Option<(u32, u32)>,
    ) -> StoreResult<bool>;
    /// Records a complete file's thumbnail. If the file is attached to a live message, that
    /// message changes (next sequence number, `message.updated`) in the same transaction so
    /// every reader sees the preview appear; the event is returned. A file no longer complete
    /// (deleted, swept) is `NotFound(File)`.
    async fn set_thumbnail(
        &self,
        id: &FileId,
        size: (u32, u32),
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// A channel's complete files, newest message first, after `after` (a previous page's
    /// `next`).
    async fn channel_files(
        &self,
        channel: &ChannelId,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<FilesPage>;
    /// Bytes the user's live files (pending, uploading, complete) take.
    async fn storage_used(&self, user: &UserId) -> StoreResult<u64>;
    /// Claims up to `limit` files for the sweep (they become `swept`, so no send can attach
    /// them any more): uploads never attached and created before `unattached_before`, files
    /// deleted before `deleted_before`, and claims an earlier sweep left unfinished.
    async fn claim_sweep(
        &self,
        unattached_before: Timestamp,
        deleted_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FileId>>;
    /// Drops a swept file's record once its blobs are gone.
    async fn forget_file(&self, id: &FileId) -> StoreResult<()>;
    /// Complete (or deleted) files whose direct-upload URL expired before `now` and whose
    /// upload object may still exist (a PUT after completion writes one again), at most
    /// `limit`.
    async fn closed_uploads(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<FileId>>;
    /// Records that a file's upload object is gone for good.
    async fn forget_upload(&self, id: &FileId) -> StoreResult<()>;
}
