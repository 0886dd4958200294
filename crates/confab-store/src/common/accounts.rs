//! [`crate::AccountStore`] for one backend, from one text: this file compiles once in each
//! backend module (`super` is that backend).

use async_trait::async_trait;
use confab_core::{Timestamp, User, UserId};
use sqlx::Row;

use super::{Backend, rows};
use crate::error::{DbContext, is_unique_violation};
use crate::{AccountStore, NewUser, ProfileChange, StoreError, StoreResult};

#[async_trait]
impl AccountStore for Backend {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(u.id.as_str())
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.email.as_deref())
        .bind(&u.password_hash)
        .bind(u.created_at.as_micros())
        .execute(self.write_pool())
        .await;
        match result {
            Ok(_) => Ok(User {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                created_at: u.created_at,
                status_text: String::new(),
                status_expires_at: None,
            }),
            Err(e) if is_unique_violation(&e) => Err(StoreError::UsernameTaken),
            Err(e) => Err(StoreError::db("creating a user", e)),
        }
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {} FROM users WHERE id = $1",
            rows::USER_COLUMNS
        ))
        .bind(id.as_str())
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading a user")?
        .map(|row| rows::user(&row))
        .transpose()
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {}, password_hash FROM users WHERE username = $1 AND deactivated_at IS NULL",
            rows::USER_COLUMNS
        ))
        .bind(username)
        .fetch_optional(self.read_pool())
        .await
        .ctx("reading credentials")?;
        match row {
            None => Ok(None),
            Some(row) => {
                let hash: String = row.try_get("password_hash").ctx("reading credentials")?;
                Ok(Some((rows::user(&row)?, hash)))
            }
        }
    }

    async fn update_profile(
        &self,
        id: &UserId,
        change: ProfileChange<'_>,
    ) -> StoreResult<Option<User>> {
        let (set_status, status_text, status_expires_at) = match change.status {
            Some((text, expires)) => (true, text, expires.map(Timestamp::as_micros)),
            None => (false, "", None),
        };
        // One statement whatever is given: a field not given keeps its value.
        sqlx::query(&format!(
            "UPDATE users SET display_name = COALESCE($2, display_name), \
             status_text = CASE WHEN $3 THEN $4 ELSE status_text END, \
             status_expires_at = CASE WHEN $3 THEN $5 ELSE status_expires_at END \
             WHERE id = $1 RETURNING {}",
            rows::USER_COLUMNS
        ))
        .bind(id.as_str())
        .bind(change.display_name)
        .bind(set_status)
        .bind(status_text)
        .bind(status_expires_at)
        .fetch_optional(self.write_pool())
        .await
        .ctx("updating a profile")?
        .map(|row| rows::user(&row))
        .transpose()
    }
}
