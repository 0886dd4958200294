//! confab's domain: identifiers, validated values, entities, channel events and the stable
//! error codes every layer maps its errors onto. Nothing here does I/O.
//!
//! Entities and events derive serde for confab's *internal* transports (the Redis bus, and the
//! gateway's calls to a chat service deployed apart); the public JSON shapes clients see are
//! `confab-protocol`'s, and never these.

pub mod error;
pub mod event;
pub mod files;
pub mod ids;
pub mod limits;
pub mod mentions;
pub mod model;
pub mod names;
pub mod notify;
pub mod search;
pub mod time;
pub mod values;

pub use error::{ErrorCode, ValidationError};
pub use event::{BusMessage, Change, ChannelEvent, Presence, Topic, UserEvent};
pub use files::{FileInfo, FileName};
pub use ids::{ChannelId, FileId, MessageId, SessionId, UserId, WorkspaceId};
pub use limits::Limits;
pub use model::{
    Channel, ChannelKind, Draft, Mentions, Message, Reaction, Role, User, Workspace, add_reaction,
    add_replier,
};
pub use time::Timestamp;
pub use values::{
    ChannelName, ClientMsgId, DisplayName, Email, Emoji, MessageBody, Password, StatusText,
    Topic as ChannelTopic, Username, WorkspaceName,
};
