//! [`crate::SessionStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend), and its statements are `crate::sessions`'.
//! Just over 400 lines: twenty small calls, each a statement or two; split, they would
//! only scatter one trait's implementation.

use crate::rows::stored_id;

#[async_trait::async_trait]
impl crate::SessionStore for super::Backend {
    async fn create_session(
        &self,
        s: crate::sessions::NewSession,
        life: crate::sessions::SessionLifetime,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        let (created_after, seen_after) = life.bounds(s.now);
        sqlx::query(crate::sessions::SWEEP)
            .bind(s.user.as_str())
            .bind(created_after)
            .bind(seen_after)
            .execute(self.write_pool())
            .await
            .ctx("sweeping expired sessions")?;
        sqlx::query(crate::sessions::INSERT)
            .bind(&s.token_hash)
            .bind(s.user.as_str())
            .bind(s.now.as_micros())
            .bind(s.id.as_str())
            .bind(&s.client_name)
            .bind(&s.created_from)
            .execute(self.write_pool())
            .await
            .ctx("creating a session")?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: confab_core::Timestamp,
        life: crate::sessions::SessionLifetime,
    ) -> crate::StoreResult<Option<(confab_core::UserId, confab_core::SessionId)>> {
        use crate::error::DbContext;
        let (created_after, seen_after) = life.bounds(now);
        let row: Option<(String, String, i64)> = sqlx::query_as(crate::sessions::LIVE_BY_TOKEN)
            .bind(token_hash)
            .bind(created_after)
            .bind(seen_after)
            .fetch_optional(self.read_pool())
            .await
            .ctx("reading a session")?;
        let Some((user, id, seen)) = row else {
            return Ok(None);
        };
        if now.as_micros() - seen >= crate::sessions::SEEN_EVERY_MICROS {
            sqlx::query(crate::sessions::SEEN)
                .bind(now.as_micros())
                .bind(token_hash)
                .execute(self.write_pool())
                .await
                .ctx("marking a session seen")?;
        }
        Ok(Some((stored_id(user)?, stored_id(id)?)))
    }

    async fn delete_session(
        &self,
        token_hash: &[u8],
    ) -> crate::StoreResult<Option<confab_core::SessionId>> {
        use crate::error::DbContext;
        let id: Option<String> = sqlx::query_scalar(crate::sessions::DELETE_BY_TOKEN)
            .bind(token_hash)
            .fetch_optional(self.write_pool())
            .await
            .ctx("deleting a session")?;
        id.map(stored_id).transpose()
    }

    async fn user_sessions(
        &self,
        user: &confab_core::UserId,
        now: confab_core::Timestamp,
        life: crate::sessions::SessionLifetime,
    ) -> crate::StoreResult<Vec<crate::sessions::SessionInfo>> {
        use crate::error::DbContext;
        let (created_after, seen_after) = life.bounds(now);
        let rows: Vec<(String, String, String, i64, i64)> =
            sqlx::query_as(crate::sessions::LIVE_OF_USER)
                .bind(user.as_str())
                .bind(created_after)
                .bind(seen_after)
                .fetch_all(self.read_pool())
                .await
                .ctx("listing sessions")?;
        rows.into_iter()
            .map(|(id, client_name, created_from, created, seen)| {
                Ok(crate::sessions::SessionInfo {
                    id: stored_id(id)?,
                    client_name,
                    created_from,
                    created_at: confab_core::Timestamp::from_micros(created),
                    last_seen_at: confab_core::Timestamp::from_micros(seen),
                })
            })
            .collect()
    }

