//! Files on the wire: `POST /files`, `GET /files/{id}`, `POST /files/{id}/complete`,
//! `GET /channels/{id}/files`, messages' `files` and the `file.updated` frame.

use confab_core::FileInfo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ThumbnailWire {
    pub width: u32,
    pub height: u32,
}

/// A file as messages carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileWire {
    pub id: String,
    pub filename: String,
    pub size: u64,
    /// Sniffed from the bytes once the upload completed (what the client declared before).
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Set once a preview exists (images), with its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ThumbnailWire>,
}

impl From<&FileInfo> for FileWire {
    fn from(f: &FileInfo) -> Self {
        Self {
            id: f.id.to_string(),
            filename: f.filename.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            width: f.width,
            height: f.height,
            thumbnail: f
                .thumbnail
                .map(|(width, height)| ThumbnailWire { width, height }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUploadRequest {
    /// Shown and downloaded under; never used as a path. Trimmed; no control characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub filename: String,
    /// Bytes the upload will have, exactly; at most `max_upload_bytes` (25 MiB by default,
    /// else 413 `file_too_large`).
    #[serde(deserialize_with = "crate::integer::u64")]
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub size: u64,
    /// What the client believes the file is; kept, never trusted (the bytes are sniffed).
    #[schema(max_length = 255, pattern = "^[ -~]*$")]
    pub content_type: String,
    #[schema(format = Uuid)]
    pub workspace_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadTicket {
    pub file_id: String,
    /// `PUT` exactly `size` bytes here, once, before `expires_at`. A path (no scheme) is on
    /// this server; on S3 it is a presigned URL of the bucket.
    pub upload_url: String,
    pub expires_at: String,
}

/// The answer to an upload's `PUT` on this server: the file, complete.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadedResponse {
    pub file: FileWire,
}

/// A file with short-lived URLs for its bytes, for whoever may read it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FileResponse {
    pub file: FileWire,
    pub uploader_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Absent until the upload is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// When the URLs stop working.
    pub urls_expire_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelFilesQuery {
    /// 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// A previous page's `next_cursor`.
    #[param(pattern = r"^[0-9]{1,16}\.[0-9]{1,4}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelFileWire {
    pub file: FileWire,
    pub uploader_id: String,
    pub message_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelFilesResponse {
    /// Newest message first; a message's files in their order.
    pub files: Vec<ChannelFileWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
