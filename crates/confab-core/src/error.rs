//! The stable error codes clients match on, and the validation errors of domain values.
//!
//! Every layer's error type maps onto one [`ErrorCode`]; [`ErrorCode::http_status`] is the one
//! exhaustive table from code to HTTP status, used by the HTTP API and mirrored in WebSocket
//! error frames.

use serde::{Deserialize, Serialize};

/// A snake_case code that never changes meaning once released. Its string (`as_str`) and its
/// JSON are both derived from the variant's name, and a test pins every one.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // 400: the request itself is wrong.
    InvalidJson,
    InvalidRequest,
    InvalidId,
    InvalidUsername,
    InvalidPassword,
    InvalidDisplayName,
    InvalidEmail,
    InvalidWorkspaceName,
    InvalidChannelName,
    InvalidTopic,
    InvalidClientMsgId,
    InvalidRole,
    EmptyBody,
    BodyTooLong,
    InvalidBody,
    InvalidLimit,
    InvalidCursor,
    InvalidThreadRoot,
    InvalidMembers,
    InvalidEmoji,
    InvalidStatus,
    InvalidSeq,
    MessageDeleted,
    CannotLeaveDm,
    NotAllowedForDm,
    InvalidResetToken,
    InvalidFile,
    TooManyFiles,
    /// A search query longer than `search_max_query_chars`.
    QueryTooLong,
    /// A notification preference out of range or unknown.
    InvalidPreferences,
    /// A push subscription whose endpoint or keys are not a browser's.
    InvalidPushSubscription,
    // 401
    Unauthorized,
    InvalidCredentials,
    // 403
    Forbidden,
    NotInChannel,
    WrongPassword,
    RegistrationClosed,
    /// A signed file URL whose signature does not match what it names.
    InvalidSignature,
    /// A signed file URL past its expiry.
    UrlExpired,
    /// An upload URL used already: each works once.
    UploadUsed,
    // 404
    NotFound,
    UserNotFound,
    WorkspaceNotFound,
    ChannelNotFound,
    MessageNotFound,
    InviteNotFound,
    FileNotFound,
    SessionNotFound,
    // 405
    MethodNotAllowed,
    // 409
    UsernameTaken,
    ChannelNameTaken,
    AlreadyMember,
    TooManyReactions,
    /// Attaching a file whose bytes have not all arrived.
    UploadIncomplete,
    // 408
    RequestTimeout,
    // 410
    InviteExpired,
    // 413, 415
    PayloadTooLarge,
    FileTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
    // 429
    RateLimited,
    TooManySockets,
    // 500, 503
    Internal,
    Unavailable,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson
            | InvalidRequest
            | InvalidId
            | InvalidUsername
            | InvalidPassword
            | InvalidDisplayName
            | InvalidEmail
            | InvalidWorkspaceName
            | InvalidChannelName
            | InvalidTopic
            | InvalidClientMsgId
            | InvalidRole
            | EmptyBody
            | BodyTooLong
            | InvalidBody
            | InvalidLimit
            | InvalidCursor
            | InvalidThreadRoot
            | InvalidMembers
            | InvalidEmoji
            | InvalidStatus
            | InvalidSeq
            | InvalidResetToken
            | InvalidFile
            | TooManyFiles
            | QueryTooLong
            | InvalidPreferences
            | InvalidPushSubscription => 400,
            Unauthorized | InvalidCredentials => 401,
            Forbidden | NotInChannel | WrongPassword | RegistrationClosed | InvalidSignature
            | UrlExpired | UploadUsed => 403,
            NotFound | UserNotFound | WorkspaceNotFound | ChannelNotFound | MessageNotFound
            | InviteNotFound | FileNotFound | SessionNotFound => 404,
            MethodNotAllowed => 405,
            // A DM's members and name are fixed: the request is well formed, the channel is
            // the wrong kind for it.
            UsernameTaken | ChannelNameTaken | AlreadyMember | MessageDeleted
            | TooManyReactions | CannotLeaveDm | NotAllowedForDm | UploadIncomplete => 409,
            RequestTimeout => 408,
            InviteExpired => 410,
            PayloadTooLarge | FileTooLarge | QuotaExceeded => 413,
            UnsupportedMediaType => 415,
            RateLimited | TooManySockets => 429,
            Internal => 500,
            Unavailable => 503,
        }
    }

    /// Whether the same request may succeed if simply tried again later.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::Unavailable | ErrorCode::RateLimited)
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a domain value was refused. Messages are lowercase and say what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{what} is not a valid id")]
    InvalidId { what: &'static str },
    #[error(
        "username must be 2 to 32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    Username,
    #[error("password must be 8 to 256 characters")]
    Password,
    #[error("display name must be 1 to 80 characters with no control characters")]
    DisplayName,
    #[error("email must look like name@host and be at most 254 characters")]
    Email,
    #[error("workspace name must be 1 to 80 characters with no control characters")]
    WorkspaceName,
    #[error(
        "channel name must be 1 to 80 characters: lowercase letters, digits, '-' or '_', no spaces or periods"
    )]
    ChannelName,
    #[error("topic must be at most 250 characters with no control characters but newline")]
    Topic,
    #[error("status_text must be at most 100 characters on one line")]
    StatusText,
    #[error("client_msg_id must be 1 to 64 characters: letters, digits, '-', '_', '.' or ':'")]
    ClientMsgId,
    #[error("emoji must be a :short_code: or a single Unicode emoji")]
    Emoji,
    #[error("body must not be empty")]
    EmptyBody,
    #[error("body is longer than {max} characters")]
    BodyTooManyChars { max: usize },
    #[error("body is larger than {max} bytes once encoded")]
    BodyTooManyBytes { max: usize },
    #[error("body must not contain control characters other than newline, tab and carriage return")]
    BodyControlChars,
    #[error("filename must be 1 to 255 characters with no control characters")]
    FileName,
}

