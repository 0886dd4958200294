//! The system of record. [`Store`] is the one interface the chat service writes and reads
//! through; each backend (SQLite, PostgreSQL) implements it and passes the same
//! behaviour suite ([`testsuite`]). SQL lives in this crate and nowhere else.
//!
//! Every change in a channel takes the channel's next sequence number in the same transaction
//! that stores the change, and is recorded in the channel's change log, so the changes feed,
//! the gateways' hole-filling and reconnect catch-up all read one ordered history.

mod changes;
mod error;
mod feed;
pub mod postgres;
mod roster;
mod rows;
mod send_queue;
mod sessions;
pub mod sqlite;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use async_trait::async_trait;
use confab_core::{
    Channel, ChannelEvent, ChannelId, ChannelKind, Mentions, Message, MessageId, Role, SessionId,
    Timestamp, User, UserId, Workspace, WorkspaceId,
};

pub use error::StoreError;
pub use sessions::{NewSession, SessionInfo, SessionLifetime};

pub type StoreResult<T> = Result<T, StoreError>;

pub struct NewUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub created_at: Timestamp,
}

pub struct NewWorkspace {
    pub id: WorkspaceId,
    pub name: String,
    pub owner: UserId,
    pub general_channel_id: ChannelId,
    pub created_at: Timestamp,
}

pub struct NewChannel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub topic: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// Members besides the creator, joined in the same transaction (DMs).
    pub other_members: Vec<UserId>,
}

#[derive(Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub author_id: UserId,
    pub client_msg_id: String,
    pub body: String,
    pub thread_root_id: Option<MessageId>,
    pub mentions: Mentions,
    pub ts: Timestamp,
}

impl NewMessage {
    /// The message exactly as storing it with `seq` (in the thread of `thread_root_id`)
    /// leaves it: no reactions, replies or edits yet. Backends build it rather than read it
    /// back, which would cost statements on every send.
    pub fn stored(&self, seq: i64, thread_root_id: Option<MessageId>) -> Message {
        Message {
            id: self.id.clone(),
            channel_id: self.channel_id.clone(),
            seq,
            version: seq,
            author_id: self.author_id.clone(),
            body: Some(self.body.clone()),
            ts: self.ts,
            edited_at: None,
            deleted: false,
            thread_root_id,
            reply_count: 0,
            last_reply_at: None,
            reply_users: Vec::new(),
            reactions: Vec::new(),
            // As a read gives it back: who `@here` reached is the store's alone.
            mentions: Mentions {
                here_ids: Vec::new(),
                ..self.mentions.clone()
            },
        }
    }
}

pub struct NewInvite {
    pub code_hash: Vec<u8>,
    pub workspace_id: WorkspaceId,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub max_uses: i64,
}

/// A change committed by a write, with the events it produced for the bus.
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<ChannelEvent>,
}

/// A send's outcome: the stored message, and whether this call created it or found the
/// original of a retried `(author, client_msg_id)`.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub message: Message,
    /// For a thread reply, its root as changed by it.
    pub root: Option<Message>,
    pub created: bool,
}

/// A channel as one user sees it in the channel list.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub channel: Channel,
    pub is_member: bool,
    pub last_read_seq: i64,
    pub unread_count: i64,
    pub mention_count: i64,
}

/// One page of the changes feed.
#[derive(Debug, Clone)]
pub struct ChangesPage {
    pub messages: Vec<Message>,
    pub next_cursor: i64,
    pub has_more: bool,
}

/// What a newly added workspace member joined, for the bus.
#[derive(Debug)]
pub struct JoinedWorkspace {
    pub workspace: Workspace,
    /// `#general`, unless the new member is a guest.
    pub general: Option<Channel>,
}

