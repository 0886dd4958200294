//! Workspaces, their members and invites.

use confab_core::{
    ChannelId, ErrorCode, Role, Timestamp, UserId, Workspace, WorkspaceId, WorkspaceName,
};
use confab_store::{Committed, JoinedWorkspace, NewInvite, NewWorkspace};

use crate::ChatService;

/// Most members one page lists.
pub const MAX_MEMBERS_PAGE: u32 = 200;
use crate::error::{ChatError, ChatResult};
use crate::secrets::{random_token, token_hash};

pub struct Invite {
    pub code: String,
    pub workspace_id: WorkspaceId,
    pub expires_at: Timestamp,
    pub max_uses: i64,
}

/// Invites last a week and admit up to this many people unless asked otherwise, like Slack's
/// shareable invite links.
const DEFAULT_INVITE_HOURS: i64 = 7 * 24;
const MAX_INVITE_HOURS: i64 = 30 * 24;
const DEFAULT_INVITE_USES: i64 = 100;
const MAX_INVITE_USES: i64 = 10_000;

impl ChatService {
    pub async fn create_workspace(&self, owner: &UserId, name: &str) -> ChatResult<Workspace> {
        let name = WorkspaceName::parse(name)?;
        let committed = self
            .store
            .create_workspace(NewWorkspace {
                id: WorkspaceId::generate(),
                name: name.into_inner(),
                owner: owner.clone(),
                general_channel_id: ChannelId::generate(),
                created_at: Timestamp::now(),
            })
            .await?;
        // The owner is in `#general` now: their open sockets must join it, as for any
        // channel they are added to.
        let general = self
            .store
            .channel(&committed.value.general_channel_id)
            .await?;
        for event in committed.events {
            match (&event.change, &general) {
                (confab_core::Change::MemberJoined { user_id }, Some(general))
                    if user_id == owner =>
                {
                    self.publish_membership(event, owner, Some(general.clone()))
                        .await
                }
                _ => self.publish_events(vec![event]).await,
            }
        }
        Ok(committed.value)
    }

    /// The caller's role, or not-found for workspaces they are not in.
    pub async fn workspace_role(&self, user: &UserId, ws: &WorkspaceId) -> ChatResult<Role> {
        self.store
            .workspace_role(ws, user)
            .await?
            .ok_or_else(|| ChatError::refused(ErrorCode::WorkspaceNotFound, "workspace not found"))
    }

    /// A page of the workspace's members by username (after `after`), for someone in it.
    pub async fn workspace_members(
        &self,
        user: &UserId,
        ws: &WorkspaceId,
        after: &str,
        limit: u32,
    ) -> ChatResult<Vec<(confab_core::User, Role)>> {
        if !(1..=MAX_MEMBERS_PAGE).contains(&limit) {
            return Err(ChatError::refused(
                ErrorCode::InvalidLimit,
                format!("limit must be 1 to {MAX_MEMBERS_PAGE}"),
            ));
        }
        // A page starts after a username, which is never longer.
        if after.chars().count() > 32 {
            return Err(ChatError::refused(
                ErrorCode::InvalidRequest,
                "after must be a username (at most 32 characters)",
            ));
        }
        self.workspace_role(user, ws).await?;
        Ok(self.store.workspace_members(ws, after, limit).await?)
    }

    /// Another user's profile, for someone sharing a workspace with them (or themself);
    /// anyone else is told there is no such user.
    pub async fn user_profile(
        &self,
        caller: &UserId,
        user: &UserId,
    ) -> ChatResult<confab_core::User> {
        let not_found = || ChatError::refused(ErrorCode::UserNotFound, "user not found");
        if caller != user
            && self
                .store
                .users_sharing_workspace(caller, std::slice::from_ref(user))
                .await?
                .is_empty()
        {
            return Err(not_found());
        }
        self.store.user(user).await?.ok_or_else(not_found)
    }

