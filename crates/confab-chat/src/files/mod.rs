//! Files: asking to upload, receiving or checking the bytes, who may read them, previews and
//! the sweep. Bytes never pass through the WebSocket path: clients `PUT` them to a signed URL
//! (confab's own on local disk, the bucket's on S3) and read them from one.
//!
//! Life of an upload: `POST /files` records it `pending` and answers a URL good for one PUT
//! of exactly the declared size; the bytes arrive (local: streamed to a partial file, renamed
//! when complete; S3: `complete` checks the object's size and moves it into place); the type
//! is sniffed from the bytes and the dimensions read from an image's header; a thumbnail is
//! made in the background. A send attaches complete uploads in its own transaction.

mod preview;
mod slots;
mod sweep;
mod urls;

use std::sync::Arc;
use std::time::Duration;

use confab_blob::{BlobError, BlobKey, BlobStore, ByteStream};
use confab_core::files::{MAX_FILES_PER_MESSAGE, SNIFF_BYTES, sniff};
use confab_core::{
    BusMessage, ChannelId, ErrorCode, FileId, FileInfo, FileName, Timestamp, UserEvent, UserId,
    WorkspaceId,
};
use confab_store::{FileState, NewFile, StoreError, StoredFile};

pub use preview::ImageLimits;
pub use urls::{UrlSigner, Variant};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

/// Previews that may wait for their turn: a flood of images costs a bounded queue, and the
/// files beyond it stay downloadable without a preview.
const MAX_PREVIEWS_WAITING: usize = 32;

/// Bytes read from the start of an image to find its dimensions (JPEG keeps them after its
/// metadata, which can be long).
const HEADER_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub struct FileConfig {
    pub max_upload_bytes: u64,
    /// Bytes of live files one user may have; `None` is unlimited.
    pub quota_bytes: Option<u64>,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
    /// Uploads on no message after this are swept.
    pub unattached_grace: Duration,
    /// Files of deleted messages keep their blobs this long.
    pub deleted_grace: Duration,
    pub images: ImageLimits,
    /// Prefix of the URLs confab serves (`public_url`), or none for paths.
    pub public_base: Option<String>,
    /// Upload bodies confab receives at once, in all and from one uploader (each holds a
    /// connection, a task and an open file for as long as its client takes).
    pub max_uploads_in_flight: usize,
    pub max_uploads_per_user: usize,
}

impl Default for FileConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 25 * 1024 * 1024,
            quota_bytes: None,
            upload_url_ttl: Duration::from_secs(15 * 60),
            download_url_ttl: Duration::from_secs(5 * 60),
            unattached_grace: Duration::from_secs(24 * 3600),
            deleted_grace: Duration::from_secs(24 * 3600),
            images: ImageLimits::default(),
            public_base: None,
            max_uploads_in_flight: 100,
            max_uploads_per_user: 10,
        }
    }
}

/// Where file bytes go and how their URLs are signed.
pub struct FileStorage {
    pub blobs: Arc<dyn BlobStore>,
    pub signer: UrlSigner,
    pub config: FileConfig,
    /// Previews made at once: each decodes a whole image.
    pub(crate) previews: Arc<tokio::sync::Semaphore>,
    /// Previews waiting for their turn; past [`MAX_PREVIEWS_WAITING`] a file gets none.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// Uploads whose bytes are arriving at confab now, in all and per uploader.
    uploads: slots::Slots,
}

impl FileStorage {
    pub fn new(blobs: Arc<dyn BlobStore>, url_key: Vec<u8>, config: FileConfig) -> Self {
        Self {
            blobs,
            signer: UrlSigner::new(url_key),
            previews: Arc::new(tokio::sync::Semaphore::new(1)),
            waiting: Arc::default(),
            uploads: slots::Slots::new(config.max_uploads_in_flight, config.max_uploads_per_user),
            config,
        }
    }
}

pub struct UploadRequest<'a> {
    pub filename: &'a str,
    pub size: u64,
    pub content_type: &'a str,
    pub workspace_id: &'a str,
}

pub struct UploadTicket {
    pub file_id: FileId,
    pub upload_url: String,
    pub expires_at: Timestamp,
}

/// A file and URLs for its bytes.
pub struct FileView {
    pub file: StoredFile,
    pub download_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub urls_expire_at: Timestamp,
}

