//! The entities of SPEC §3 as the rest of the server sees them.

use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::limits::{REACTION_USERS_SHOWN, REPLY_USERS_SHOWN};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub created_at: Timestamp,
    /// What the user says they are up to; empty when none.
    pub status_text: String,
    /// When `status_text` stops applying, if it was set to expire.
    pub status_expires_at: Option<Timestamp>,
}

impl User {
    /// The status as of `now`: none once it has expired.
    pub fn status_at(&self, now: Timestamp) -> Option<(&str, Option<Timestamp>)> {
        let live = self.status_expires_at.is_none_or(|at| at > now);
        (live && !self.status_text.is_empty())
            .then_some((self.status_text.as_str(), self.status_expires_at))
    }
}

/// A member's role in a workspace, most powerful first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Guest,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "guest" => Some(Role::Guest),
            _ => None,
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// Text a user typed into a composer and has not sent: the channel's own
/// (`thread_root_id` none) or a thread's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub channel_id: ChannelId,
    pub thread_root_id: Option<MessageId>,
    pub body: String,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: Timestamp,
    /// `#general`: every member of the workspace (guests aside) is in it, as on Slack.
    pub general_channel_id: ChannelId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelKind {
    Public,
    Private,
    Dm,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Dm => "dm",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(ChannelKind::Public),
            "private" => Some(ChannelKind::Private),
            "dm" => Some(ChannelKind::Dm),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    /// `None` for DMs, which are named by their members.
    pub name: Option<String>,
    pub topic: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// The channel's latest sequence number: every change in it takes the next one.
    pub last_seq: i64,
    /// A DM's fixed member set, sorted; empty for other channels.
    pub dm_members: Vec<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// Everyone who reacted with this emoji.
    pub count: i64,
    /// The first [`REACTION_USERS_SHOWN`] of them, in order of reacting.
    pub user_ids: Vec<UserId>,
}

/// Adds one stored reaction (read in order of reacting) to a message's reactions: counted
/// always, named while fewer than [`REACTION_USERS_SHOWN`] are.
pub fn add_reaction(reactions: &mut Vec<Reaction>, emoji: String, user: UserId) {
    match reactions.iter_mut().find(|r| r.emoji == emoji) {
        Some(r) => {
            r.count += 1;
            if r.user_ids.len() < REACTION_USERS_SHOWN {
                r.user_ids.push(user);
            }
        }
        None => reactions.push(Reaction {
            emoji,
            count: 1,
            user_ids: vec![user],
        }),
    }
}

/// Adds a reply's author (read in reply order) to a root's repliers: each once, the first
/// [`REPLY_USERS_SHOWN`] only.
pub fn add_replier(reply_users: &mut Vec<UserId>, author: UserId) {
    if reply_users.len() < REPLY_USERS_SHOWN && !reply_users.contains(&author) {
        reply_users.push(author);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// The change that created the message.
    pub seq: i64,
    /// The latest change to the message; equal to `seq` until it is edited, reacted to or
    /// deleted.
    pub version: i64,
    pub author_id: UserId,
    /// `None` once deleted: a tombstone carries no content.
    pub body: Option<String>,
    pub ts: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    pub thread_root_id: Option<MessageId>,
    /// On a thread root: replies not deleted, when the latest was posted, and who replied
    /// (in order of first reply; the first [`REPLY_USERS_SHOWN`]).
    pub reply_count: i64,
    pub last_reply_at: Option<Timestamp>,
    pub reply_users: Vec<UserId>,
    /// Reactions in order of first use; users in order of reacting.
    pub reactions: Vec<Reaction>,
    pub mentions: Mentions,
    /// Attached files in the order given; none on a tombstone.
    #[serde(default)]
    pub files: Vec<crate::files::FileInfo>,
}

/// Who a message mentions, resolved when it was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mentions {
    /// `@username`s of workspace members (at most `max_mentions_per_message`).
    pub user_ids: Vec<UserId>,
    /// `@channel` or `@everyone`: every member.
    pub channel: bool,
    /// `@here` was used: every member online when it was sent. A client that receives the
    /// message live is online, so it takes `here` as naming itself.
    pub here: bool,
    /// For `@here`, the members online at send time. Written to the store (their mention
    /// counts include the message) but never read back, published or sent: it grows with the
    /// channel, and a frame must not.
    #[serde(skip)]
    pub here_ids: Vec<UserId>,
}
