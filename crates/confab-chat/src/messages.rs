//! Sending and reading messages. `send_message` is the one code path every send takes, from
//! HTTP and WebSocket alike: rate limit → validate → commit (membership check, next sequence
//! number, idempotency record, in one transaction) → publish → acknowledge.

use std::time::Instant;

use confab_core::mentions::{ParsedMentions, parse_mentions};
use confab_core::{
    BusMessage, Change, Channel, ChannelEvent, ChannelId, ClientMsgId, ErrorCode, Mentions,
    Message, MessageBody, MessageId, Timestamp, UserId,
};
use confab_store::{ChangesPage, NewMessage, SendOutcome, StoreError};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

pub struct SendRequest<'a> {
    pub channel_id: &'a str,
    pub client_msg_id: &'a str,
    pub body: &'a str,
    pub thread_root_id: Option<&'a str>,
    pub file_ids: &'a [String],
}

pub enum HistoryQuery {
    /// The changes feed: every message changed after the cursor.
    Since { cursor: i64, limit: u32 },
    /// History for infinite scroll: messages created before `seq`, newest first.
    Before { seq: i64, limit: u32 },
    /// The page around a message (a permalink, a search result): the one with `seq` if it is
    /// top-level, about half the page before it and the rest after, newest first.
    Around { seq: i64, limit: u32 },
}

/// A history page: newest first; `has_more` says older ones exist, `has_newer` (only around
/// a message) newer ones.
pub struct HistoryPage {
    pub page: ChangesPage,
    pub has_newer: bool,
}

pub const MAX_PAGE: u32 = 200;