/// Who is downloading: the bearer of a signed URL, or a signed-in session.
pub enum Reader<'a> {
    Signed {
        user: &'a str,
        expires: i64,
        signature: &'a str,
    },
    Session(&'a UserId),
}

pub struct Download {
    pub file: StoredFile,
    pub size: u64,
    pub body: ByteStream,
    /// The type served: the sniffed one for inline types, a download for anything else.
    pub content_type: String,
    pub inline: bool,
}

fn not_found() -> ChatError {
    ChatError::refused(ErrorCode::FileNotFound, "file not found")
}

fn blob_error(e: BlobError) -> ChatError {
    tracing::warn!(error = %e, "file storage");
    match e {
        BlobError::Unreachable { .. } | BlobError::Backend { .. } => {
            ChatError::Unavailable("reaching file storage")
        }
        _ => ChatError::Internal("using file storage"),
    }
}

fn epoch_seconds(t: Timestamp) -> i64 {
    t.as_micros() / 1_000_000
}

fn later(ttl: Duration) -> Timestamp {
    Timestamp::from_micros(Timestamp::now().as_micros() + ttl.as_micros() as i64)
}

impl ChatService {
    pub fn files(&self) -> ChatResult<&FileStorage> {
        self.files
            .as_ref()
            .ok_or_else(|| ChatError::refused(ErrorCode::NotFound, "files are not enabled"))
    }

    fn url(&self, path_and_query: String) -> ChatResult<String> {
        let base = self.files()?.config.public_base.as_deref().unwrap_or("");
        Ok(format!("{}{path_and_query}", base.trim_end_matches('/')))
    }

