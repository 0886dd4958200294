//! Accounts: who exists, and what signing in checks.

use async_trait::async_trait;
use confab_core::{Timestamp, User, UserId};

use crate::StoreResult;

pub struct NewUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// Accounts (the people); their sessions are [`crate::SessionStore`]'s. Both backends implement it from one text (`common/accounts.rs`).
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// The user and their password hash, for login; a deactivated account has none.
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// Changes what is given (the rest stays) and answers the user as it now is; `None` when
    /// there is no such user.
    async fn update_profile(
        &self,
        id: &UserId,
        change: ProfileChange<'_>,
    ) -> StoreResult<Option<User>>;
}

/// What `PATCH /me` changes; `None` leaves a field as it is.
#[derive(Default)]
pub struct ProfileChange<'a> {
    pub display_name: Option<&'a str>,
    /// The status text (empty clears it) and when it expires.
    pub status: Option<(&'a str, Option<Timestamp>)>,
}