    async fn revoke_sessions(
        &self,
        user: &confab_core::UserId,
        session: &confab_core::SessionId,
        others: bool,
    ) -> crate::StoreResult<Vec<confab_core::SessionId>> {
        use crate::error::DbContext;
        let sql = if others {
            crate::sessions::DELETE_OTHERS
        } else {
            crate::sessions::DELETE_ONE
        };
        let ids: Vec<String> = sqlx::query_scalar(sql)
            .bind(user.as_str())
            .bind(session.as_str())
            .fetch_all(self.write_pool())
            .await
            .ctx("revoking sessions")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn set_password(
        &self,
        user: &confab_core::UserId,
        password_hash: &str,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        let changed = sqlx::query(crate::sessions::SET_PASSWORD)
            .bind(password_hash)
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("setting a password")?
            .rows_affected();
        if changed == 0 {
            return Err(crate::StoreError::NotFound(crate::Missing::User));
        }
        sqlx::query(crate::sessions::DELETE_RESETS)
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("voiding password resets")?;
        Ok(())
    }

    async fn remember_device(
        &self,
        token_hash: &[u8],
        user: &confab_core::UserId,
        expires_at: confab_core::Timestamp,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        sqlx::query(crate::sessions::SWEEP_DEVICES)
            .bind(user.as_str())
            .bind(confab_core::Timestamp::now().as_micros())
            .execute(self.write_pool())
            .await
            .ctx("sweeping devices")?;
        sqlx::query(crate::sessions::INSERT_DEVICE)
            .bind(token_hash)
            .bind(user.as_str())
            .bind(expires_at.as_micros())
            .execute(self.write_pool())
            .await
            .ctx("remembering a device")?;
        sqlx::query(crate::sessions::TRIM_DEVICES)
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("forgetting old devices")?;
        Ok(())
    }

    async fn device_known(
        &self,
        token_hash: &[u8],
        user: &confab_core::UserId,
        now: confab_core::Timestamp,
    ) -> crate::StoreResult<bool> {
        use crate::error::DbContext;
        let known: Option<i32> = sqlx::query_scalar(crate::sessions::DEVICE_KNOWN)
            .bind(token_hash)
            .bind(user.as_str())
            .bind(now.as_micros())
            .fetch_optional(self.read_pool())
            .await
            .ctx("reading a device")?;
        Ok(known.is_some())
    }

    async fn user_count(&self) -> crate::StoreResult<i64> {
        use crate::error::DbContext;
        sqlx::query_scalar(crate::sessions::USER_COUNT)
            .fetch_one(self.read_pool())
            .await
            .ctx("counting users")
    }

    async fn invite_usable(
        &self,
        code_hash: &[u8],
        now: confab_core::Timestamp,
    ) -> crate::StoreResult<bool> {
        use crate::error::DbContext;
        let usable: Option<i32> = sqlx::query_scalar(crate::sessions::INVITE_USABLE)
            .bind(code_hash)
            .bind(now.as_micros())
            .fetch_optional(self.read_pool())
            .await
            .ctx("reading an invite")?;
        Ok(usable.is_some())
    }

    async fn first_user_admin(&self, user: &confab_core::UserId) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        sqlx::query(crate::sessions::FIRST_IS_ADMIN)
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("making the first user admin")?;
        Ok(())
    }

    async fn is_server_admin(&self, user: &confab_core::UserId) -> crate::StoreResult<bool> {
        use crate::error::DbContext;
        let admin: Option<bool> = sqlx::query_scalar(crate::sessions::IS_ADMIN)
            .bind(user.as_str())
            .fetch_optional(self.read_pool())
            .await
            .ctx("reading a user's role")?;
        Ok(admin.unwrap_or(false))
    }

    async fn set_server_admin(
        &self,
        user: &confab_core::UserId,
        admin: bool,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        let changed = sqlx::query(crate::sessions::SET_ADMIN)
            .bind(admin)
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("granting admin")?
            .rows_affected();
        if changed == 0 {
            return Err(crate::StoreError::NotFound(crate::Missing::User));
        }
        Ok(())
    }

    /// Deactivates the account and signs every session of it out; the sessions,
    /// empty when it was deactivated already.
    async fn deactivate_user(
        &self,
        user: &confab_core::UserId,
        now: confab_core::Timestamp,
    ) -> crate::StoreResult<Option<Vec<confab_core::SessionId>>> {
        use crate::error::DbContext;
        let changed = sqlx::query(crate::sessions::DEACTIVATE)
            .bind(now.as_micros())
            .bind(user.as_str())
            .execute(self.write_pool())
            .await
            .ctx("deactivating a user")?
            .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        Ok(Some(
            crate::SessionStore::revoke_all_sessions(self, user).await?,
        ))
    }