    pub async fn add_workspace_member(
        &self,
        actor: &UserId,
        ws: &WorkspaceId,
        target: &UserId,
        role: Option<&str>,
    ) -> ChatResult<Workspace> {
        let actor_role = self.workspace_role(actor, ws).await?;
        if !actor_role.is_admin() {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only workspace admins can add members",
            ));
        }
        let role = match role {
            None => Role::Member,
            Some(raw) => match Role::parse(raw) {
                Some(Role::Owner) | None => {
                    return Err(ChatError::refused(
                        ErrorCode::InvalidRole,
                        "role must be admin, member or guest",
                    ));
                }
                Some(role) => role,
            },
        };
        if role == Role::Admin && actor_role != Role::Owner {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only the owner can add admins",
            ));
        }
        // Consent: nobody is put in a stranger's workspace (where the stranger would see their
        // presence and could DM them). Added directly are people who already share a
        // workspace with the admin, or anyone by a server administrator; everyone else is
        // invited and accepts. A stranger and an unknown ID get the same answer, so the
        // answer does not tell whether an account exists.
        if !self.store.is_server_admin(actor).await?
            && self
                .store
                .users_sharing_workspace(actor, std::slice::from_ref(target))
                .await?
                .is_empty()
        {
            return Err(ChatError::refused(
                ErrorCode::UserNotFound,
                "no such user among the people you share a workspace with; invite them instead",
            ));
        }
        let committed = self
            .store
            .add_workspace_member(ws, target, role, Timestamp::now())
            .await?;
        Ok(self.announce_joined(target, committed).await)
    }

    /// Offboarding: an admin removes someone from the workspace and from every channel of it
    /// (DMs included: theirs stay readable to the others). Each channel sees a `member.left`,
    /// so their sockets stop receiving at once; their messages remain. Owners cannot be
    /// removed. Safe to repeat: a removal cut short is finished by the next.
    pub async fn remove_workspace_member(
        &self,
        actor: &UserId,
        ws: &WorkspaceId,
        target: &UserId,
    ) -> ChatResult<()> {
        let actor_role = self.workspace_role(actor, ws).await?;
        if !actor_role.is_admin() {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "only workspace admins can remove members",
            ));
        }
        let target_role = self.store.workspace_role(ws, target).await?;
        if target_role == Some(Role::Owner) {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "the workspace's owner cannot be removed",
            ));
        }
        // The workspace first: from then on they can neither join nor be added anywhere in it.
        let was_member = self.store.remove_workspace_member(ws, target).await?;
        let channels = self.store.workspace_channels_of(ws, target).await?;
        if !was_member && channels.is_empty() {
            return Err(ChatError::refused(
                ErrorCode::UserNotFound,
                "user is not in this workspace",
            ));
        }
        for channel in channels {
            self.remove_member(&channel, target).await?;
        }
        Ok(())
    }

    pub async fn create_invite(
        &self,
        actor: &UserId,
        ws: &WorkspaceId,
        max_uses: Option<i64>,
        expires_in_hours: Option<i64>,
    ) -> ChatResult<Invite> {
        self.limit_create(actor)?;
        if self.workspace_role(actor, ws).await? == Role::Guest {
            return Err(ChatError::refused(
                ErrorCode::Forbidden,
                "guests cannot invite",
            ));
        }
        let max_uses = max_uses.unwrap_or(DEFAULT_INVITE_USES);
        let hours = expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
        if !(1..=MAX_INVITE_USES).contains(&max_uses) || !(1..=MAX_INVITE_HOURS).contains(&hours) {
            return Err(ChatError::refused(
                ErrorCode::InvalidRequest,
                format!(
                    "max_uses must be 1 to {MAX_INVITE_USES} and expires_in_hours 1 to {MAX_INVITE_HOURS}"
                ),
            ));
        }
        let code = random_token()?;
        let now = Timestamp::now();
        let expires_at = now.plus_secs(hours * 3600);
        self.store
            .create_invite(NewInvite {
                code_hash: token_hash(&code),
                workspace_id: ws.clone(),
                created_by: actor.clone(),
                created_at: now,
                expires_at,
                max_uses,
            })
            .await?;
        Ok(Invite {
            code,
            workspace_id: ws.clone(),
            expires_at,
            max_uses,
        })
    }

    pub async fn accept_invite(&self, user: &UserId, code: &str) -> ChatResult<Workspace> {
        let committed = self
            .store
            .accept_invite(&token_hash(code), user, Timestamp::now())
            .await?;
        Ok(self.announce_joined(user, committed).await)
    }

    async fn announce_joined(
        &self,
        user: &UserId,
        committed: Committed<JoinedWorkspace>,
    ) -> Workspace {
        let JoinedWorkspace { workspace, general } = committed.value;
        for event in committed.events {
            self.publish_membership(event, user, general.clone()).await;
        }
        workspace
    }
}
