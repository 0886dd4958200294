//! Registration, login, sessions and WebSocket tickets.

use confab_core::{
    DisplayName, Email, ErrorCode, Password, Role, Timestamp, User, UserId, Username, Workspace,
};
use confab_store::NewUser;

use crate::ChatService;
use crate::error::{ChatError, ChatResult};
use crate::secrets::{hash_password, random_token, token_hash, verify_password};

pub struct Registration<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// A signed-in user and the bearer token that proves it; the token is shown only here.
pub struct Session {
    pub user: User,
    pub token: String,
}

impl ChatService {
    pub async fn register(&self, r: Registration<'_>) -> ChatResult<Session> {
        let username = Username::parse(r.username)?;
        let password = Password::parse(r.password)?;
        let display_name = match r.display_name {
            Some(d) => DisplayName::parse(d)?,
            None => DisplayName::parse(username.as_str())?,
        };
        let email = r.email.map(Email::parse).transpose()?;
        // Refuse a taken name before paying for a hash.
        if self
            .store
            .user_credentials(username.as_str())
            .await?
            .is_some()
        {
            return Err(ChatError::refused(
                ErrorCode::UsernameTaken,
                "username is taken",
            ));
        }
        let password_hash = hash_password(password.expose().to_owned()).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: UserId::generate(),
                username: username.into_inner(),
                display_name: display_name.into_inner(),
                email: email.map(Email::into_inner),
                password_hash,
                created_at: Timestamp::now(),
            })
            .await?;
        self.start_session(user).await
    }

    pub async fn login(&self, username: &str, password: &str) -> ChatResult<Session> {
        let bad = || {
            ChatError::refused(
                ErrorCode::InvalidCredentials,
                "invalid username or password",
            )
        };
        let (Ok(username), Ok(password)) = (Username::parse(username), Password::parse(password))
        else {
            return Err(bad());
        };
        let found = self.store.user_credentials(username.as_str()).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        match (
            verify_password(password.expose().to_owned(), hash).await?,
            user,
        ) {
            (true, Some(user)) => self.start_session(user).await,
            _ => Err(bad()),
        }
    }

    async fn start_session(&self, user: User) -> ChatResult<Session> {
        let token = random_token()?;
        self.store
            .create_session(&token_hash(&token), &user.id, Timestamp::now())
            .await?;
        Ok(Session { user, token })
    }

    pub async fn logout(&self, token: &str) -> ChatResult<()> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }

    /// The user a bearer token belongs to.
    pub async fn authenticate(&self, token: &str) -> ChatResult<UserId> {
        self.store
            .session_user(&token_hash(token))
            .await?
            .ok_or_else(|| {
                ChatError::refused(ErrorCode::Unauthorized, "missing, invalid or revoked token")
            })
    }

    /// A single-use ticket a browser passes as `?ticket=` when opening its WebSocket.
    pub async fn issue_ticket(&self, user: &UserId) -> ChatResult<(String, Timestamp)> {
        let ticket = random_token()?;
        let ttl = i64::try_from(self.config.ticket_ttl.as_secs()).unwrap_or(30);
        let expires_at = Timestamp::now().plus_secs(ttl);
        self.store
            .create_ticket(&token_hash(&ticket), user, expires_at)
            .await?;
        Ok((ticket, expires_at))
    }

    pub async fn redeem_ticket(&self, ticket: &str) -> ChatResult<UserId> {
        self.store
            .redeem_ticket(&token_hash(ticket), Timestamp::now())
            .await?
            .ok_or_else(|| {
                ChatError::refused(
                    ErrorCode::Unauthorized,
                    "ticket is invalid, used or expired",
                )
            })
    }

    pub async fn me(&self, user: &UserId) -> ChatResult<(User, Vec<(Workspace, Role)>)> {
        let me =
            self.store.user(user).await?.ok_or_else(|| {
                ChatError::refused(ErrorCode::Unauthorized, "user no longer exists")
            })?;
        Ok((me, self.store.user_workspaces(user).await?))
    }
}