/// Accounts' credentials and sessions: sign-in, devices, tickets, password resets, server
/// administrators. Both backends implement it from one text (`sessions::session_methods!`).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Signs a device in (and sweeps the user's expired sessions).
    async fn create_session(&self, session: NewSession, life: SessionLifetime) -> StoreResult<()>;
    /// The user and session a token names, if the session is live; marks it used now (at
    /// most once a minute), which moves its idle expiry and never its absolute one.
    async fn session(
        &self,
        token_hash: &[u8],
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Option<(UserId, SessionId)>>;
    /// Signs the token's session out; which session that was, if any.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionId>>;
    /// The user's live sessions, most recently used first.
    async fn user_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Vec<SessionInfo>>;
    /// Revokes the user's session `session` (or, with `others`, every session but it); the
    /// IDs revoked.
    async fn revoke_sessions(
        &self,
        user: &UserId,
        session: &SessionId,
        others: bool,
    ) -> StoreResult<Vec<SessionId>>;
    async fn create_ticket(
        &self,
        ticket_hash: &[u8],
        user: &UserId,
        session: &SessionId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Consumes a ticket: a second redemption, one after expiry, or one whose session is no
    /// longer live finds nothing.
    async fn redeem_ticket(
        &self,
        ticket_hash: &[u8],
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Option<(UserId, SessionId)>>;
    /// Replaces a user's password hash.
    async fn set_password(&self, user: &UserId, password_hash: &str) -> StoreResult<()>;
    /// Signs every session of the user's out; the IDs.
    async fn revoke_all_sessions(&self, user: &UserId) -> StoreResult<Vec<SessionId>>;
    /// Records a one-time password reset for the user, valid until `expires_at`.
    async fn create_password_reset(
        &self,
        token_hash: &[u8],
        user: &UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Consumes a password reset: the user it was for, unless used before or expired.
    async fn redeem_password_reset(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> StoreResult<Option<UserId>>;
    /// Whether a session is live (not signed out, not expired).
    async fn session_live(
        &self,
        session: &SessionId,
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<bool>;
    /// Makes `user` a server administrator if it is the server's only account (the first).
    async fn first_user_admin(&self, user: &UserId) -> StoreResult<()>;
    /// Whether `user` administers the server (and is not deactivated).
    async fn is_server_admin(&self, user: &UserId) -> StoreResult<bool>;
    async fn set_server_admin(&self, user: &UserId, admin: bool) -> StoreResult<()>;
    /// Deactivates an account server-wide (it can no longer sign in) and signs all its
    /// sessions out: their IDs, or `None` if it was deactivated already.
    async fn deactivate_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<Vec<SessionId>>>;
    /// Remembers a device the user signed in from, until `expires_at`.
    async fn remember_device(
        &self,
        token_hash: &[u8],
        user: &UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Whether the user signed in from this device before (and it is still remembered).
    async fn device_known(
        &self,
        token_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// How many accounts the server has (deactivated ones included).
    async fn user_count(&self) -> StoreResult<i64>;
    /// Whether an invite could be accepted now (exists, unexpired, uses left).
    async fn invite_usable(&self, code_hash: &[u8], now: Timestamp) -> StoreResult<bool>;
}

/// Who is where in a workspace, as offboarding and channel naming need it. Both backends
/// implement it from one text (`roster::roster_methods!`).
#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Ends a workspace membership (not the channel memberships: those are changes of their
    /// own); whether there was one.
    async fn remove_workspace_member(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<bool>;
    /// Every channel of the workspace the user is in, DMs included.
    async fn workspace_channels_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> StoreResult<Vec<ChannelId>>;
    /// The names of every named (non-DM) channel of the workspace, whoever is in them.
    async fn channel_names(&self, ws: &WorkspaceId) -> StoreResult<Vec<(ChannelId, String)>>;
}

#[async_trait]
pub trait Store: SessionStore + RosterStore + Send + Sync + 'static {
    // Accounts.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// The user and their password hash, for login; a deactivated account has none.
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;

    // Workspaces.
    /// Creates the workspace, makes `owner` its owner, and creates `#general` with the owner in
    /// it, in one transaction.
    async fn create_workspace(&self, ws: NewWorkspace) -> StoreResult<Committed<Workspace>>;
    async fn workspace(&self, id: &WorkspaceId) -> StoreResult<Option<Workspace>>;
    async fn workspace_role(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<Option<Role>>;
    async fn user_workspaces(&self, user: &UserId) -> StoreResult<Vec<(Workspace, Role)>>;
    /// Adds a member (non-guests also join `#general`). `AlreadyMember` if they are one.
    async fn add_workspace_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        role: Role,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>>;
    async fn create_invite(&self, invite: NewInvite) -> StoreResult<()>;
    /// Uses one use of an invite and adds the user as a member, atomically.
    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>>;

    // Channels.
    /// Creates a channel with its creator (and `other_members`) in it.
    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Committed<Channel>>;
    /// The DM with exactly this member set, if it exists.
    async fn find_dm(&self, ws: &WorkspaceId, members: &[UserId]) -> StoreResult<Option<Channel>>;
    async fn channel(&self, id: &ChannelId) -> StoreResult<Option<Channel>>;
    async fn is_channel_member(&self, channel: &ChannelId, user: &UserId) -> StoreResult<bool>;
    /// A channel with the user's role in its workspace (if any) and whether they are a member:
    /// everything an access decision needs, in one read.
    async fn channel_access(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> StoreResult<Option<(Channel, Option<Role>, bool)>>;

    /// Public channels of the workspace (when `include_public`) and every channel the user is
    /// in, by name.
    async fn list_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelView>>;
    /// Every channel the user is in, across workspaces: what a gateway subscribes a socket to.
    async fn user_channel_ids(&self, user: &UserId) -> StoreResult<Vec<ChannelId>>;
    /// Adds a member; `None` when they already are one (nothing changes).
    async fn add_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// Removes a member; `None` when they were not one.
    async fn remove_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;

    // Messages.
    /// The one write every send takes: in one transaction, check the author is a member, take
    /// the channel's next sequence number, store the message and its `(author,
    /// client_msg_id)`. A retry returns the original message with `created: false`.
    async fn send_message(&self, msg: NewMessage) -> StoreResult<SendOutcome>;
    /// Messages changed after `cursor`, by `version`, in their current state.
    async fn messages_since(
        &self,
        channel: &ChannelId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage>;
    /// The newest `limit` messages with `seq < before`, newest first, and whether older exist.
    async fn messages_before(
        &self,
        channel: &ChannelId,
        before: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)>;
    /// The channel's changes with `seq > after`, in order, as events; message changes carry the
    /// message in its current state. This is how a gateway fills a hole.
    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChannelEvent>>;
    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>>;
    /// Replaces a live message's body (and the mentions found in it) as a change.
    async fn edit_message(
        &self,
        id: &MessageId,
        body: &str,
        mentions: &Mentions,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent>;
    /// Soft-deletes: body, mentions and reactions go; a tombstone stays. `None` if it already
    /// was deleted. A deleted reply leaves its thread (the root changes with it).
    async fn delete_message(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// Adds (`present`) or removes one user's reaction; `None` when it already was so. A new
    /// emoji on a message that has `max_distinct` already is `TooManyReactions`.
    async fn set_reaction(
        &self,
        id: &MessageId,
        emoji: &str,
        user: &UserId,
        present: bool,
        max_distinct: usize,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>>;
    /// A thread: its root and live replies in order.
    async fn thread(&self, root: &MessageId) -> StoreResult<Option<(Message, Vec<Message>)>>;
    /// Moves a member's read cursor forward (never back, never past the channel's end) and
    /// returns where it is. `NotMember` for non-members.
    async fn mark_read(&self, channel: &ChannelId, user: &UserId, seq: i64) -> StoreResult<i64>;
    /// Renames a channel or sets its topic, as a change.
    async fn update_channel(
        &self,
        channel: &ChannelId,
        name: Option<&str>,
        topic: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent>;
    /// IDs of the workspace's members with these (lowercase) usernames, in the given order.
    async fn workspace_users_by_name(
        &self,
        ws: &WorkspaceId,
        usernames: &[String],
    ) -> StoreResult<Vec<UserId>>;
    async fn channel_member_ids(&self, channel: &ChannelId) -> StoreResult<Vec<UserId>>;
    /// Which of `others` share a workspace with `user`.
    async fn users_sharing_workspace(
        &self,
        user: &UserId,
        others: &[UserId],
    ) -> StoreResult<Vec<UserId>>;
}
