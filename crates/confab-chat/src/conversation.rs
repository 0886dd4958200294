//! Conversations around messages: edits, deletes, reactions, threads, read state, channel
//! updates, typing and presence.

use confab_core::{
    BusMessage, Channel, ChannelId, ChannelKind, ChannelName, ChannelTopic, Emoji, ErrorCode,
    Message, MessageBody, MessageId, Presence, Timestamp, UserEvent, UserId,
};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

/// Most users one presence query or subscription may name.
pub const MAX_PRESENCE_USERS: usize = 500;

impl ChatService {
    /// A message the user can read, with the channel it is in. A message in a channel the
    /// user may not see is "not found"; any other failure (the database away) stays what it
    /// is, so a client retries rather than forgets a message that exists.
    pub(crate) async fn readable_message(
        &self,
        user: &UserId,
        id: &MessageId,
    ) -> ChatResult<(Message, crate::Access)> {
        let not_found = || ChatError::refused(ErrorCode::MessageNotFound, "message not found");
        let message = self.store.message(id).await?.ok_or_else(not_found)?;
        let access = self
            .access(user, &message.channel_id)
            .await
            .map_err(|e| match e.code() {
                ErrorCode::ChannelNotFound => not_found(),
                _ => e,
            })?;
        Ok((message, access))
    }

