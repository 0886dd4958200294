//! The gateway's view of the chat service when both run in one process.

use std::sync::Arc;

use async_trait::async_trait;
use confab_chat::{ChatError, ChatService, SendRequest};
use confab_core::{ChannelEvent, ChannelId, UserId};
use confab_gateway::{BackendError, ChatBackend, SendAck, SendCommand};

pub struct LocalBackend(pub Arc<ChatService>);

fn backend_error(err: ChatError) -> BackendError {
    err.log("websocket");
    BackendError {
        code: err.code(),
        message: err.public_message(),
        retry_after: err.retry_after(),
    }
}

#[async_trait]
impl ChatBackend for LocalBackend {
    async fn authenticate(&self, token: &str) -> Result<UserId, BackendError> {
        self.0.authenticate(token).await.map_err(backend_error)
    }

    async fn redeem_ticket(&self, ticket: &str) -> Result<UserId, BackendError> {
        self.0.redeem_ticket(ticket).await.map_err(backend_error)
    }

    async fn user_channel_ids(&self, user: &UserId) -> Result<Vec<ChannelId>, BackendError> {
        self.0.user_channel_ids(user).await.map_err(backend_error)
    }

    async fn last_seq(&self, channel: &ChannelId) -> Result<i64, BackendError> {
        self.0.last_seq(channel).await.map_err(backend_error)
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChannelEvent>, BackendError> {
        self.0
            .changes_after(channel, after, limit)
            .await
            .map_err(backend_error)
    }

    async fn send(&self, user: &UserId, cmd: SendCommand) -> Result<SendAck, BackendError> {
        let outcome = self
            .0
            .send_message(
                user,
                SendRequest {
                    channel_id: &cmd.channel_id,
                    client_msg_id: &cmd.client_msg_id,
                    body: &cmd.body,
                    thread_root_id: cmd.thread_root_id.as_deref(),
                    file_ids: &cmd.file_ids,
                },
            )
            .await
            .map_err(backend_error)?;
        Ok(SendAck {
            message_id: outcome.message.id.to_string(),
            seq: outcome.message.seq,
            ts: outcome.message.ts.to_rfc3339(),
        })
    }

    async fn typing(&self, user: &UserId, channel_id: &str) -> Result<(), BackendError> {
        let channel = ChannelId::parse(channel_id).map_err(|e| backend_error(e.into()))?;
        self.0.typing(user, &channel).await.map_err(backend_error)
    }

    async fn mark_read(
        &self,
        user: &UserId,
        channel_id: &str,
        seq: i64,
    ) -> Result<i64, BackendError> {
        let channel = ChannelId::parse(channel_id).map_err(|e| backend_error(e.into()))?;
        self.0
            .mark_read(user, &channel, seq)
            .await
            .map_err(backend_error)
    }

    async fn presence_visible(
        &self,
        user: &UserId,
        users: &[UserId],
    ) -> Result<Vec<UserId>, BackendError> {
        self.0
            .presence_visible(user, users)
            .await
            .map_err(backend_error)
    }
}
