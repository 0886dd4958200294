//! Channel changes and user-directed events: what the chat service publishes on the bus and
//! what gateways turn into WebSocket frames.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::ids::{ChannelId, SessionId, UserId};
use crate::model::{Channel, Draft, Message};

/// One change in a channel, carrying the channel's sequence number it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEvent {
    pub channel_id: ChannelId,
    pub seq: i64,
    pub change: Change,
}

/// A channel change. Message changes carry the message as it is right after the change, and a
/// change to a thread reply also carries its root (whose reply count and repliers changed
/// with it), so a client applying events ends in the same state as one reading the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    MessageCreated {
        message: Message,
        root: Option<Message>,
    },
    MessageEdited {
        message: Message,
    },
    /// The message changed other than by its author: a file's preview became ready.
    MessageUpdated {
        message: Message,
    },
    MessageDeleted {
        message: Message,
        root: Option<Message>,
    },
    ReactionAdded {
        message: Message,
        emoji: String,
        user_id: UserId,
    },
    ReactionRemoved {
        message: Message,
        emoji: String,
        user_id: UserId,
    },
    MemberJoined {
        user_id: UserId,
    },
    MemberLeft {
        user_id: UserId,
    },
    ChannelUpdated {
        channel: Channel,
    },
}

impl Change {
    /// A reaction added (`present`) or removed, by `user_id`.
    pub fn reaction(present: bool, message: Message, emoji: String, user_id: UserId) -> Self {
        if present {
            Change::ReactionAdded {
                message,
                emoji,
                user_id,
            }
        } else {
            Change::ReactionRemoved {
                message,
                emoji,
                user_id,
            }
        }
    }

    /// The `kind` a client sees on the event frame, and the store records.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::MessageCreated { .. } => "message.created",
            Change::MessageEdited { .. } => "message.edited",
            Change::MessageUpdated { .. } => "message.updated",
            Change::MessageDeleted { .. } => "message.deleted",
            Change::ReactionAdded { .. } => "reaction.added",
            Change::ReactionRemoved { .. } => "reaction.removed",
            Change::MemberJoined { .. } => "member.joined",
            Change::MemberLeft { .. } => "member.left",
            Change::ChannelUpdated { .. } => "channel.updated",
        }
    }

    /// The message this change is about, if any.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Change::MessageCreated { message, .. }
            | Change::MessageEdited { message }
            | Change::MessageUpdated { message }
            | Change::MessageDeleted { message, .. }
            | Change::ReactionAdded { message, .. }
            | Change::ReactionRemoved { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// Events addressed to one user's sockets rather than to a channel's members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEvent {
    /// The user was added to a channel; `seq` is the membership change's sequence number, so a
    /// gateway delivers that channel's changes from there on.
    ChannelAdded {
        channel: Channel,
        seq: i64,
    },
    ChannelRemoved {
        channel_id: ChannelId,
        seq: i64,
    },
    /// The user's read cursor in a channel moved (from any of their devices).
    Read {
        channel_id: ChannelId,
        seq: i64,
    },
    /// The user saved or cleared (empty body) a draft, on any device.
    Draft {
        draft: Draft,
    },
    /// One of the user's uploads changed (its preview became ready) while on no message.
    FileUpdated {
        file: crate::files::FileInfo,
    },
    /// One of the user's sessions was signed out or revoked: the sockets it opened close.
    SessionRevoked {
        session_id: SessionId,
    },
    /// The user read a channel up to `seq` on some device, and its notifications were
    /// withdrawn: every device clears what it shows for it.
    NotificationCleared {
        channel_id: ChannelId,
        seq: i64,
    },
}

/// Everything that travels over the bus. Always shared behind an `Arc`, so the size of the
/// largest variant costs one allocation per publish, never a copy per subscriber.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BusMessage {
    Channel(ChannelEvent),
    User {
        user_id: UserId,
        event: UserEvent,
    },
    /// Ephemeral: never stored, never sequenced.
    Typing {
        channel_id: ChannelId,
        user_id: UserId,
    },
    Presence {
        user_id: UserId,
        status: Presence,
    },
}

/// A user's presence, aggregated over all their sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Presence {
    Online,
    Idle,
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Idle => "idle",
            Presence::Offline => "offline",
        }
    }
}

impl BusMessage {
    pub fn topic(&self) -> Topic {
        match self {
            BusMessage::Channel(ev) => Topic::Channel(ev.channel_id.clone()),
            BusMessage::User { user_id, .. } => Topic::User(user_id.clone()),
            BusMessage::Typing { channel_id, .. } => Topic::Channel(channel_id.clone()),
            BusMessage::Presence { user_id, .. } => Topic::Presence(user_id.clone()),
        }
    }
}

/// A bus topic: one per channel, one per user. Gateways subscribe to the topics their sockets
/// need, once each, however many sockets need them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    Channel(ChannelId),
    User(UserId),
    /// A user's presence changes, for gateways with sockets subscribed to them.
    Presence(UserId),
}

/// Bus messages are shared, never copied, between the subscribers of one process.
pub type SharedBusMessage = Arc<BusMessage>;