    async fn session_live(
        &self,
        session: &confab_core::SessionId,
        now: confab_core::Timestamp,
        life: crate::sessions::SessionLifetime,
    ) -> crate::StoreResult<bool> {
        use crate::error::DbContext;
        let (created_after, seen_after) = life.bounds(now);
        let live: Option<i32> = sqlx::query_scalar(crate::sessions::LIVE_BY_ID)
            .bind(session.as_str())
            .bind(created_after)
            .bind(seen_after)
            .fetch_optional(self.read_pool())
            .await
            .ctx("checking a session")?;
        Ok(live.is_some())
    }

    async fn revoke_all_sessions(
        &self,
        user: &confab_core::UserId,
    ) -> crate::StoreResult<Vec<confab_core::SessionId>> {
        use crate::error::DbContext;
        let ids: Vec<String> = sqlx::query_scalar(crate::sessions::DELETE_ALL)
            .bind(user.as_str())
            .fetch_all(self.write_pool())
            .await
            .ctx("revoking sessions")?;
        ids.into_iter().map(stored_id).collect()
    }

    async fn create_password_reset(
        &self,
        token_hash: &[u8],
        user: &confab_core::UserId,
        expires_at: confab_core::Timestamp,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        sqlx::query(crate::sessions::SWEEP_RESETS)
            .bind(confab_core::Timestamp::now().as_micros())
            .execute(self.write_pool())
            .await
            .ctx("sweeping password resets")?;
        sqlx::query(crate::sessions::INSERT_RESET)
            .bind(token_hash)
            .bind(user.as_str())
            .bind(expires_at.as_micros())
            .execute(self.write_pool())
            .await
            .ctx("creating a password reset")?;
        Ok(())
    }

    async fn redeem_password_reset(
        &self,
        token_hash: &[u8],
        now: confab_core::Timestamp,
    ) -> crate::StoreResult<Option<confab_core::UserId>> {
        use crate::error::DbContext;
        let row: Option<(String, i64)> = sqlx::query_as(crate::sessions::REDEEM_RESET)
            .bind(token_hash)
            .fetch_optional(self.write_pool())
            .await
            .ctx("redeeming a password reset")?;
        row.filter(|(_, expires_at)| *expires_at >= now.as_micros())
            .map(|(user, _)| stored_id(user))
            .transpose()
    }

    async fn create_ticket(
        &self,
        ticket_hash: &[u8],
        user: &confab_core::UserId,
        session: &confab_core::SessionId,
        expires_at: confab_core::Timestamp,
    ) -> crate::StoreResult<()> {
        use crate::error::DbContext;
        // Expired tickets are swept as new ones are made, so the table stays small.
        sqlx::query(crate::sessions::SWEEP_TICKETS)
            .bind(confab_core::Timestamp::now().as_micros())
            .execute(self.write_pool())
            .await
            .ctx("sweeping expired tickets")?;
        sqlx::query(crate::sessions::INSERT_TICKET)
            .bind(ticket_hash)
            .bind(user.as_str())
            .bind(expires_at.as_micros())
            .bind(session.as_str())
            .execute(self.write_pool())
            .await
            .ctx("creating a ticket")?;
        Ok(())
    }

    async fn redeem_ticket(
        &self,
        ticket_hash: &[u8],
        now: confab_core::Timestamp,
        life: crate::sessions::SessionLifetime,
    ) -> crate::StoreResult<Option<(confab_core::UserId, confab_core::SessionId)>> {
        use crate::error::DbContext;
        let row: Option<(String, i64, String)> = sqlx::query_as(crate::sessions::REDEEM_TICKET)
            .bind(ticket_hash)
            .fetch_optional(self.write_pool())
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
        let live: Option<i32> = sqlx::query_scalar(crate::sessions::LIVE_BY_ID)
            .bind(&session)
            .bind(created_after)
            .bind(seen_after)
            .fetch_optional(self.write_pool())
            .await
            .ctx("redeeming a ticket")?;
        live.map(|_| Ok((stored_id(user)?, stored_id(session)?)))
            .transpose()
    }
}
