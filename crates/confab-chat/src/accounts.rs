//! Registration, login, sessions and WebSocket tickets.

use confab_core::{
    BusMessage, DisplayName, Email, ErrorCode, Password, Role, SessionId, Timestamp, User,
    UserEvent, UserId, Username, Workspace,
};
use std::collections::HashMap;

use confab_store::{NewSession, NewUser, SessionInfo};

use crate::ChatService;
use crate::error::{ChatError, ChatResult};
use crate::secrets::{hash_password, random_token, token_hash, verify_password};

pub struct Registration<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// A workspace invite, accepted once the account exists (required with `invite`).
    pub invite_code: Option<&'a str>,
}

/// A signed-in user and the bearer token that proves it; the token is shown only here.
pub struct Session {
    pub user: User,
    pub token: String,
    pub session_id: SessionId,
    /// Proof that this device signed in: brought to a later sign-in, it passes the account's
    /// backoff after failed guesses elsewhere. Shown only here.
    pub device_token: String,
}

/// Failed sign-ins an account takes before each further attempt must wait.
const FREE_FAILURES: u32 = 5;
/// The longest such wait.
const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How long a device stays remembered after it signed in.
const DEVICE_DAYS: i64 = 30;

/// An account's failed sign-ins, and until when the next must wait.
#[derive(Clone, Copy)]
pub(crate) struct Backoff {
    failures: u32,
    until: std::time::Instant,
}

/// Who signs in, as far as the server can tell: for the user's list of devices.
pub struct ClientInfo<'a> {
    /// What the client calls itself (`client_name`), else its `User-Agent`.
    pub name: &'a str,
    /// The address it connects from.
    pub address: String,
}

/// An authenticated caller: the user, and the session (device) their credential belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub session: SessionId,
}

/// Longest client name kept, in characters.
const MAX_CLIENT_NAME: usize = 200;

impl ChatService {
    pub async fn register(
        &self,
        r: Registration<'_>,
        client: ClientInfo<'_>,
    ) -> ChatResult<Session> {
        let username = Username::parse(r.username)?;
        let password = Password::parse(r.password)?;
        let display_name = match r.display_name {
            Some(d) => DisplayName::parse(d)?,
            None => DisplayName::parse(username.as_str())?,
        };
        let email = r.email.map(Email::parse).transpose()?;
        // An invite brought along must be good before an account is made for it.
        if let Some(code) = r.invite_code
            && !self
                .store
                .invite_usable(&token_hash(code), Timestamp::now())
                .await?
        {
            return Err(ChatError::refused(
                ErrorCode::InviteNotFound,
                "the invite is unknown, expired or used up",
            ));
        }
        // Who may register: a new server's first account always may.
        let mode = self.config.registration;
        if mode != crate::RegistrationMode::Open && self.store.user_count().await? > 0 {
            match (mode, r.invite_code) {
                (crate::RegistrationMode::Invite, Some(_)) => {}
                (crate::RegistrationMode::Invite, None) => {
                    return Err(ChatError::refused(
                        ErrorCode::RegistrationClosed,
                        "registering here needs a valid workspace invite",
                    ));
                }
                _ => {
                    return Err(ChatError::refused(
                        ErrorCode::RegistrationClosed,
                        "this server does not take registrations; ask its administrator",
                    ));
                }
            }
        }
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
        // The first account of a new server administers it.
        self.store.first_user_admin(&user.id).await?;
        if let Some(code) = r.invite_code {
            self.accept_invite(&user.id, code).await?;
        }
        self.start_session(user, client).await
    }

    /// Creates an account with no usable password and a one-time link to set one
    /// (`confab admin create-user`, for servers that take no registrations).
    pub async fn create_user_with_reset(
        &self,
        username: &str,
        valid_for: std::time::Duration,
    ) -> ChatResult<(String, Timestamp)> {
        let name = Username::parse(username)?;
        let unusable = hash_password(random_token()?).await?;
        self.store
            .create_user(NewUser {
                id: UserId::generate(),
                username: name.as_str().to_owned(),
                display_name: DisplayName::parse(name.as_str())?.into_inner(),
                email: None,
                password_hash: unusable,
                created_at: Timestamp::now(),
            })
            .await?;
        self.issue_password_reset(name.as_str(), valid_for).await
    }

