//! Channels: creating, listing, joining, leaving, adding and removing members, and DMs.

use confab_core::{
    Channel, ChannelId, ChannelKind, ChannelName, ChannelTopic, ErrorCode, Role, Timestamp, UserId,
    WorkspaceId,
};
use confab_store::{ChannelView, NewChannel};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

/// Slack's group-DM limit: you and eight others.
const MAX_DM_OTHERS: usize = 8;

/// Public channels one "Browse channels" answer lists at most, by name.
pub const MAX_BROWSE: u32 = 1000;

impl ChatService {
    pub async fn list_channels(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
    ) -> ChatResult<Vec<ChannelView>> {
        let role = self.workspace_role(user, ws).await?;
        Ok(self
            .store
            .list_channels(ws, user, role != Role::Guest)
            .await?)
    }

    /// What "Browse channels" lists: the workspace's public channels the caller is not in,
    /// with member counts (none for guests, who cannot join them).
    pub async fn browse_channels(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
    ) -> ChatResult<Vec<(Channel, i64)>> {
        if self.workspace_role(user, ws).await? == Role::Guest {
            return Ok(Vec::new());
        }
        Ok(self.store.browse_channels(ws, user, MAX_BROWSE).await?)
    }

    pub async fn create_channel(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
        name: &str,
        private: bool,
        topic: Option<&str>,
    ) -> ChatResult<Channel> {
        let name = ChannelName::parse(name)?;
        let topic = topic.map(ChannelTopic::parse).transpose()?;
        self.limit_create(user)?;
        if self.workspace_role(user, ws).await? == Role::Guest {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "guests cannot create channels",
            ));
        }
        self.refuse_lookalike(ws, None, name.as_str()).await?;
        let committed = self
            .store
            .create_channel(NewChannel {
                id: ChannelId::generate(),
                workspace_id: ws.clone(),
                kind: if private {
                    ChannelKind::Private
                } else {
                    ChannelKind::Public
                },
                name: Some(name.into_inner()),
                topic: topic.map(ChannelTopic::into_inner).unwrap_or_default(),
                created_by: user.clone(),
                created_at: Timestamp::now(),
                other_members: Vec::new(),
            })
            .await?;
        let channel = committed.value;
        for event in committed.events {
            self.publish_membership(event, user, Some(channel.clone()))
                .await;
        }
        Ok(channel)
    }

    pub async fn channel(&self, user: &UserId, channel: &ChannelId) -> ChatResult<Channel> {
        Ok(self.access(user, channel).await?.channel)
    }

    /// Joins a public channel. Joining one you are already in changes nothing.
    pub async fn join_channel(&self, user: &UserId, channel_id: &ChannelId) -> ChatResult<Channel> {
        let access = self.access(user, channel_id).await?;
        if access.member {
            return Ok(access.channel);
        }
        // `access` only lets non-members see public channels, and never guests.
        self.add_member(&access.channel, user).await
    }

    pub async fn leave_channel(&self, user: &UserId, channel_id: &ChannelId) -> ChatResult<()> {
        let access = self.access(user, channel_id).await?;
        if access.channel.kind == ChannelKind::Dm {
            return Err(ChatError::refused(
                ErrorCode::CannotLeaveDm,
                "a DM's members are fixed",
            ));
        }
        if !access.member {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "you are not in this channel",
            ));
        }
        self.remove_member(channel_id, user).await
    }

    /// Adds someone to a channel the actor is in. Adding an existing member changes nothing
    /// and returns `false`.
    pub async fn add_channel_member(
        &self,
        actor: &UserId,
        channel_id: &ChannelId,
        target: &UserId,
    ) -> ChatResult<bool> {
        let access = self.access(actor, channel_id).await?;
        if access.channel.kind == ChannelKind::Dm {
            return Err(ChatError::refused(
                ErrorCode::NotAllowedForDm,
                "a DM's members are fixed; open a new DM",
            ));
        }
        if access.role == Role::Guest {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "guests cannot add members",
            ));
        }
        if !access.member && !access.role.is_admin() {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "join the channel before adding people",
            ));
        }
        if self
            .store
            .workspace_role(&access.channel.workspace_id, target)
            .await?
            .is_none()
        {
            return Err(ChatError::refused(
                ErrorCode::UserNotFound,
                "user is not in this workspace",
            ));
        }
        if self.store.is_channel_member(channel_id, target).await? {
            return Ok(false);
        }
        self.add_member(&access.channel, target).await?;
        Ok(true)
    }

    /// Removes someone: yourself, or anyone if you are a workspace admin or the channel's
    /// creator.
    pub async fn remove_channel_member(
        &self,
        actor: &UserId,
        channel_id: &ChannelId,
        target: &UserId,
    ) -> ChatResult<()> {
        if actor == target {
            return self.leave_channel(actor, channel_id).await;
        }
        let access = self.access(actor, channel_id).await?;
        if access.channel.kind == ChannelKind::Dm {
            return Err(ChatError::refused(
                ErrorCode::NotAllowedForDm,
                "a DM's members are fixed",
            ));
        }
        if !(access.role.is_admin() || (access.member && access.channel.created_by == *actor)) {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only workspace admins and the channel's creator can remove members",
            ));
        }
        if !self.store.is_channel_member(channel_id, target).await? {
            return Err(ChatError::refused(
                ErrorCode::NotInChannel,
                "user is not in this channel",
            ));
        }
        self.remove_member(channel_id, target).await
    }

    /// A name that looks like another channel's in the workspace (the same UTS #39
    /// skeleton: `gеneral` with a Cyrillic е beside `general`) is taken, as the same name is.
    pub(crate) async fn refuse_lookalike(
        &self,
        ws: &WorkspaceId,
        renaming: Option<&ChannelId>,
        name: &str,
    ) -> ChatResult<()> {
        let wanted = confab_core::names::skeleton(name);
        let taken = self
            .store
            .channel_names(ws)
            .await?
            .into_iter()
            .find(|(id, other)| {
                Some(id) != renaming && confab_core::names::skeleton(other) == wanted
            });
        match taken {
            Some((_, other)) => Err(ChatError::refused(
                ErrorCode::ChannelNameTaken,
                format!("a channel named like this exists: #{other}"),
            )),
            None => Ok(()),
        }
    }

    /// Opens the DM with exactly these people (the caller included whether listed or not);
    /// the same set always yields the same DM. `true` when it was created now.
    pub async fn open_dm(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
        others: &[UserId],
    ) -> ChatResult<(Channel, bool)> {
        self.limit_create(user)?;
        self.workspace_role(user, ws).await?;
        let mut others: Vec<UserId> = others.iter().filter(|u| *u != user).cloned().collect();
        others.sort();
        others.dedup();
        if others.len() > MAX_DM_OTHERS {
            return Err(ChatError::refused(
                ErrorCode::InvalidMembers,
                format!("a DM has at most {MAX_DM_OTHERS} people besides you"),
            ));
        }
        for other in &others {
            if self.store.workspace_role(ws, other).await?.is_none() {
                return Err(ChatError::refused(
                    ErrorCode::UserNotFound,
                    "user is not in this workspace",
                ));
            }
        }
        let mut members = others.clone();
        members.push(user.clone());
        if let Some(existing) = self.store.find_dm(ws, &members).await? {
            return Ok((existing, false));
        }
        let created = self
            .store
            .create_channel(NewChannel {
                id: ChannelId::generate(),
                workspace_id: ws.clone(),
                kind: ChannelKind::Dm,
                name: None,
                topic: String::new(),
                created_by: user.clone(),
                created_at: Timestamp::now(),
                other_members: others,
            })
            .await;
        let committed = match created {
            Ok(c) => c,
            // Two people opened the same DM at once: the other request created it.
            Err(confab_store::StoreError::ChannelNameTaken) => {
                let existing = self.store.find_dm(ws, &members).await?;
                return existing
                    .map(|c| (c, false))
                    .ok_or(ChatError::Internal("finding a raced dm"));
            }
            Err(e) => return Err(e.into()),
        };
        let channel = committed.value;
        for event in committed.events {
            let member = match &event.change {
                confab_core::Change::MemberJoined { user_id } => user_id.clone(),
                _ => continue,
            };
            self.publish_membership(event, &member, Some(channel.clone()))
                .await;
        }
        Ok((channel, true))
    }

    async fn add_member(&self, channel: &Channel, user: &UserId) -> ChatResult<Channel> {
        let event = self
            .store
            .add_channel_member(&channel.id, user, Timestamp::now())
            .await?;
        let fresh = self
            .store
            .channel(&channel.id)
            .await?
            .unwrap_or_else(|| channel.clone());
        if let Some(event) = event {
            self.publish_membership(event, user, Some(fresh.clone()))
                .await;
        }
        Ok(fresh)
    }

    pub(crate) async fn remove_member(&self, channel: &ChannelId, user: &UserId) -> ChatResult<()> {
        if let Some(event) = self
            .store
            .remove_channel_member(channel, user, Timestamp::now())
            .await?
        {
            self.publish_membership(event, user, None).await;
        }
        Ok(())
    }

    /// Channel IDs the user is a member of, for a gateway to deliver.
    pub async fn user_channel_ids(&self, user: &UserId) -> ChatResult<Vec<ChannelId>> {
        Ok(self.store.user_channel_ids(user).await?)
    }
}