    pub async fn create_upload(
        &self,
        user: &UserId,
        req: UploadRequest<'_>,
    ) -> ChatResult<UploadTicket> {
        let files = self.files()?;
        let filename = FileName::parse(req.filename)?;
        let workspace = WorkspaceId::parse(req.workspace_id)?;
        let max = files.config.max_upload_bytes;
        if req.size == 0 {
            return Err(ChatError::refused(
                ErrorCode::InvalidFile,
                "the file is empty",
            ));
        }
        // Past 2^53 - 1 a size is no longer a JSON integer every client reads exactly.
        if req.size > (1 << 53) - 1 {
            return Err(ChatError::refused(
                ErrorCode::InvalidFile,
                "size must be at most 2^53 - 1",
            ));
        }
        if req.size > max {
            return Err(ChatError::refused(
                ErrorCode::FileTooLarge,
                format!("files are limited to {max} bytes"),
            ));
        }
        if req.content_type.len() > 255
            || !req
                .content_type
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(ChatError::refused(
                ErrorCode::InvalidFile,
                "content_type must be at most 255 printable ASCII characters",
            ));
        }
        self.limit_upload(user)?;
        self.workspace_role(user, &workspace).await?;
        let id = FileId::generate();
        let ttl = files.config.upload_url_ttl;
        let expires_at = later(ttl);
        let created = self
            .store
            .create_file(
                NewFile {
                    id: id.clone(),
                    workspace_id: workspace,
                    uploader_id: user.clone(),
                    filename: filename.into_inner(),
                    size: req.size,
                    declared_type: req.content_type.to_owned(),
                    created_at: Timestamp::now(),
                    upload_open_until: files.blobs.takes_direct_uploads().then_some(expires_at),
                },
                files.config.quota_bytes,
            )
            .await;
        match created {
            Err(StoreError::QuotaExceeded) => {
                return Err(ChatError::refused(
                    ErrorCode::QuotaExceeded,
                    "this upload would take you past your storage quota",
                ));
            }
            other => other?,
        }
        let direct = files
            .blobs
            .direct_upload(&BlobKey::upload(&id), req.size, ttl)
            .map_err(blob_error)?;
        let upload_url = match direct {
            Some(url) => url,
            None => self.url(format!(
                "/api/v1/files/{id}/content?{}",
                files
                    .signer
                    .upload_query(&id, epoch_seconds(expires_at), req.size)
            ))?,
        };
        Ok(UploadTicket {
            file_id: id,
            upload_url,
            expires_at,
        })
    }

    /// An upload's bytes, arriving at confab's own signed URL (local disk). Works once: the
    /// file moves out of `pending` before the first byte is read, and back only if the body
    /// was refused, so a failed attempt may be retried while the URL lasts.
    pub async fn receive_upload(
        &self,
        id: &str,
        expires: i64,
        signature: &str,
        declared_length: Option<u64>,
        body: ByteStream,
    ) -> ChatResult<FileInfo> {
        let files = self.files()?;
        let bad =
            || ChatError::refused(ErrorCode::InvalidSignature, "the URL's signature is wrong");
        let id = FileId::parse(id).map_err(|_| bad())?;
        let file = self.store.file(&id).await?.ok_or_else(bad)?;
        files
            .signer
            .check_upload(&id, expires, file.info.size, signature)?;
        if file.state != FileState::Pending {
            return Err(used());
        }
        if declared_length.is_some_and(|len| len > file.info.size) {
            return Err(too_large(file.info.size));
        }
        let _slot = files
            .uploads
            .take(&file.uploader_id)
            .ok_or(ChatError::RateLimited {
                retry_after: Duration::from_secs(1),
            })?;
        if !self
            .store
            .move_file(&id, FileState::Pending, FileState::Uploading)
            .await?
        {
            return Err(used());
        }
        let stored = files
            .blobs
            .put(&BlobKey::file(&id), file.info.size, body)
            .await;
        if let Err(e) = stored {
            self.store
                .move_file(&id, FileState::Uploading, FileState::Pending)
                .await?;
            return Err(match e {
                BlobError::TooLarge { declared } => too_large(declared),
                BlobError::Incomplete { declared, received } => ChatError::refused(
                    ErrorCode::UploadIncomplete,
                    format!("{received} of the declared {declared} bytes arrived"),
                ),
                BlobError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    ChatError::refused(ErrorCode::RequestTimeout, "the upload stalled")
                }
                BlobError::Io(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => {
                    ChatError::refused(ErrorCode::InvalidRequest, "the upload body broke off")
                }
                e => blob_error(e),
            });
        }
        let key = BlobKey::file(&id);
        match self.finish(file, key.clone()).await {
            Ok(info) => Ok(info),
            Err(e) => {
                // Put back as it was, so the URL may be used again while it lasts.
                files.blobs.delete(&key).await.map_err(blob_error)?;
                self.store
                    .move_file(&id, FileState::Uploading, FileState::Pending)
                    .await?;
                Err(e)
            }
        }
    }

    /// Completes an upload made straight to object storage, once its object is there with
    /// exactly the declared size; a complete one is answered as it is.
    pub async fn complete_upload(&self, user: &UserId, id: &str) -> ChatResult<FileInfo> {
        let id = FileId::parse(id)?;
        let file = self
            .store
            .file(&id)
            .await?
            .filter(|f| &f.uploader_id == user)
            .ok_or_else(not_found)?;
        // Checking a pending upload asks the object store: as limited as asking to upload.
        if file.state == FileState::Pending {
            self.limit_upload(user)?;
        }
        self.complete_file(file).await
    }

    async fn complete_file(&self, file: StoredFile) -> ChatResult<FileInfo> {
        let files = self.files()?;
        match file.state {
            FileState::Complete => return Ok(file.info),
            // On confab's own storage the upload's PUT completes it; nothing else may.
            FileState::Pending if !files.blobs.takes_direct_uploads() => {
                return Err(incomplete());
            }
            FileState::Pending => {}
            FileState::Uploading => return Err(incomplete()),
            FileState::Deleted | FileState::Swept => return Err(not_found()),
        }
        // One completion at a time (a `complete` and a send may race): the claim decides.
        let id = file.info.id.clone();
        if !self
            .store
            .move_file(&id, FileState::Pending, FileState::Uploading)
            .await?
        {
            return match self.store.file(&id).await?.map(|f| (f.state, f.info)) {
                Some((FileState::Complete, info)) => Ok(info),
                Some((FileState::Pending | FileState::Uploading, _)) => Err(incomplete()),
                _ => Err(not_found()),
            };
        }
        let completed = self.complete_claimed(file).await;
        if completed.is_err() {
            self.store
                .move_file(&id, FileState::Uploading, FileState::Pending)
                .await?;
        }
        completed
    }

    /// Completes a direct upload this call claimed (`uploading`).
    async fn complete_claimed(&self, file: StoredFile) -> ChatResult<FileInfo> {
        let files = self.files()?;
        let upload = BlobKey::upload(&file.info.id);
        match files.blobs.size(&upload).await.map_err(blob_error)? {
            Some(size) if size == file.info.size => {}
            Some(size) => {
                // Cannot happen through a URL that signs the length; drop it either way.
                files.blobs.delete(&upload).await.map_err(blob_error)?;
                return Err(ChatError::refused(
                    ErrorCode::UploadIncomplete,
                    format!(
                        "{size} bytes were stored, not the declared {}",
                        file.info.size
                    ),
                ));
            }
            None => return Err(incomplete()),
        }
        // Moved out of the upload's reach: its URL cannot change the bytes now checked.
        let key = BlobKey::file(&file.info.id);
        files
            .blobs
            .rename(&upload, &key)
            .await
            .map_err(blob_error)?;
        self.finish(file, key).await
    }

    /// Sniffs what arrived, records it complete, and starts its preview.
    async fn finish(&self, mut file: StoredFile, key: BlobKey) -> ChatResult<FileInfo> {
        let files = self.files()?;
        let prefix = files
            .blobs
            .read_prefix(&key, HEADER_BYTES)
            .await
            .map_err(blob_error)?
            .unwrap_or_default();
        let sniffed = sniff(&prefix[..prefix.len().min(SNIFF_BYTES)]);
        let dimensions = sniffed.image.and_then(|kind| {
            preview::dimensions(std::io::Cursor::new(&prefix), kind, files.config.images)
        });
        if !self
            .store
            .complete_file(&file.info.id, sniffed.content_type, dimensions)
            .await?
        {
            // Swept (or deleted) while its bytes were arriving: they go too.
            files.blobs.delete(&key).await.map_err(blob_error)?;
            return Err(not_found());
        }
        file.info.content_type = sniffed.content_type.to_owned();
        file.info.width = dimensions.map(|d| d.0);
        file.info.height = dimensions.map(|d| d.1);
        file.state = FileState::Complete;
        if let (Some(kind), Some(_)) = (sniffed.image, dimensions) {
            self.spawn_preview(file.clone(), kind);
        }
        Ok(file.info)
    }

    /// Checks a send's `file_ids` before the store attaches them: at most ten, each once, each
    /// the author's, in the channel's workspace and complete (an upload to object storage is
    /// completed here if its bytes are all there). The store checks again in the send's
    /// transaction, where it counts.
    pub(crate) async fn files_for_send(
        &self,
        author: &UserId,
        channel: &ChannelId,
        file_ids: &[String],
    ) -> ChatResult<Vec<FileId>> {
        if file_ids.is_empty() {
            return Ok(Vec::new());
        }
        if file_ids.len() > MAX_FILES_PER_MESSAGE {
            return Err(ChatError::refused(
                ErrorCode::TooManyFiles,
                format!("a message carries at most {MAX_FILES_PER_MESSAGE} files"),
            ));
        }
        let ids = file_ids
            .iter()
            .map(|id| FileId::parse(id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != ids.len() {
            return Err(ChatError::refused(
                ErrorCode::InvalidFile,
                "a file is named twice",
            ));
        }
        let workspace = self
            .store
            .channel(channel)
            .await?
            .map(|c| c.workspace_id)
            .ok_or_else(|| ChatError::refused(ErrorCode::ChannelNotFound, "channel not found"))?;
        for id in &ids {
            let file = self
                .store
                .file(id)
                .await?
                .filter(|f| &f.uploader_id == author && f.workspace_id == workspace)
                .ok_or_else(not_found)?;
            match file.state {
                // A deleted message's file: only its own send, retried, may name it; the store
                // finds that original (or refuses) in the send's transaction.
                FileState::Complete | FileState::Deleted => {}
                _ => {
                    self.complete_file(file).await?;
                }
            }
        }
        Ok(ids)
    }

    /// Whether `user` may read `file`: its uploader, or anyone who may read the channel it
    /// was shared in (members; for a public channel, the workspace's members but guests).
    async fn may_read(&self, user: &UserId, file: &StoredFile) -> ChatResult<bool> {
        if matches!(file.state, FileState::Deleted | FileState::Swept) {
            return Ok(false);
        }
        if &file.uploader_id == user {
            return Ok(true);
        }
        match (&file.channel_id, file.state) {
            (Some(channel), FileState::Complete) => match self.access(user, channel).await {
                Ok(_) => Ok(true),
                Err(e) if e.code() == ErrorCode::ChannelNotFound => Ok(false),
                Err(e) => Err(e),
            },
            _ => Ok(false),
        }
    }

    /// A file's record and URLs for its bytes, for someone who may read it; 404 for anyone
    /// else, as for a file that does not exist.
    pub async fn file_view(&self, user: &UserId, id: &str) -> ChatResult<FileView> {
        let files = self.files()?;
        let id = FileId::parse(id)?;
        let file = self.store.file(&id).await?.ok_or_else(not_found)?;
        if !self.may_read(user, &file).await? {
            return Err(not_found());
        }
        let urls_expire_at = later(files.config.download_url_ttl);
        let expires = epoch_seconds(urls_expire_at);
        let url = |variant: Variant| {
            self.url(format!(
                "/api/v1/files/{id}/{}?{}",
                variant.path(),
                files.signer.download_query(&id, variant, expires, user)
            ))
        };
        let complete = file.state == FileState::Complete;
        Ok(FileView {
            download_url: complete.then(|| url(Variant::Content)).transpose()?,
            thumbnail_url: (complete && file.info.thumbnail.is_some())
                .then(|| url(Variant::Thumbnail))
                .transpose()?,
            file,
            urls_expire_at,
        })
    }

    /// A file's bytes (or its preview's) for a signed URL's bearer or a session, checked
    /// again now: a reader who left the channel since the URL was made gets 404.
    pub async fn open_download(
        &self,
        reader: Reader<'_>,
        id: &str,
        variant: Variant,
    ) -> ChatResult<Download> {
        let files = self.files()?;
        let id = FileId::parse(id).map_err(|_| not_found())?;
        let user = match reader {
            Reader::Signed {
                user,
                expires,
                signature,
            } => {
                let user = UserId::parse(user).map_err(|_| {
                    ChatError::refused(ErrorCode::InvalidSignature, "the URL's signature is wrong")
                })?;
                files
                    .signer
                    .check_download(&id, variant, expires, &user, signature)?;
                user
            }
            Reader::Session(user) => user.clone(),
        };
        let file = self.store.file(&id).await?.ok_or_else(not_found)?;
        if file.state != FileState::Complete || !self.may_read(&user, &file).await? {
            return Err(not_found());
        }
        let (key, content_type) = match variant {
            Variant::Content => (BlobKey::file(&id), file.info.content_type.clone()),
            Variant::Thumbnail if file.info.thumbnail.is_some() => (
                BlobKey::thumbnail(&id),
                if file.info.content_type == "image/jpeg" {
                    "image/jpeg".to_owned()
                } else {
                    "image/png".to_owned()
                },
            ),
            Variant::Thumbnail => return Err(not_found()),
        };
        let (size, body) = files
            .blobs
            .get(&key)
            .await
            .map_err(blob_error)?
            .ok_or_else(not_found)?;
        let inline = confab_core::files::served_inline(&content_type);
        Ok(Download {
            file,
            size,
            body,
            content_type: if inline {
                content_type
            } else {
                "application/octet-stream".to_owned()
            },
            inline,
        })
    }

    /// A channel's files, newest first, for someone who may read the channel.
    pub async fn channel_files(
        &self,
        user: &UserId,
        channel: &ChannelId,
        cursor: Option<&str>,
        limit: u32,
    ) -> ChatResult<confab_store::FilesPage> {
        if !(1..=crate::messages::MAX_PAGE).contains(&limit) {
            return Err(ChatError::refused(
                ErrorCode::InvalidLimit,
                format!("limit must be 1 to {}", crate::messages::MAX_PAGE),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => Some(
                c.split_once('.')
                    .and_then(|(s, p)| Some((s.parse().ok()?, p.parse().ok()?)))
                    .ok_or_else(|| {
                        ChatError::refused(ErrorCode::InvalidCursor, "cursor is not one we gave")
                    })?,
            ),
        };
        self.access(user, channel).await?;
        Ok(self.store.channel_files(channel, after, limit).await?)
    }

    /// Makes a file's preview on the blocking pool, one at a time, then tells whoever sees the
    /// file: its message changes, or (on no message yet) its uploader hears `file.updated`.
    fn spawn_preview(&self, file: StoredFile, kind: confab_core::files::ImageKind) {
        use std::sync::atomic::Ordering;
        let Ok(files) = self.files() else { return };
        if files.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_PREVIEWS_WAITING {
            files.waiting.fetch_sub(1, Ordering::SeqCst);
            tracing::info!(file = %file.info.id, "no preview: too many waiting");
            return;
        }
        let job = PreviewJob {
            store: self.store.clone(),
            bus: self.bus.clone(),
            blobs: files.blobs.clone(),
            turns: files.previews.clone(),
            waiting: files.waiting.clone(),
            limits: files.config.images,
        };
        tokio::spawn(async move {
            if let Err(error) = job.run(&file, kind).await {
                tracing::info!(file = %file.info.id, %error, "no preview");
            }
        });
    }
}

/// What making a preview needs, owned, so it outlives the request that started it.
struct PreviewJob {
    store: Arc<dyn confab_store::Store>,
    bus: Arc<dyn confab_bus::Bus>,
    blobs: Arc<dyn BlobStore>,
    turns: Arc<tokio::sync::Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    limits: ImageLimits,
}

impl PreviewJob {
    async fn run(
        &self,
        file: &StoredFile,
        kind: confab_core::files::ImageKind,
    ) -> Result<(), String> {
        let turn = self.turns.acquire().await;
        self.waiting
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        let _turn = turn.map_err(|e| e.to_string())?;
        let id = &file.info.id;
        // The image goes to an unnamed temporary file, not memory: it is decoded from there.
        let (_, mut body) = self
            .blobs
            .get(&BlobKey::file(id))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the file's bytes are gone")?;
        let temp = tempfile::tempfile().map_err(|e| e.to_string())?;
        let mut out = tokio::fs::File::from_std(temp);
        {
            use futures_util::StreamExt;
            use tokio::io::AsyncWriteExt;
            while let Some(chunk) = body.next().await {
                out.write_all(&chunk.map_err(|e| e.to_string())?)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            out.flush().await.map_err(|e| e.to_string())?;
        }
        let temp = out.into_std().await;
        let limits = self.limits;
        let thumb = tokio::task::spawn_blocking(move || preview::thumbnail(temp, kind, limits))
            .await
            .map_err(|e| e.to_string())??;
        let size = thumb.bytes.len() as u64;
        let bytes = bytes::Bytes::from(thumb.bytes);
        let stream: ByteStream = Box::pin(futures_util::stream::iter([Ok(bytes)]));
        self.blobs
            .put(&BlobKey::thumbnail(id), size, stream)
            .await
            .map_err(|e| e.to_string())?;
        let event = match self
            .store
            .set_thumbnail(id, thumb.size, Timestamp::now())
            .await
        {
            Ok(event) => event,
            Err(e) => {
                // Gone meanwhile (deleted, swept): so is its preview, which nobody will sweep.
                let _ = self.blobs.delete(&BlobKey::thumbnail(id)).await;
                return Err(e.to_string());
            }
        };
        let message = match event {
            Some(event) => BusMessage::Channel(event),
            None => {
                let mut info = file.info.clone();
                info.thumbnail = Some(thumb.size);
                BusMessage::User {
                    user_id: file.uploader_id.clone(),
                    event: UserEvent::FileUpdated { file: info },
                }
            }
        };
        if let Err(error) = self.bus.publish(Arc::new(message)).await {
            tracing::warn!(%error, "publishing a preview; readers catch up from the store");
        }
        Ok(())
    }
}

fn used() -> ChatError {
    ChatError::refused(ErrorCode::UploadUsed, "this upload URL was used already")
}

fn incomplete() -> ChatError {
    ChatError::refused(ErrorCode::UploadIncomplete, "the upload has not completed")
}

fn too_large(declared: u64) -> ChatError {
    ChatError::refused(
        ErrorCode::FileTooLarge,
        format!("the upload was declared as {declared} bytes; more arrived"),
    )
}
