//! Drafts synced across a user's devices: saved per channel and thread, announced to the
//! user's sockets as `draft` frames, cleared by the store when the composer's message is sent.

use confab_core::{
    BusMessage, ChannelId, Draft, ErrorCode, MessageBody, MessageId, Timestamp, UserEvent, UserId,
};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

impl ChatService {
    /// Saves a draft; an empty (or blank) body deletes it. Answers the draft as stored (empty
    /// body once deleted).
    pub async fn save_draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&str>,
        body: &str,
    ) -> ChatResult<Draft> {
        let thread_root = thread_root.map(MessageId::parse).transpose()?;
        let body = if body.trim().is_empty() {
            String::new()
        } else {
            MessageBody::parse(body, &self.config.limits)?.into_inner()
        };
        self.limit_change(user)?;
        if body.is_empty() {
            // Deleting needs no composer that could hold a draft: there is nothing to keep.
            self.access(user, channel).await?;
        } else {
            self.draft_composer(user, channel, thread_root.as_ref())
                .await?;
        }
        let draft = Draft {
            channel_id: channel.clone(),
            thread_root_id: thread_root,
            body,
            updated_at: Timestamp::now(),
        };
        if draft.body.is_empty() {
            self.store
                .delete_draft(user, channel, draft.thread_root_id.as_ref())
                .await?;
        } else {
            self.store
                .put_draft(user, &draft, self.config.max_drafts)
                .await?;
        }
        self.publish_draft(user, draft.clone()).await;
        Ok(draft)
    }

    pub async fn draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&str>,
    ) -> ChatResult<Draft> {
        let thread_root = thread_root.map(MessageId::parse).transpose()?;
        self.access(user, channel).await?;
        self.store
            .draft(user, channel, thread_root.as_ref())
            .await?
            .ok_or_else(|| ChatError::refused(ErrorCode::NotFound, "no draft here"))
    }

    /// Deletes a draft (a missing one is not an error: the outcome is the same).
    pub async fn delete_draft(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&str>,
    ) -> ChatResult<()> {
        self.save_draft(user, channel, thread_root, "")
            .await
            .map(drop)
    }

    /// The user's drafts, most recent first.
    pub async fn drafts(&self, user: &UserId) -> ChatResult<Vec<Draft>> {
        Ok(self.store.user_drafts(user, self.config.max_drafts).await?)
    }

    /// The channel must be readable, and a thread's root a top-level message of it.
    async fn draft_composer(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_root: Option<&MessageId>,
    ) -> ChatResult<()> {
        self.access(user, channel).await?;
        if let Some(root) = thread_root {
            let root = self.store.message(root).await?;
            if !root.is_some_and(|m| m.channel_id == *channel && m.thread_root_id.is_none()) {
                return Err(ChatError::refused(
                    ErrorCode::InvalidThreadRoot,
                    "thread_root_id must be a top-level message of this channel",
                ));
            }
        }
        Ok(())
    }

    async fn publish_draft(&self, user: &UserId, draft: Draft) {
        self.publish(BusMessage::User {
            user_id: user.clone(),
            event: UserEvent::Draft { draft },
        })
        .await;
    }
}
