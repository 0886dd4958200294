//! The gateway's view of the chat service when both run in one process.

use std::sync::Arc;

use async_trait::async_trait;
use confab_chat::{ChatError, ChatService, SendRequest};
use confab_core::{ChannelEvent, ChannelId, SessionId, UserId};
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

/// Runs a write on a task of its own and waits for it. Its caller may be dropped meanwhile
/// (the socket closed with the send in flight; on a chat service, the gateway that made the
/// call gone): the write still runs to the end, so what it committed is also published.
async fn to_completion<T: Send + 'static>(
    write: impl Future<Output = Result<T, ChatError>> + Send + 'static,
) -> Result<T, BackendError> {
    match tokio::spawn(write).await {
        Ok(result) => result.map_err(backend_error),
        // The runtime is stopping: the client retries elsewhere.
        Err(e) if e.is_cancelled() => Err(BackendError {
            code: confab_core::ErrorCode::Unavailable,
            message: "shutting down; retry".into(),
            retry_after: Some(std::time::Duration::from_secs(1)),
        }),
        Err(_) => Err(backend_error(ChatError::Internal("running a write"))),
    }
}

#[async_trait]
impl ChatBackend for LocalBackend {
    async fn authenticate(&self, token: &str) -> Result<(UserId, SessionId), BackendError> {
        let caller = self.0.authenticate(token).await.map_err(backend_error)?;
        Ok((caller.user, caller.session))
    }

    async fn redeem_ticket(&self, ticket: &str) -> Result<(UserId, SessionId), BackendError> {
        let caller = self.0.redeem_ticket(ticket).await.map_err(backend_error)?;
        Ok((caller.user, caller.session))
    }

    async fn session_live(&self, session: &SessionId) -> Result<bool, BackendError> {
        self.0.session_live(session).await.map_err(backend_error)
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
        let (chat, user) = (self.0.clone(), user.clone());
        let outcome = to_completion(async move {
            chat.send_message(
                &user,
                SendRequest {
                    channel_id: &cmd.channel_id,
                    client_msg_id: &cmd.client_msg_id,
                    body: &cmd.body,
                    thread_root_id: cmd.thread_root_id.as_deref(),
                    file_ids: &cmd.file_ids,
                },
            )
            .await
        })
        .await?;
        Ok(SendAck {
            message_id: outcome.message.id.to_string(),
            seq: outcome.message.seq,
            ts: outcome.message.ts.to_rfc3339(),
        })
    }

    async fn typing(&self, user: &UserId, channel_id: &str) -> Result<(), BackendError> {
        let channel = ChannelId::parse(channel_id).map_err(|e| backend_error(e.into()))?;
        let (chat, user) = (self.0.clone(), user.clone());
        to_completion(async move { chat.typing(&user, &channel).await }).await
    }

    async fn mark_read(
        &self,
        user: &UserId,
        channel_id: &str,
        seq: i64,
    ) -> Result<i64, BackendError> {
        let channel = ChannelId::parse(channel_id).map_err(|e| backend_error(e.into()))?;
        let (chat, user) = (self.0.clone(), user.clone());
        to_completion(async move { chat.mark_read(&user, &channel, seq).await }).await
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