impl ValidationError {
    pub fn code(&self) -> ErrorCode {
        use ValidationError::*;
        match self {
            InvalidId { .. } => ErrorCode::InvalidId,
            Username => ErrorCode::InvalidUsername,
            Password => ErrorCode::InvalidPassword,
            DisplayName => ErrorCode::InvalidDisplayName,
            Email => ErrorCode::InvalidEmail,
            WorkspaceName => ErrorCode::InvalidWorkspaceName,
            ChannelName => ErrorCode::InvalidChannelName,
            Topic => ErrorCode::InvalidTopic,
            StatusText => ErrorCode::InvalidStatus,
            ClientMsgId => ErrorCode::InvalidClientMsgId,
            EmptyBody => ErrorCode::EmptyBody,
            Emoji => ErrorCode::InvalidEmoji,
            BodyTooManyChars { .. } | BodyTooManyBytes { .. } => ErrorCode::BodyTooLong,
            BodyControlChars => ErrorCode::InvalidBody,
            FileName => ErrorCode::InvalidFile,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code's JSON, as released: renaming a variant must not change what clients match.
    #[test]
    fn every_code_keeps_its_json() {
        use strum::IntoEnumIterator;
        let json: Vec<String> = ErrorCode::iter()
            .map(|code| serde_json::to_string(&code).unwrap_or_default())
            .collect();
        let pinned = [
            "invalid_json",
            "invalid_request",
            "invalid_id",
            "invalid_username",
            "invalid_password",
            "invalid_display_name",
            "invalid_email",
            "invalid_workspace_name",
            "invalid_channel_name",
            "invalid_topic",
            "invalid_client_msg_id",
            "invalid_role",
            "empty_body",
            "body_too_long",
            "invalid_body",
            "invalid_limit",
            "invalid_cursor",
            "invalid_thread_root",
            "invalid_members",
            "invalid_emoji",
            "invalid_status",
            "invalid_seq",
            "message_deleted",
            "cannot_leave_dm",
            "not_allowed_for_dm",
            "invalid_reset_token",
            "invalid_file",
            "too_many_files",
            "query_too_long",
            "invalid_preferences",
            "invalid_push_subscription",
            "unauthorized",
            "invalid_credentials",
            "forbidden",
            "not_in_channel",
            "wrong_password",
            "registration_closed",
            "invalid_signature",
            "url_expired",
            "upload_used",
            "not_found",
            "user_not_found",
            "workspace_not_found",
            "channel_not_found",
            "message_not_found",
            "invite_not_found",
            "file_not_found",
            "session_not_found",
            "method_not_allowed",
            "username_taken",
            "channel_name_taken",
            "already_member",
            "too_many_reactions",
            "upload_incomplete",
            "request_timeout",
            "invite_expired",
            "payload_too_large",
            "file_too_large",
            "quota_exceeded",
            "unsupported_media_type",
            "rate_limited",
            "too_many_sockets",
            "internal",
            "unavailable",
        ];
        assert_eq!(
            json,
            pinned.map(|code| format!("\"{code}\"")).to_vec(),
            "every code, in order"
        );
        for code in ErrorCode::iter() {
            assert_eq!(
                serde_json::to_string(&code).unwrap_or_default(),
                format!("\"{}\"", code.as_str())
            );
        }
    }

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::BodyTooLong,
            ErrorCode::ChannelNotFound,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
        ] {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::NotInChannel.as_str(), "not_in_channel");
        assert_eq!(ErrorCode::NotInChannel.http_status(), 403);
        assert_eq!(ErrorCode::Internal.http_status(), 500);
    }
}
