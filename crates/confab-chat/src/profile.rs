//! The caller's own profile: display name and status (`PATCH /me`).

use confab_core::{DisplayName, ErrorCode, StatusText, Timestamp, User, UserId};
use confab_store::ProfileChange;

use crate::ChatService;
use crate::error::{ChatError, ChatResult};

/// A status may be set to clear itself after at most a year.
pub const MAX_STATUS_MINUTES: i64 = 525_600;

/// What `PATCH /me` asks for, as it arrived.
#[derive(Default)]
pub struct ProfileUpdate<'a> {
    pub display_name: Option<&'a str>,
    pub status_text: Option<&'a str>,
    pub status_expires_in_minutes: Option<i64>,
}

impl ChatService {
    pub async fn update_profile(&self, user: &UserId, req: ProfileUpdate<'_>) -> ChatResult<User> {
        let display_name = req.display_name.map(DisplayName::parse).transpose()?;
        let status_text = req.status_text.map(StatusText::parse).transpose()?;
        let expires = match (req.status_expires_in_minutes, &status_text) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(ChatError::refused(
                    ErrorCode::InvalidStatus,
                    "status_expires_in_minutes needs a status_text",
                ));
            }
            (Some(minutes), Some(_)) if (1..=MAX_STATUS_MINUTES).contains(&minutes) => {
                Some(Timestamp::now().plus_secs(minutes * 60))
            }
            (Some(_), Some(_)) => {
                return Err(ChatError::refused(
                    ErrorCode::InvalidStatus,
                    format!("status_expires_in_minutes must be 1 to {MAX_STATUS_MINUTES}"),
                ));
            }
        };
        self.limit_change(user)?;
        let change = ProfileChange {
            display_name: display_name.as_ref().map(DisplayName::as_str),
            status: status_text
                .as_ref()
                .map(|text| (text.as_str(), expires.filter(|_| !text.as_str().is_empty()))),
        };
        self.store
            .update_profile(user, change)
            .await?
            .ok_or_else(|| ChatError::refused(ErrorCode::Unauthorized, "user no longer exists"))
    }
}
