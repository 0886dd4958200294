//! Blob names: made from a file's ID and what the blob is, never from anything a client
//! typed, so a name can be neither a path nor a traversal.

use confab_core::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobKind {
    /// A direct upload not yet checked (S3 only: local uploads are checked as they arrive).
    Upload,
    /// A file's bytes.
    File,
    /// A file's preview.
    Thumbnail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobKey {
    kind: BlobKind,
    file: FileId,
}

impl BlobKey {
    pub fn new(kind: BlobKind, file: &FileId) -> Self {
        Self {
            kind,
            file: file.clone(),
        }
    }

    pub fn file(file: &FileId) -> Self {
        Self::new(BlobKind::File, file)
    }

    pub fn thumbnail(file: &FileId) -> Self {
        Self::new(BlobKind::Thumbnail, file)
    }

    pub fn upload(file: &FileId) -> Self {
        Self::new(BlobKind::Upload, file)
    }

    /// Every blob a file may have, the file's own bytes last: a sweep deleting them in this
    /// order never leaves a preview or an upload behind a file whose bytes are gone.
    pub fn all(file: &FileId) -> [Self; 3] {
        [Self::thumbnail(file), Self::upload(file), Self::file(file)]
    }

    pub fn folder(&self) -> &'static str {
        match self.kind {
            BlobKind::Upload => "uploads",
            BlobKind::File => "files",
            BlobKind::Thumbnail => "thumbs",
        }
    }

    /// `folder/uuid`: only ASCII letters, digits, `-` and one `/`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.folder(), self.file)
    }

    pub fn file_id(&self) -> &FileId {
        &self.file
    }
}
