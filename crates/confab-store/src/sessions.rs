//! Sessions and WebSocket tickets: the [`SessionStore`] trait, its types, and its statements,
//! each one SQL text both engines accept (`$n` placeholders, `RETURNING`), run by
//! `common/sessions.rs` in each backend.
//!
//! A session is one sign-in on one device: its bearer token (stored as a hash), an ID to name
//! it by, when it was created, when it was last used, what client opened it and from where.
//! It lives while it is used at least once every `idle` and for at most `absolute` after
//! sign-in: using a token moves its idle expiry, never its absolute one, so a stolen token
//! dies at the latest `absolute` after the sign-in it came from.

use async_trait::async_trait;
use confab_core::{SessionId, Timestamp, UserId};

use crate::StoreResult;

/// A session to create.
pub struct NewSession {
    pub id: SessionId,
    pub token_hash: Vec<u8>,
    pub user: UserId,
    pub now: Timestamp,
    /// What the client says it is (`client_name` at sign-in, else its `User-Agent`).
    pub client_name: String,
    /// The address it signed in from.
    pub created_from: String,
}

/// A live session, as its owner sees it in their list of devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub client_name: String,
    pub created_from: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// How long sessions live, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Since the session was last used.
    pub idle_micros: i64,
    /// Since it was created, however much it is used.
    pub absolute_micros: i64,
}

impl SessionLifetime {
    /// The bounds a live session's `created_at` and `last_seen_at` must be above, now.
    pub(crate) fn bounds(&self, now: Timestamp) -> (i64, i64) {
        (
            now.as_micros().saturating_sub(self.absolute_micros),
            now.as_micros().saturating_sub(self.idle_micros),
        )
    }
}

