//! Channel changes and user-directed events: what the chat service publishes on the bus and
//! what gateways turn into WebSocket frames.

use std::sync::Arc;

use crate::ids::{ChannelId, UserId};
use crate::model::{Channel, Message};

/// One change in a channel, carrying the channel's sequence number it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelEvent {
    pub channel_id: ChannelId,
    pub seq: i64,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    MessageCreated(Message),
    MemberJoined { user_id: UserId },
    MemberLeft { user_id: UserId },
}

impl Change {
    /// The `kind` a client sees on the event frame.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::MessageCreated(_) => "message.created",
            Change::MemberJoined { .. } => "member.joined",
            Change::MemberLeft { .. } => "member.left",
        }
    }
}

/// Events addressed to one user's sockets rather than to a channel's members.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// Everything that travels over the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusMessage {
    Channel(ChannelEvent),
    User { user_id: UserId, event: UserEvent },
}

impl BusMessage {
    pub fn topic(&self) -> Topic {
        match self {
            BusMessage::Channel(ev) => Topic::Channel(ev.channel_id.clone()),
            BusMessage::User { user_id, .. } => Topic::User(user_id.clone()),
        }
    }
}

/// A bus topic: one per channel, one per user. Gateways subscribe to the topics their sockets
/// need, once each, however many sockets need them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Channel(ChannelId),
    User(UserId),
}

/// Bus messages are shared, never copied, between the subscribers of one process.
pub type SharedBusMessage = Arc<BusMessage>;