    /// Signs in. Besides the per-address limit (at the API), each account slows its sign-ins
    /// down after `FREE_FAILURES` failed ones, doubling up to `MAX_BACKOFF`, wherever the
    /// guesses come from; a device that signed in before (`device_token`) passes it, so the
    /// owner is never locked out by someone else's guessing.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo<'_>,
        device_token: Option<&str>,
    ) -> ChatResult<Session> {
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
        if let Some(user) = &user {
            let known_device = match device_token {
                Some(token) => {
                    self.store
                        .device_known(&token_hash(token), &user.id, Timestamp::now())
                        .await?
                }
                None => false,
            };
            let waiting = self.backoff_of(&user.id);
            if !known_device && let Some(wait) = waiting {
                return Err(ChatError::RateLimited { retry_after: wait });
            }
        }
        match (
            verify_password(password.expose().to_owned(), hash).await?,
            user,
        ) {
            (true, Some(user)) => {
                self.login_backoff().remove(&user.id);
                self.start_session(user, client).await
            }
            (false, Some(user)) => {
                self.failed_login(&user.id);
                Err(bad())
            }
            _ => Err(bad()),
        }
    }

    fn login_backoff(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Backoff>> {
        self.login_backoff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long the account's next sign-in must still wait, if at all.
    fn backoff_of(&self, user: &UserId) -> Option<std::time::Duration> {
        let now = std::time::Instant::now();
        self.login_backoff()
            .get(user)
            .and_then(|b| b.until.checked_duration_since(now))
            .filter(|wait| !wait.is_zero())
    }

    fn failed_login(&self, user: &UserId) {
        let now = std::time::Instant::now();
        let mut backoff = self.login_backoff();
        let entry = backoff.entry(user.clone()).or_insert(Backoff {
            failures: 0,
            until: now,
        });
        entry.failures += 1;
        if entry.failures > FREE_FAILURES {
            let doublings = (entry.failures - FREE_FAILURES - 1).min(20);
            let wait = (std::time::Duration::from_secs(1) * (1u32 << doublings)).min(MAX_BACKOFF);
            entry.until = now + wait;
        }
    }

    /// Forgets backoffs of accounts left alone for a while, bounding the map.
    pub(crate) fn sweep_login_backoff(&self) {
        let quiet = std::time::Instant::now()
            .checked_sub(MAX_BACKOFF)
            .unwrap_or_else(std::time::Instant::now);
        self.login_backoff().retain(|_, b| b.until > quiet);
    }

    async fn start_session(&self, user: User, client: ClientInfo<'_>) -> ChatResult<Session> {
        let token = random_token()?;
        let session_id = SessionId::generate();
        // Control characters would make a list of devices lie about itself.
        let name: String = client
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_CLIENT_NAME)
            .collect();
        self.store
            .create_session(
                NewSession {
                    id: session_id.clone(),
                    token_hash: token_hash(&token).to_vec(),
                    user: user.id.clone(),
                    now: Timestamp::now(),
                    client_name: name.trim().to_owned(),
                    created_from: client.address,
                },
                self.config.session_life,
            )
            .await?;
        let device_token = random_token()?;
        self.store
            .remember_device(
                &token_hash(&device_token),
                &user.id,
                Timestamp::now().plus_secs(DEVICE_DAYS * 86_400),
            )
            .await?;
        Ok(Session {
            user,
            token,
            session_id,
            device_token,
        })
    }

    /// Signs out the session of `token` (the caller's), and closes the sockets it opened, on
    /// every gateway.
    pub async fn logout(&self, caller: &Caller, token: &str) -> ChatResult<()> {
        if let Some(session) = self.store.delete_session(&token_hash(token)).await? {
            self.announce_revoked(&caller.user, vec![session]).await;
        }
        Ok(())
    }

    /// The user and session a bearer token belongs to, while the session is live.
    pub async fn authenticate(&self, token: &str) -> ChatResult<Caller> {
        self.store
            .session(
                &token_hash(token),
                Timestamp::now(),
                self.config.session_life,
            )
            .await?
            .map(|(user, session)| Caller { user, session })
            .ok_or_else(|| {
                ChatError::refused(
                    ErrorCode::Unauthorized,
                    "missing, invalid, expired or revoked token",
                )
            })
    }

    /// Whether a session is still signed in and unexpired.
    pub async fn session_live(&self, session: &SessionId) -> ChatResult<bool> {
        Ok(self
            .store
            .session_live(session, Timestamp::now(), self.config.session_life)
            .await?)
    }

    /// The caller's live sessions, most recently used first.
    pub async fn sessions(&self, caller: &Caller) -> ChatResult<Vec<SessionInfo>> {
        Ok(self
            .store
            .user_sessions(&caller.user, Timestamp::now(), self.config.session_life)
            .await?)
    }

    /// Revokes one of the caller's sessions (the current one included: that is a logout).
    pub async fn revoke_session(&self, caller: &Caller, id: &SessionId) -> ChatResult<()> {
        let revoked = self.store.revoke_sessions(&caller.user, id, false).await?;
        if revoked.is_empty() {
            return Err(ChatError::refused(
                ErrorCode::SessionNotFound,
                "no such session of yours",
            ));
        }
        self.announce_revoked(&caller.user, revoked).await;
        Ok(())
    }

    /// "Sign out everywhere else": every session of the caller's but this one. How many.
    pub async fn revoke_other_sessions(&self, caller: &Caller) -> ChatResult<usize> {
        let revoked = self
            .store
            .revoke_sessions(&caller.user, &caller.session, true)
            .await?;
        let n = revoked.len();
        self.announce_revoked(&caller.user, revoked).await;
        Ok(n)
    }

    /// Changes the caller's password, given the current one, and signs every other session
    /// out (whoever knew the old password may hold one). How many were signed out.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> ChatResult<usize> {
        let new = Password::parse(new)?;
        let me =
            self.store.user(&caller.user).await?.ok_or_else(|| {
                ChatError::refused(ErrorCode::Unauthorized, "user no longer exists")
            })?;
        let hash = self
            .store
            .user_credentials(&me.username)
            .await?
            .map(|(_, hash)| hash);
        let wrong =
            || ChatError::refused(ErrorCode::WrongPassword, "the current password is wrong");
        let Ok(current) = Password::parse(current) else {
            return Err(wrong());
        };
        if !verify_password(current.expose().to_owned(), hash).await? {
            return Err(wrong());
        }
        let password_hash = hash_password(new.expose().to_owned()).await?;
        self.store
            .set_password(&caller.user, &password_hash)
            .await?;
        self.revoke_other_sessions(caller).await
    }

    /// A one-time password reset for `username`, valid for `valid_for`: for an operator to
    /// hand over (`confab admin reset-password`), since confab sends no email.
    pub async fn issue_password_reset(
        &self,
        username: &str,
        valid_for: std::time::Duration,
    ) -> ChatResult<(String, Timestamp)> {
        let username = Username::parse(username)?;
        let (user, _) = self
            .store
            .user_credentials(username.as_str())
            .await?
            .ok_or_else(|| ChatError::refused(ErrorCode::UserNotFound, "no such user"))?;
        let token = random_token()?;
        let secs = i64::try_from(valid_for.as_secs()).unwrap_or(3600);
        let expires_at = Timestamp::now().plus_secs(secs);
        self.store
            .create_password_reset(&token_hash(&token), &user.id, expires_at)
            .await?;
        Ok((token, expires_at))
    }

    /// Sets a new password with a reset token (once), and signs every session of the user's
    /// out: whoever had the old password may hold one.
    pub async fn reset_password(&self, token: &str, new: &str) -> ChatResult<()> {
        let new = Password::parse(new)?;
        let user = self
            .store
            .redeem_password_reset(&token_hash(token), Timestamp::now())
            .await?
            .ok_or_else(|| {
                ChatError::refused(
                    ErrorCode::InvalidResetToken,
                    "the reset link is invalid, used or expired",
                )
            })?;
        let password_hash = hash_password(new.expose().to_owned()).await?;
        self.store.set_password(&user, &password_hash).await?;
        let revoked = self.store.revoke_all_sessions(&user).await?;
        self.announce_revoked(&user, revoked).await;
        Ok(())
    }

    /// Whether the user administers the server.
    pub async fn is_server_admin(&self, user: &UserId) -> ChatResult<bool> {
        Ok(self.store.is_server_admin(user).await?)
    }

    /// Makes `username` a server administrator (`confab admin grant-admin`).
    pub async fn grant_server_admin(&self, username: &str) -> ChatResult<()> {
        let user = self.user_named(username).await?;
        Ok(self.store.set_server_admin(&user.id, true).await?)
    }

    /// Deactivates an account server-wide: it can no longer sign in, every session of it is
    /// signed out (its sockets close), and what it wrote stays. `by`: the server administrator
    /// doing it, or `None` for the operator's shell.
    pub async fn deactivate_user(&self, by: Option<&UserId>, target: &UserId) -> ChatResult<()> {
        if let Some(admin) = by {
            if !self.store.is_server_admin(admin).await? {
                return Err(ChatError::refused(
                    ErrorCode::Forbidden,
                    "only server administrators can deactivate accounts",
                ));
            }
            if admin == target {
                return Err(ChatError::refused(
                    ErrorCode::Forbidden,
                    "you cannot deactivate your own account",
                ));
            }
        }
        match self.store.deactivate_user(target, Timestamp::now()).await? {
            Some(sessions) => {
                self.announce_revoked(target, sessions).await;
                Ok(())
            }
            None if self.store.user(target).await?.is_some() => Ok(()),
            None => Err(ChatError::refused(ErrorCode::UserNotFound, "no such user")),
        }
    }

    /// The account with this username (active or not).
    pub async fn user_named(&self, username: &str) -> ChatResult<User> {
        let username = Username::parse(username)?;
        self.store
            .user_credentials(username.as_str())
            .await?
            .map(|(user, _)| user)
            .ok_or_else(|| ChatError::refused(ErrorCode::UserNotFound, "no such user"))
    }

    /// Tells every gateway: sockets of these sessions close.
    async fn announce_revoked(&self, user: &UserId, sessions: Vec<SessionId>) {
        for session_id in sessions {
            self.publish(BusMessage::User {
                user_id: user.clone(),
                event: UserEvent::SessionRevoked { session_id },
            })
            .await;
        }
    }

    /// A single-use ticket a browser passes as `?ticket=` when opening its WebSocket.
    /// It belongs to the caller's session: signing that out voids it.
    pub async fn issue_ticket(&self, caller: &Caller) -> ChatResult<(String, Timestamp)> {
        let ticket = random_token()?;
        let ttl = i64::try_from(self.config.ticket_ttl.as_secs()).unwrap_or(30);
        let expires_at = Timestamp::now().plus_secs(ttl);
        self.store
            .create_ticket(
                &token_hash(&ticket),
                &caller.user,
                &caller.session,
                expires_at,
            )
            .await?;
        Ok((ticket, expires_at))
    }

    pub async fn redeem_ticket(&self, ticket: &str) -> ChatResult<Caller> {
        self.store
            .redeem_ticket(
                &token_hash(ticket),
                Timestamp::now(),
                self.config.session_life,
            )
            .await?
            .map(|(user, session)| Caller { user, session })
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