    /// Edits a message: its author only.
    pub async fn edit_message(
        &self,
        user: &UserId,
        id: &MessageId,
        body: &str,
    ) -> ChatResult<Message> {
        self.limit_change(user)?;
        let (message, access) = self.readable_message(user, id).await?;
        if message.author_id != *user {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only the author can edit a message",
            ));
        }
        if message.deleted {
            return Err(ChatError::refused(
                ErrorCode::MessageDeleted,
                "the message was deleted",
            ));
        }
        let body = MessageBody::parse(body, &self.config.limits)?;
        let parsed = confab_core::mentions::parse_mentions(
            body.as_str(),
            self.config.limits.max_mentions_per_message,
        );
        let mentions = self.resolve_mentions(&access.channel, parsed).await?;
        let event = self
            .store
            .edit_message(id, body.as_str(), &mentions, Timestamp::now())
            .await?;
        let edited = event
            .change
            .message()
            .cloned()
            .ok_or(ChatError::Internal("reading an edit"))?;
        self.publish(BusMessage::Channel(event)).await;
        Ok(edited)
    }

    /// Deletes a message: its author, a workspace admin, or the channel's creator. Deleting a
    /// deleted message changes nothing.
    pub async fn delete_message(&self, user: &UserId, id: &MessageId) -> ChatResult<()> {
        self.limit_change(user)?;
        let (message, access) = self.readable_message(user, id).await?;
        let channel_admin = access.member
            && access.channel.created_by == *user
            && access.channel.kind != ChannelKind::Dm;
        if message.author_id != *user && !access.role.is_admin() && !channel_admin {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only the author or a channel or workspace admin can delete a message",
            ));
        }
        if let Some(event) = self.store.delete_message(id, Timestamp::now()).await? {
            self.publish(BusMessage::Channel(event)).await;
        }
        Ok(())
    }

    /// Adds or removes the user's reaction; idempotent. Only channel members react.
    pub async fn set_reaction(
        &self,
        user: &UserId,
        id: &MessageId,
        emoji: &str,
        present: bool,
    ) -> ChatResult<Message> {
        let emoji = Emoji::parse(emoji)?;
        self.limit_change(user)?;
        let (message, access) = self.readable_message(user, id).await?;
        if !access.member {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "join the channel to react",
            ));
        }
        match self
            .store
            .set_reaction(
                id,
                emoji.as_str(),
                user,
                present,
                self.config.limits.max_reactions_per_message,
                Timestamp::now(),
            )
            .await?
        {
            Some(event) => {
                let changed = event
                    .change
                    .message()
                    .cloned()
                    .ok_or(ChatError::Internal("reading a reaction"))?;
                self.publish(BusMessage::Channel(event)).await;
                Ok(changed)
            }
            None if message.deleted => Err(ChatError::refused(
                ErrorCode::MessageDeleted,
                "the message was deleted",
            )),
            None => Ok(message),
        }
    }

    /// A thread by its root or any of its replies.
    pub async fn thread(
        &self,
        user: &UserId,
        id: &MessageId,
    ) -> ChatResult<(Message, Vec<Message>)> {
        let (message, _) = self.readable_message(user, id).await?;
        let root = message.thread_root_id.clone().unwrap_or(message.id);
        self.store
            .thread(&root)
            .await?
            .ok_or_else(|| ChatError::refused(ErrorCode::MessageNotFound, "message not found"))
    }

    /// Moves the user's read cursor forward and tells all their devices.
    pub async fn mark_read(&self, user: &UserId, channel: &ChannelId, seq: i64) -> ChatResult<i64> {
        if seq < 0 {
            return Err(ChatError::refused(ErrorCode::InvalidSeq, "seq must be ≥ 0"));
        }
        let access = self.access(user, channel).await?;
        if !access.member {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "you are not in this channel",
            ));
        }
        let last_read_seq = self.store.mark_read(channel, user, seq).await?;
        self.publish(BusMessage::User {
            user_id: user.clone(),
            event: UserEvent::Read {
                channel_id: channel.clone(),
                seq: last_read_seq,
            },
        })
        .await;
        self.withdraw_notifications(user, channel, last_read_seq)
            .await;
        Ok(last_read_seq)
    }

    /// Renames a channel or sets its topic: members only, not DMs, not `#general`'s name.
    pub async fn update_channel(
        &self,
        user: &UserId,
        channel_id: &ChannelId,
        name: Option<&str>,
        topic: Option<&str>,
    ) -> ChatResult<Channel> {
        let name = name.map(ChannelName::parse).transpose()?;
        let topic = topic.map(ChannelTopic::parse).transpose()?;
        let access = self.access(user, channel_id).await?;
        if access.channel.kind == ChannelKind::Dm {
            return Err(ChatError::refused(
                ErrorCode::NotAllowedForDm,
                "DMs have no name or topic",
            ));
        }
        if !access.member || access.role == confab_core::Role::Guest {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "join the channel to change it",
            ));
        }
        if name.is_some() && !access.role.is_admin() && access.channel.created_by != *user {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only the creator or an admin can rename a channel",
            ));
        }
        if name.is_none() && topic.is_none() {
            return Ok(access.channel);
        }
        if let Some(name) = &name {
            self.refuse_lookalike(
                &access.channel.workspace_id,
                Some(channel_id),
                name.as_str(),
            )
            .await?;
        }
        let event = self
            .store
            .update_channel(
                channel_id,
                name.as_ref().map(|n| n.as_str()),
                topic.as_ref().map(|t| t.as_str()),
                Timestamp::now(),
            )
            .await?;
        let channel = match &event.change {
            confab_core::Change::ChannelUpdated { channel } => channel.clone(),
            _ => return Err(ChatError::Internal("reading a channel update")),
        };
        self.publish(BusMessage::Channel(event)).await;
        Ok(channel)
    }

    /// Forwards a typing indicator to the channel's other members; at most one per user per
    /// channel per 3 seconds (extra ones are dropped quietly, before any database read, so a
    /// flood costs nothing). Never stored.
    pub async fn typing(&self, user: &UserId, channel: &ChannelId) -> ChatResult<()> {
        if self
            .typing_limiter
            .check(&(user.clone(), channel.clone()))
            .is_err()
        {
            return Ok(());
        }
        if !self.store.is_channel_member(channel, user).await? {
            self.access(user, channel).await?;
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "you are not in this channel",
            ));
        }
        self.publish(BusMessage::Typing {
            channel_id: channel.clone(),
            user_id: user.clone(),
        })
        .await;
        Ok(())
    }

    /// Which of `users` the caller may see the presence of: those sharing a workspace.
    pub async fn presence_visible(
        &self,
        user: &UserId,
        users: &[UserId],
    ) -> ChatResult<Vec<UserId>> {
        if users.len() > MAX_PRESENCE_USERS {
            return Err(ChatError::refused(
                ErrorCode::InvalidRequest,
                format!("at most {MAX_PRESENCE_USERS} users at a time"),
            ));
        }
        self.limit_presence(user)?;
        let mut visible = self.store.users_sharing_workspace(user, users).await?;
        if users.contains(user) && !visible.contains(user) {
            visible.push(user.clone());
        }
        Ok(visible)
    }

    /// Current presence of the given users (those the caller may not see are left out).
    pub async fn presence_of(
        &self,
        user: &UserId,
        users: &[UserId],
    ) -> ChatResult<Vec<(UserId, Presence)>> {
        let visible = self.presence_visible(user, users).await?;
        let statuses = self.presence.status(&visible).await;
        Ok(visible.into_iter().zip(statuses).collect())
    }
}
