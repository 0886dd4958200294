//! Sessions and WebSocket tickets, written once for both backends: every statement here is
//! one SQL text both engines accept (`$n` placeholders, `RETURNING`), and [`session_methods!`]
//! expands the same code over each backend's pools.
//!
//! A session is one sign-in on one device: its bearer token (stored as a hash), an ID to name
//! it by, when it was created, when it was last used, what client opened it and from where.
//! It lives while it is used at least once every `idle` and for at most `absolute` after
//! sign-in: using a token moves its idle expiry, never its absolute one, so a stolen token
//! dies at the latest `absolute` after the sign-in it came from.

use confab_core::{SessionId, Timestamp, UserId};

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

/// The backend `$store`'s `SessionStore`, on its pools `$store.$write` and `$store.$read`.
macro_rules! session_methods {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::SessionStore for $store {
            async fn create_session(
                &self,
                s: $crate::sessions::NewSession,
                life: $crate::sessions::SessionLifetime,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                let (created_after, seen_after) = life.bounds(s.now);
                sqlx::query($crate::sessions::SWEEP)
                    .bind(s.user.as_str())
                    .bind(created_after)
                    .bind(seen_after)
                    .execute(&self.$write)
                    .await
                    .ctx("sweeping expired sessions")?;
                sqlx::query($crate::sessions::INSERT)
                    .bind(&s.token_hash)
                    .bind(s.user.as_str())
                    .bind(s.now.as_micros())
                    .bind(s.id.as_str())
                    .bind(&s.client_name)
                    .bind(&s.created_from)
                    .execute(&self.$write)
                    .await
                    .ctx("creating a session")?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &[u8],
                now: confab_core::Timestamp,
                life: $crate::sessions::SessionLifetime,
            ) -> $crate::StoreResult<Option<(confab_core::UserId, confab_core::SessionId)>> {
                use $crate::error::DbContext;
                let (created_after, seen_after) = life.bounds(now);
                let row: Option<(String, String, i64)> =
                    sqlx::query_as($crate::sessions::LIVE_BY_TOKEN)
                        .bind(token_hash)
                        .bind(created_after)
                        .bind(seen_after)
                        .fetch_optional(&self.$read)
                        .await
                        .ctx("reading a session")?;
                let Some((user, id, seen)) = row else {
                    return Ok(None);
                };
                if now.as_micros() - seen >= $crate::sessions::SEEN_EVERY_MICROS {
                    sqlx::query($crate::sessions::SEEN)
                        .bind(now.as_micros())
                        .bind(token_hash)
                        .execute(&self.$write)
                        .await
                        .ctx("marking a session seen")?;
                }
                Ok(Some((
                    confab_core::UserId::from_trusted(user),
                    confab_core::SessionId::from_trusted(id),
                )))
            }

            async fn delete_session(
                &self,
                token_hash: &[u8],
            ) -> $crate::StoreResult<Option<confab_core::SessionId>> {
                use $crate::error::DbContext;
                let id: Option<String> = sqlx::query_scalar($crate::sessions::DELETE_BY_TOKEN)
                    .bind(token_hash)
                    .fetch_optional(&self.$write)
                    .await
                    .ctx("deleting a session")?;
                Ok(id.map(confab_core::SessionId::from_trusted))
            }

            async fn user_sessions(
                &self,
                user: &confab_core::UserId,
                now: confab_core::Timestamp,
                life: $crate::sessions::SessionLifetime,
            ) -> $crate::StoreResult<Vec<$crate::sessions::SessionInfo>> {
                use $crate::error::DbContext;
                let (created_after, seen_after) = life.bounds(now);
                let rows: Vec<(String, String, String, i64, i64)> =
                    sqlx::query_as($crate::sessions::LIVE_OF_USER)
                        .bind(user.as_str())
                        .bind(created_after)
                        .bind(seen_after)
                        .fetch_all(&self.$read)
                        .await
                        .ctx("listing sessions")?;
                Ok(rows
                    .into_iter()
                    .map(|(id, client_name, created_from, created, seen)| {
                        $crate::sessions::SessionInfo {
                            id: confab_core::SessionId::from_trusted(id),
                            client_name,
                            created_from,
                            created_at: confab_core::Timestamp::from_micros(created),
                            last_seen_at: confab_core::Timestamp::from_micros(seen),
                        }
                    })
                    .collect())
            }

            async fn revoke_sessions(
                &self,
                user: &confab_core::UserId,
                session: &confab_core::SessionId,
                others: bool,
            ) -> $crate::StoreResult<Vec<confab_core::SessionId>> {
                use $crate::error::DbContext;
                let sql = if others {
                    $crate::sessions::DELETE_OTHERS
                } else {
                    $crate::sessions::DELETE_ONE
                };
                let ids: Vec<String> = sqlx::query_scalar(sql)
                    .bind(user.as_str())
                    .bind(session.as_str())
                    .fetch_all(&self.$write)
                    .await
                    .ctx("revoking sessions")?;
                Ok(ids
                    .into_iter()
                    .map(confab_core::SessionId::from_trusted)
                    .collect())
            }

            async fn set_password(
                &self,
                user: &confab_core::UserId,
                password_hash: &str,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                let changed = sqlx::query($crate::sessions::SET_PASSWORD)
                    .bind(password_hash)
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("setting a password")?
                    .rows_affected();
                if changed == 0 {
                    return Err($crate::StoreError::NotFound("user"));
                }
                sqlx::query($crate::sessions::DELETE_RESETS)
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("voiding password resets")?;
                Ok(())
            }

            async fn remember_device(
                &self,
                token_hash: &[u8],
                user: &confab_core::UserId,
                expires_at: confab_core::Timestamp,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                sqlx::query($crate::sessions::SWEEP_DEVICES)
                    .bind(user.as_str())
                    .bind(confab_core::Timestamp::now().as_micros())
                    .execute(&self.$write)
                    .await
                    .ctx("sweeping devices")?;
                sqlx::query($crate::sessions::INSERT_DEVICE)
                    .bind(token_hash)
                    .bind(user.as_str())
                    .bind(expires_at.as_micros())
                    .execute(&self.$write)
                    .await
                    .ctx("remembering a device")?;
                sqlx::query($crate::sessions::TRIM_DEVICES)
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("forgetting old devices")?;
                Ok(())
            }

            async fn device_known(
                &self,
                token_hash: &[u8],
                user: &confab_core::UserId,
                now: confab_core::Timestamp,
            ) -> $crate::StoreResult<bool> {
                use $crate::error::DbContext;
                let known: Option<i32> = sqlx::query_scalar($crate::sessions::DEVICE_KNOWN)
                    .bind(token_hash)
                    .bind(user.as_str())
                    .bind(now.as_micros())
                    .fetch_optional(&self.$read)
                    .await
                    .ctx("reading a device")?;
                Ok(known.is_some())
            }

            async fn user_count(&self) -> $crate::StoreResult<i64> {
                use $crate::error::DbContext;
                sqlx::query_scalar($crate::sessions::USER_COUNT)
                    .fetch_one(&self.$read)
                    .await
                    .ctx("counting users")
            }

            async fn invite_usable(
                &self,
                code_hash: &[u8],
                now: confab_core::Timestamp,
            ) -> $crate::StoreResult<bool> {
                use $crate::error::DbContext;
                let usable: Option<i32> = sqlx::query_scalar($crate::sessions::INVITE_USABLE)
                    .bind(code_hash)
                    .bind(now.as_micros())
                    .fetch_optional(&self.$read)
                    .await
                    .ctx("reading an invite")?;
                Ok(usable.is_some())
            }

            async fn first_user_admin(
                &self,
                user: &confab_core::UserId,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                sqlx::query($crate::sessions::FIRST_IS_ADMIN)
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("making the first user admin")?;
                Ok(())
            }

            async fn is_server_admin(
                &self,
                user: &confab_core::UserId,
            ) -> $crate::StoreResult<bool> {
                use $crate::error::DbContext;
                let admin: Option<bool> = sqlx::query_scalar($crate::sessions::IS_ADMIN)
                    .bind(user.as_str())
                    .fetch_optional(&self.$read)
                    .await
                    .ctx("reading a user's role")?;
                Ok(admin.unwrap_or(false))
            }

            async fn set_server_admin(
                &self,
                user: &confab_core::UserId,
                admin: bool,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                let changed = sqlx::query($crate::sessions::SET_ADMIN)
                    .bind(admin)
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("granting admin")?
                    .rows_affected();
                if changed == 0 {
                    return Err($crate::StoreError::NotFound("user"));
                }
                Ok(())
            }

            /// Deactivates the account and signs every session of it out; the sessions,
            /// empty when it was deactivated already.
            async fn deactivate_user(
                &self,
                user: &confab_core::UserId,
                now: confab_core::Timestamp,
            ) -> $crate::StoreResult<Option<Vec<confab_core::SessionId>>> {
                use $crate::error::DbContext;
                let changed = sqlx::query($crate::sessions::DEACTIVATE)
                    .bind(now.as_micros())
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("deactivating a user")?
                    .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                Ok(Some(
                    $crate::SessionStore::revoke_all_sessions(self, user).await?,
                ))
            }

            async fn session_live(
                &self,
                session: &confab_core::SessionId,
                now: confab_core::Timestamp,
                life: $crate::sessions::SessionLifetime,
            ) -> $crate::StoreResult<bool> {
                use $crate::error::DbContext;
                let (created_after, seen_after) = life.bounds(now);
                let live: Option<i32> = sqlx::query_scalar($crate::sessions::LIVE_BY_ID)
                    .bind(session.as_str())
                    .bind(created_after)
                    .bind(seen_after)
                    .fetch_optional(&self.$read)
                    .await
                    .ctx("checking a session")?;
                Ok(live.is_some())
            }

            async fn revoke_all_sessions(
                &self,
                user: &confab_core::UserId,
            ) -> $crate::StoreResult<Vec<confab_core::SessionId>> {
                use $crate::error::DbContext;
                let ids: Vec<String> = sqlx::query_scalar($crate::sessions::DELETE_ALL)
                    .bind(user.as_str())
                    .fetch_all(&self.$write)
                    .await
                    .ctx("revoking sessions")?;
                Ok(ids
                    .into_iter()
                    .map(confab_core::SessionId::from_trusted)
                    .collect())
            }

            async fn create_password_reset(
                &self,
                token_hash: &[u8],
                user: &confab_core::UserId,
                expires_at: confab_core::Timestamp,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                sqlx::query($crate::sessions::SWEEP_RESETS)
                    .bind(confab_core::Timestamp::now().as_micros())
                    .execute(&self.$write)
                    .await
                    .ctx("sweeping password resets")?;
                sqlx::query($crate::sessions::INSERT_RESET)
                    .bind(token_hash)
                    .bind(user.as_str())
                    .bind(expires_at.as_micros())
                    .execute(&self.$write)
                    .await
                    .ctx("creating a password reset")?;
                Ok(())
            }

            async fn redeem_password_reset(
                &self,
                token_hash: &[u8],
                now: confab_core::Timestamp,
            ) -> $crate::StoreResult<Option<confab_core::UserId>> {
                use $crate::error::DbContext;
                let row: Option<(String, i64)> = sqlx::query_as($crate::sessions::REDEEM_RESET)
                    .bind(token_hash)
                    .fetch_optional(&self.$write)
                    .await
                    .ctx("redeeming a password reset")?;
                Ok(row
                    .filter(|(_, expires_at)| *expires_at >= now.as_micros())
                    .map(|(user, _)| confab_core::UserId::from_trusted(user)))
            }

            async fn create_ticket(
                &self,
                ticket_hash: &[u8],
                user: &confab_core::UserId,
                session: &confab_core::SessionId,
                expires_at: confab_core::Timestamp,
            ) -> $crate::StoreResult<()> {
                use $crate::error::DbContext;
                // Expired tickets are swept as new ones are made, so the table stays small.
                sqlx::query($crate::sessions::SWEEP_TICKETS)
                    .bind(confab_core::Timestamp::now().as_micros())
                    .execute(&self.$write)
                    .await
                    .ctx("sweeping expired tickets")?;
                sqlx::query($crate::sessions::INSERT_TICKET)
                    .bind(ticket_hash)
                    .bind(user.as_str())
                    .bind(expires_at.as_micros())
                    .bind(session.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("creating a ticket")?;
                Ok(())
            }

            async fn redeem_ticket(
                &self,
                ticket_hash: &[u8],
                now: confab_core::Timestamp,
                life: $crate::sessions::SessionLifetime,
            ) -> $crate::StoreResult<Option<(confab_core::UserId, confab_core::SessionId)>> {
                use $crate::error::DbContext;
                let row: Option<(String, i64, String)> =
                    sqlx::query_as($crate::sessions::REDEEM_TICKET)
                        .bind(ticket_hash)
                        .fetch_optional(&self.$write)
                        .await
                        .ctx("redeeming a ticket")?;
                let Some((user, expires_at, session)) = row else {
                    return Ok(None);
                };
                if expires_at < now.as_micros() {
                    return Ok(None);
                }
                // A ticket is worth what its session is: none once that is revoked or expired.
                let (created_after, seen_after) = life.bounds(now);
                let live: Option<i32> = sqlx::query_scalar($crate::sessions::LIVE_BY_ID)
                    .bind(&session)
                    .bind(created_after)
                    .bind(seen_after)
                    .fetch_optional(&self.$write)
                    .await
                    .ctx("redeeming a ticket")?;
                Ok(live.map(|_| {
                    (
                        confab_core::UserId::from_trusted(user),
                        confab_core::SessionId::from_trusted(session),
                    )
                }))
            }
        }
    };
}

pub(crate) use session_methods;
