//! WebSocket frames (SPEC §5): JSON text frames tagged by `type`. See `docs/protocol.md`.

use serde::{Deserialize, Serialize};

use crate::{ChannelWire, MessageWire};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Send {
        channel_id: String,
        client_msg_id: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_root_id: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        file_ids: Vec<String>,
    },
    Typing {
        channel_id: String,
    },
    Read {
        channel_id: String,
        seq: i64,
    },
    Presence {
        status: String,
    },
    PresenceSubscribe {
        user_ids: Vec<String>,
    },
    /// An application-level heartbeat, answered at once with `pong` carrying the same `id`.
    /// Browsers cannot see WebSocket pings, so this is how a page learns its socket is dead.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "hello")]
    Hello {
        user_id: String,
        session_id: String,
        heartbeat_ms: u64,
    },
    #[serde(rename = "ack")]
    Ack {
        client_msg_id: String,
        message_id: String,
        seq: i64,
        ts: String,
    },
    #[serde(rename = "error")]
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        code: String,
        message: String,
    },
    #[serde(rename = "event")]
    Event(Box<EventFrame>),

    #[serde(rename = "channel.added")]
    ChannelAdded { channel: ChannelWire },
    #[serde(rename = "channel.removed")]
    ChannelRemoved { channel_id: String },
    #[serde(rename = "typing")]
    Typing { channel_id: String, user_id: String },
    #[serde(rename = "presence")]
    Presence { user_id: String, status: String },
    /// The user's own read cursor moved, from any device.
    #[serde(rename = "read")]
    Read { channel_id: String, seq: i64 },
    /// The user saved or cleared (empty `body`) a draft, on any device.
    #[serde(rename = "draft")]
    Draft { draft: crate::drafts::DraftWire },
    /// One of the user's uploads changed (its preview became ready) before any message
    /// carried it; once a message does, the message changes instead (`message.updated`).
    #[serde(rename = "file.updated")]
    FileUpdated { file: crate::files::FileWire },
    /// The user read the channel up to `seq` on some device and its notifications were
    /// withdrawn: clear what this device shows for it.
    #[serde(rename = "notification.cleared")]
    NotificationCleared { channel_id: String, seq: i64 },
    /// The answer to a client `ping`, echoing its `id`.
    #[serde(rename = "pong")]
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// One channel change: `kind` names it and the matching fields carry the changed objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFrame {
    pub channel_id: String,
    pub seq: i64,
    pub kind: String,
    /// `message.*` and `reaction.*`: the message as it is after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageWire>,
    /// A thread reply created or deleted: its root, whose reply count changed with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<MessageWire>,
    /// `reaction.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// `member.*` and `reaction.*`: who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `channel.updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelWire>,
}

impl EventFrame {
    pub fn from_event(ev: &confab_core::ChannelEvent) -> Self {
        use confab_core::Change;
        let mut frame = Self {
            channel_id: ev.channel_id.to_string(),
            seq: ev.seq,
            kind: ev.change.kind().to_owned(),
            message: ev.change.message().map(MessageWire::from),
            root: None,
            emoji: None,
            user_id: None,
            channel: None,
        };
        match &ev.change {
            Change::MessageCreated { root, .. } | Change::MessageDeleted { root, .. } => {
                frame.root = root.as_ref().map(MessageWire::from);
            }
            Change::ReactionAdded { emoji, user_id, .. }
            | Change::ReactionRemoved { emoji, user_id, .. } => {
                frame.emoji = Some(emoji.clone());
                frame.user_id = Some(user_id.to_string());
            }
            Change::MemberJoined { user_id } | Change::MemberLeft { user_id } => {
                frame.user_id = Some(user_id.to_string());
            }
            Change::ChannelUpdated { channel } => frame.channel = Some(ChannelWire::from(channel)),
            Change::MessageEdited { .. } | Change::MessageUpdated { .. } => {}
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_and_refuse_unknown_fields() {
        let send: ClientFrame = serde_json::from_str(
            r#"{"type":"send","channel_id":"c","client_msg_id":"m","body":"hi"}"#,
        )
        .expect("valid send");
        assert!(matches!(send, ClientFrame::Send { ref body, .. } if body == "hi"));
        assert!(
            serde_json::from_str::<ClientFrame>(
                r#"{"type":"send","channel_id":"c","client_msg_id":"m","body":"hi","x":1}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
    }

    #[test]
    fn server_frames_have_the_documented_tags() {
        let json = serde_json::to_value(ServerFrame::ChannelRemoved {
            channel_id: "c".into(),
        })
        .unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"type": "channel.removed", "channel_id": "c"})
        );
        let json = serde_json::to_value(ServerFrame::Ack {
            client_msg_id: "m".into(),
            message_id: "id".into(),
            seq: 3,
            ts: "t".into(),
        })
        .unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"type": "ack", "client_msg_id": "m", "message_id": "id", "seq": 3, "ts": "t"})
        );
    }
}