/// Accounts' credentials and sessions: sign-in, devices, tickets, password resets, server
/// administrators. Both backends implement it from one text (`common/sessions.rs`).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Signs a device in (and sweeps the user's expired sessions).
    async fn create_session(&self, session: NewSession, life: SessionLifetime) -> StoreResult<()>;
    /// The user and session a token names, if the session is live; marks it used now (at
    /// most once a minute), which moves its idle expiry and never its absolute one.
    async fn session(
        &self,
        token_hash: &[u8],
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Option<(UserId, SessionId)>>;
    /// Signs the token's session out; which session that was, if any.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionId>>;
    /// The user's live sessions, most recently used first.
    async fn user_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Vec<SessionInfo>>;
    /// Revokes the user's session `session` (or, with `others`, every session but it); the
    /// IDs revoked.
    async fn revoke_sessions(
        &self,
        user: &UserId,
        session: &SessionId,
        others: bool,
    ) -> StoreResult<Vec<SessionId>>;
    async fn create_ticket(
        &self,
        ticket_hash: &[u8],
        user: &UserId,
        session: &SessionId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Consumes a ticket: a second redemption, one after expiry, or one whose session is no
    /// longer live finds nothing.
    async fn redeem_ticket(
        &self,
        ticket_hash: &[u8],
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<Option<(UserId, SessionId)>>;
    /// Replaces a user's password hash.
    async fn set_password(&self, user: &UserId, password_hash: &str) -> StoreResult<()>;
    /// Signs every session of the user's out; the IDs.
    async fn revoke_all_sessions(&self, user: &UserId) -> StoreResult<Vec<SessionId>>;
    /// Records a one-time password reset for the user, valid until `expires_at`.
    async fn create_password_reset(
        &self,
        token_hash: &[u8],
        user: &UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Consumes a password reset: the user it was for, unless used before or expired.
    async fn redeem_password_reset(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> StoreResult<Option<UserId>>;
    /// Whether a session is live (not signed out, not expired).
    async fn session_live(
        &self,
        session: &SessionId,
        now: Timestamp,
        life: SessionLifetime,
    ) -> StoreResult<bool>;
    /// Makes `user` a server administrator if it is the server's only account (the first).
    async fn first_user_admin(&self, user: &UserId) -> StoreResult<()>;
    /// Whether `user` administers the server (and is not deactivated).
    async fn is_server_admin(&self, user: &UserId) -> StoreResult<bool>;
    async fn set_server_admin(&self, user: &UserId, admin: bool) -> StoreResult<()>;
    /// Deactivates an account server-wide (it can no longer sign in) and signs all its
    /// sessions out: their IDs, or `None` if it was deactivated already.
    async fn deactivate_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<Vec<SessionId>>>;
    /// Remembers a device the user signed in from, until `expires_at`.
    async fn remember_device(
        &self,
        token_hash: &[u8],
        user: &UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Whether the user signed in from this device before (and it is still remembered).
    async fn device_known(
        &self,
        token_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// How many accounts the server has (deactivated ones included).
    async fn user_count(&self) -> StoreResult<i64>;
    /// Whether an invite could be accepted now (exists, unexpired, uses left).
    async fn invite_usable(&self, code_hash: &[u8], now: Timestamp) -> StoreResult<bool>;
}

/// A session's `last_seen_at` is written at most this often (a write per request would be a
/// write per request).
pub(crate) const SEEN_EVERY_MICROS: i64 = 60 * 1_000_000;

pub(crate) const INSERT: &str = "INSERT INTO sessions \
     (token_hash, user_id, created_at, id, last_seen_at, client_name, created_from) \
     VALUES ($1, $2, $3, $4, $3, $5, $6)";
/// A user's expired sessions, swept as they sign in again.
pub(crate) const SWEEP: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND (created_at <= $2 OR last_seen_at <= $3)";
pub(crate) const LIVE_BY_TOKEN: &str = "SELECT user_id, id, last_seen_at FROM sessions \
     WHERE token_hash = $1 AND created_at > $2 AND last_seen_at > $3";
pub(crate) const SEEN: &str = "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2";
pub(crate) const DELETE_BY_TOKEN: &str = "DELETE FROM sessions WHERE token_hash = $1 RETURNING id";
pub(crate) const LIVE_OF_USER: &str = "SELECT id, client_name, created_from, created_at, last_seen_at FROM sessions \
     WHERE user_id = $1 AND created_at > $2 AND last_seen_at > $3 ORDER BY last_seen_at DESC, id";
pub(crate) const DELETE_ONE: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND id = $2 RETURNING id";
pub(crate) const DELETE_OTHERS: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id";
pub(crate) const LIVE_BY_ID: &str =
    "SELECT 1 FROM sessions WHERE id = $1 AND created_at > $2 AND last_seen_at > $3";
pub(crate) const SWEEP_TICKETS: &str = "DELETE FROM ws_tickets WHERE expires_at < $1";
pub(crate) const INSERT_TICKET: &str =
    "INSERT INTO ws_tickets (ticket_hash, user_id, expires_at, session_id) VALUES ($1, $2, $3, $4)";
pub(crate) const INSERT_DEVICE: &str =
    "INSERT INTO device_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)";
pub(crate) const SWEEP_DEVICES: &str =
    "DELETE FROM device_tokens WHERE user_id = $1 AND expires_at < $2";
/// A user's 20 most recent devices are remembered, however often they sign in.
pub(crate) const TRIM_DEVICES: &str = "DELETE FROM device_tokens WHERE user_id = $1 AND token_hash NOT IN \
     (SELECT token_hash FROM device_tokens WHERE user_id = $1 ORDER BY expires_at DESC LIMIT 20)";
pub(crate) const DEVICE_KNOWN: &str =
    "SELECT 1 FROM device_tokens WHERE token_hash = $1 AND user_id = $2 AND expires_at >= $3";
pub(crate) const USER_COUNT: &str = "SELECT COUNT(*) FROM users";
pub(crate) const INVITE_USABLE: &str =
    "SELECT 1 FROM invites WHERE code_hash = $1 AND expires_at >= $2 AND uses < max_uses";
/// The first account of a server administers it: true only while it is the only one.
pub(crate) const FIRST_IS_ADMIN: &str =
    "UPDATE users SET server_admin = ((SELECT COUNT(*) FROM users) = 1) WHERE id = $1";
pub(crate) const IS_ADMIN: &str =
    "SELECT server_admin FROM users WHERE id = $1 AND deactivated_at IS NULL";
pub(crate) const SET_ADMIN: &str = "UPDATE users SET server_admin = $1 WHERE id = $2";
pub(crate) const DEACTIVATE: &str =
    "UPDATE users SET deactivated_at = $1 WHERE id = $2 AND deactivated_at IS NULL";
pub(crate) const DELETE_ALL: &str = "DELETE FROM sessions WHERE user_id = $1 RETURNING id";
pub(crate) const INSERT_RESET: &str =
    "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)";
pub(crate) const SWEEP_RESETS: &str = "DELETE FROM password_resets WHERE expires_at < $1";
pub(crate) const REDEEM_RESET: &str =
    "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at";
pub(crate) const SET_PASSWORD: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
/// A new password voids every reset link still out for the user.
pub(crate) const DELETE_RESETS: &str = "DELETE FROM password_resets WHERE user_id = $1";
pub(crate) const REDEEM_TICKET: &str =
    "DELETE FROM ws_tickets WHERE ticket_hash = $1 RETURNING user_id, expires_at, session_id";