impl ChatService {
    pub async fn send_message(
        &self,
        author: &UserId,
        req: SendRequest<'_>,
    ) -> ChatResult<SendOutcome> {
        let started = Instant::now();
        let channel_id = ChannelId::parse(req.channel_id)?;
        let client_msg_id = ClientMsgId::parse(req.client_msg_id)?;
        // A message may be its files alone, as on Slack.
        let body = if !req.file_ids.is_empty() && req.body.trim().is_empty() {
            String::new()
        } else {
            MessageBody::parse(req.body, &self.config.limits)?.into_inner()
        };
        let thread_root_id = req.thread_root_id.map(MessageId::parse).transpose()?;
        if req.file_ids.len() > confab_core::files::MAX_FILES_PER_MESSAGE {
            return Err(ChatError::refused(
                ErrorCode::TooManyFiles,
                format!(
                    "a message carries at most {} files",
                    confab_core::files::MAX_FILES_PER_MESSAGE
                ),
            ));
        }
        if let Err(retry_after) = self.send_limiter.check(author) {
            return Err(ChatError::RateLimited { retry_after });
        }
        let files = self
            .files_for_send(author, &channel_id, req.file_ids)
            .await?;
        let mentions = self
            .send_mentions(author, &channel_id, body.as_str())
            .await?;
        let outcome = self
            .store
            .send_message(NewMessage {
                id: MessageId::generate(),
                channel_id: channel_id.clone(),
                author_id: author.clone(),
                client_msg_id: client_msg_id.into_inner(),
                body,
                thread_root_id,
                mentions,
                ts: Timestamp::now(),
                files,
            })
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // Not a member: say "not found" unless the author could see the channel anyway.
            Err(StoreError::NotMember)
            | Err(StoreError::NotFound(confab_store::Missing::Channel)) => {
                self.access(author, &channel_id).await?;
                return Err(ChatError::refused(
                    ErrorCode::NotInChannel,
                    "join the channel to post in it",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        // A retry republishes too: if the first attempt's process died between commit and
        // publish, this is what gets the message to live sockets. Gateways drop duplicates.
        self.publish(BusMessage::Channel(ChannelEvent {
            channel_id,
            seq: outcome.message.seq,
            change: Change::MessageCreated {
                message: outcome.message.clone(),
                root: outcome.root.clone(),
            },
        }))
        .await;
        if outcome.created {
            metrics::counter!("confab_messages_sent_total").increment(1);
        }
        metrics::histogram!("confab_send_ack_seconds").record(started.elapsed().as_secs_f64());
        Ok(outcome)
    }

    pub async fn history(
        &self,
        user: &UserId,
        channel: &ChannelId,
        query: HistoryQuery,
    ) -> ChatResult<HistoryPage> {
        let limit = match query {
            HistoryQuery::Since { limit, .. }
            | HistoryQuery::Before { limit, .. }
            | HistoryQuery::Around { limit, .. } => limit,
        };
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ChatError::refused(
                ErrorCode::InvalidLimit,
                format!("limit must be 1 to {MAX_PAGE}"),
            ));
        }
        self.access(user, channel).await?;
        match query {
            HistoryQuery::Since { cursor, limit } => {
                if cursor < 0 {
                    return Err(ChatError::refused(
                        ErrorCode::InvalidCursor,
                        "since must be a sequence number ≥ 0",
                    ));
                }
                Ok(HistoryPage {
                    page: self.store.messages_since(channel, cursor, limit).await?,
                    has_newer: false,
                })
            }
            HistoryQuery::Around { seq, limit } => {
                if seq < 1 {
                    return Err(ChatError::refused(
                        ErrorCode::InvalidCursor,
                        "around must be a sequence number ≥ 1",
                    ));
                }
                // Up to half the page newer, then the message itself and older ones for the
                // rest: near the channel's end the page is still full.
                let (mut newer, has_newer) =
                    self.store.messages_after(channel, seq, limit / 2).await?;
                let older = limit - newer.len() as u32;
                let (mut messages, has_more) = self
                    .store
                    .messages_before(channel, seq.saturating_add(1), older)
                    .await?;
                newer.reverse();
                newer.append(&mut messages);
                Ok(HistoryPage {
                    page: ChangesPage {
                        messages: newer,
                        next_cursor: 0,
                        has_more,
                    },
                    has_newer,
                })
            }
            HistoryQuery::Before { seq, limit } => {
                if seq < 1 {
                    return Err(ChatError::refused(
                        ErrorCode::InvalidCursor,
                        "before must be a sequence number ≥ 1",
                    ));
                }
                let (messages, has_more) = self.store.messages_before(channel, seq, limit).await?;
                Ok(HistoryPage {
                    page: ChangesPage {
                        messages,
                        next_cursor: 0,
                        has_more,
                    },
                    has_newer: false,
                })
            }
        }
    }

    /// A channel's changes after `after`, for a gateway filling a hole or catching up. No
    /// authorisation: gateways deliver only to sockets of members.
    pub async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> ChatResult<Vec<ChannelEvent>> {
        Ok(self.store.changes_after(channel, after, limit).await?)
    }

    pub async fn last_seq(&self, channel: &ChannelId) -> ChatResult<i64> {
        self.store
            .channel(channel)
            .await?
            .map(|c| c.last_seq)
            .ok_or_else(|| ChatError::refused(ErrorCode::ChannelNotFound, "channel not found"))
    }

    /// Who a send's body mentions. The author's membership is checked first, so a body full
    /// of names costs an outsider nothing but this one read (the store then refuses the send).
    async fn send_mentions(
        &self,
        author: &UserId,
        channel: &ChannelId,
        body: &str,
    ) -> ChatResult<Mentions> {
        let parsed = parse_mentions(body, self.config.limits.max_mentions_per_message);
        if parsed.is_empty() {
            return Ok(Mentions::default());
        }
        match self.store.channel_access(channel, author).await? {
            Some((c, _, true)) => self.resolve_mentions(&c, parsed).await,
            _ => Ok(Mentions::default()),
        }
    }

    /// Who `parsed` names in `c`: up to `max_mentions_per_message` `@name`s of the
    /// workspace's members, `@here` as the channel's members online now (kept for the store
    /// only), `@channel`/`@everyone` as a flag. The caller has decided the author may write.
    pub(crate) async fn resolve_mentions(
        &self,
        c: &Channel,
        parsed: ParsedMentions,
    ) -> ChatResult<Mentions> {
        let channel = &c.id;
        let mut user_ids = Vec::new();
        if !parsed.usernames.is_empty() {
            user_ids = self
                .store
                .workspace_users_by_name(&c.workspace_id, &parsed.usernames)
                .await?;
        }
        let mut here_ids = Vec::new();
        if parsed.here {
            let members = self.store.channel_member_ids(channel).await?;
            let statuses = self.presence.status(&members).await;
            here_ids = members
                .into_iter()
                .zip(statuses)
                .filter(|(_, status)| *status == confab_core::Presence::Online)
                .map(|(member, _)| member)
                .collect();
        }
        Ok(Mentions {
            user_ids,
            channel: parsed.channel,
            here: parsed.here,
            here_ids,
        })
    }

    pub async fn message(&self, user: &UserId, id: &MessageId) -> ChatResult<Message> {
        Ok(self.readable_message(user, id).await?.0)
    }
}
