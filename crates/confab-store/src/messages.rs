//! Messages and the changes feed: sends, edits, deletes, reactions, threads, and the reads a
//! client and a gateway catch up with.

use async_trait::async_trait;
use confab_core::{
    ChannelEvent, ChannelId, FileId, Mentions, Message, MessageId, Timestamp, UserId,
};

use crate::StoreResult;

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
    /// Complete uploads of the author in the channel's workspace, attached in this order in
    /// the send's transaction.
    pub files: Vec<FileId>,
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
            // Attaching fills these in (only sends with files, which take the slow path).
            files: Vec::new(),
            // As a read gives it back: who `@here` reached is the store's alone.
            mentions: Mentions {
                here_ids: Vec::new(),
                ..self.mentions.clone()
            },
        }
    }
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

/// One page of the changes feed.
#[derive(Debug, Clone)]
pub struct ChangesPage {
    pub messages: Vec<Message>,
    pub next_cursor: i64,
    pub has_more: bool,
}

/// Messages and every read of a channel's history. Each backend implements it in its own `messages.rs`: the hot paths differ by dialect.
#[async_trait]
pub trait MessageStore: Send + Sync {
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
    /// The oldest `limit` top-level messages with `seq > after`, oldest first, and whether
    /// newer exist: the other half of a page around a message.
    async fn messages_after(
        &self,
        channel: &ChannelId,
        after: i64,
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
}
