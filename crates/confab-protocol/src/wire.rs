//! The shared objects: users, workspaces, channels, messages.

use confab_core::{Channel, Message, Role, User, Workspace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserWire {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// What they say they are up to, while it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// When `status_text` stops applying, if it was set to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_expires_at: Option<String>,
}

impl UserWire {
    /// Another user as seen by a peer: no email.
    pub fn public(u: &User) -> Self {
        Self {
            email: None,
            ..Self::own(u)
        }
    }
    /// The caller's own account.
    pub fn own(u: &User) -> Self {
        let status = u.status_at(confab_core::Timestamp::now());
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            status_text: status.map(|(text, _)| text.to_owned()),
            status_expires_at: status.and_then(|(_, at)| at).map(|at| at.to_rfc3339()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceWire {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub general_channel_id: String,
    /// The caller's role, where the answer is about the caller's workspaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl WorkspaceWire {
    pub fn new(w: &Workspace, role: Option<Role>) -> Self {
        Self {
            id: w.id.to_string(),
            name: w.name.clone(),
            created_at: w.created_at.to_rfc3339(),
            general_channel_id: w.general_channel_id.to_string(),
            role: role.map(|r| r.as_str().to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelWire {
    pub id: String,
    pub workspace_id: String,
    /// `public`, `private` or `dm`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub topic: String,
    pub created_by: String,
    pub created_at: String,
    pub last_seq: i64,
    /// A DM's members; absent for other channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

impl From<&Channel> for ChannelWire {
    fn from(c: &Channel) -> Self {
        Self {
            id: c.id.to_string(),
            workspace_id: c.workspace_id.to_string(),
            kind: c.kind.as_str().to_owned(),
            name: c.name.clone(),
            topic: c.topic.clone(),
            created_by: c.created_by.to_string(),
            created_at: c.created_at.to_rfc3339(),
            last_seq: c.last_seq,
            members: c.dm_members.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReactionWire {
    pub emoji: String,
    /// Everyone who reacted with this emoji.
    pub count: i64,
    /// The first 20 of them, in order of reacting.
    pub user_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageWire {
    pub id: String,
    pub channel_id: String,
    /// The channel change that created the message.
    pub seq: i64,
    /// The latest channel change to the message.
    pub version: i64,
    pub author_id: String,
    /// Absent on a deleted message (a tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_root_id: Option<String>,
    pub reply_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply_at: Option<String>,
    /// Who replied in the thread, in order of first reply: the first 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_users: Vec<String>,
    pub reactions: Vec<ReactionWire>,
    pub files: Vec<crate::files::FileWire>,
    pub mentions: MentionsWire,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MentionsWire {
    /// Users mentioned by `@name` (at most `max_mentions_per_message`).
    pub user_ids: Vec<String>,
    /// `@channel` or `@everyone`: every member.
    pub channel: bool,
    /// `@here`: every member online when it was sent. A client receiving it live is online,
    /// so it takes this as naming itself; the server counts it in `mention_count` for those
    /// who were online.
    pub here: bool,
}

impl From<&Message> for MessageWire {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            channel_id: m.channel_id.to_string(),
            seq: m.seq,
            version: m.version,
            author_id: m.author_id.to_string(),
            body: if m.deleted { None } else { m.body.clone() },
            ts: m.ts.to_rfc3339(),
            edited_at: m.edited_at.map(|t| t.to_rfc3339()),
            deleted: m.deleted,
            thread_root_id: m.thread_root_id.as_ref().map(ToString::to_string),
            reply_count: m.reply_count,
            last_reply_at: m.last_reply_at.map(|t| t.to_rfc3339()),
            reply_users: m.reply_users.iter().map(ToString::to_string).collect(),
            mentions: MentionsWire {
                user_ids: m
                    .mentions
                    .user_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                channel: m.mentions.channel,
                here: m.mentions.here,
            },

            reactions: m
                .reactions
                .iter()
                .map(|r| ReactionWire {
                    emoji: r.emoji.clone(),
                    count: r.count,
                    user_ids: r.user_ids.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            files: m.files.iter().map(crate::files::FileWire::from).collect(),
        }
    }
}
