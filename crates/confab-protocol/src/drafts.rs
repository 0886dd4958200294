//! Drafts on the wire: `/channels/{id}/draft`, `/me/drafts` and the `draft` frame.

use confab_core::Draft;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A composer's unsent text. An empty `body` means the draft was cleared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DraftWire {
    pub channel_id: String,
    /// The thread whose composer this is; absent for the channel's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_root_id: Option<String>,
    pub body: String,
    pub updated_at: String,
}

impl From<&Draft> for DraftWire {
    fn from(d: &Draft) -> Self {
        Self {
            channel_id: d.channel_id.to_string(),
            thread_root_id: d.thread_root_id.as_ref().map(ToString::to_string),
            body: d.body.clone(),
            updated_at: d.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutDraftRequest {
    /// The text as typed; empty or blank deletes the draft. At most the message body limit.
    #[schema(
        max_length = 40000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub body: String,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub thread_root_id: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DraftQuery {
    /// The thread's composer; absent for the channel's own.
    #[param(format = Uuid)]
    pub thread_root_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftResponse {
    pub draft: DraftWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftsResponse {
    /// Most recently saved first.
    pub drafts: Vec<DraftWire>,
}
