//! The stable error codes clients match on, and the validation errors of domain values.
//!
//! Every layer's error type maps onto one [`ErrorCode`]; [`ErrorCode::http_status`] is the one
//! exhaustive table from code to HTTP status, used by the HTTP API and mirrored in WebSocket
//! error frames.

use serde::{Deserialize, Serialize};

/// A snake_case code that never changes meaning once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    InvalidSeq,
    MessageDeleted,
    CannotLeaveDm,
    NotAllowedForDm,
    InvalidResetToken,
    // 401
    Unauthorized,
    InvalidCredentials,
    // 403
    Forbidden,
    NotInChannel,
    WrongPassword,
    RegistrationClosed,
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
    // 408
    RequestTimeout,
    // 410
    InviteExpired,
    // 413, 415
    PayloadTooLarge,
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
            InvalidJson | InvalidRequest | InvalidId | InvalidUsername | InvalidPassword
            | InvalidDisplayName | InvalidEmail | InvalidWorkspaceName | InvalidChannelName
            | InvalidTopic | InvalidClientMsgId | InvalidRole | EmptyBody | BodyTooLong
            | InvalidBody | InvalidLimit | InvalidCursor | InvalidThreadRoot | InvalidMembers
            | InvalidEmoji | InvalidSeq | InvalidResetToken => 400,
            Unauthorized | InvalidCredentials => 401,
            Forbidden | NotInChannel | WrongPassword | RegistrationClosed => 403,
            NotFound | UserNotFound | WorkspaceNotFound | ChannelNotFound | MessageNotFound
            | InviteNotFound | FileNotFound | SessionNotFound => 404,
            MethodNotAllowed => 405,
            // A DM's members and name are fixed: the request is well formed, the channel is
            // the wrong kind for it.
            UsernameTaken | ChannelNameTaken | AlreadyMember | MessageDeleted
            | TooManyReactions | CannotLeaveDm | NotAllowedForDm => 409,
            RequestTimeout => 408,
            InviteExpired => 410,
            PayloadTooLarge => 413,
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
        use ErrorCode::*;
        match self {
            InvalidJson => "invalid_json",
            InvalidRequest => "invalid_request",
            InvalidId => "invalid_id",
            InvalidUsername => "invalid_username",
            InvalidPassword => "invalid_password",
            InvalidDisplayName => "invalid_display_name",
            InvalidEmail => "invalid_email",
            InvalidWorkspaceName => "invalid_workspace_name",
            InvalidChannelName => "invalid_channel_name",
            InvalidTopic => "invalid_topic",
            InvalidClientMsgId => "invalid_client_msg_id",
            InvalidRole => "invalid_role",
            EmptyBody => "empty_body",
            BodyTooLong => "body_too_long",
            InvalidBody => "invalid_body",
            InvalidLimit => "invalid_limit",
            InvalidCursor => "invalid_cursor",
            InvalidThreadRoot => "invalid_thread_root",
            InvalidMembers => "invalid_members",
            InvalidEmoji => "invalid_emoji",
            InvalidSeq => "invalid_seq",
            MessageDeleted => "message_deleted",
            CannotLeaveDm => "cannot_leave_dm",
            NotAllowedForDm => "not_allowed_for_dm",
            InvalidResetToken => "invalid_reset_token",
            Unauthorized => "unauthorized",
            InvalidCredentials => "invalid_credentials",
            Forbidden => "forbidden",
            NotInChannel => "not_in_channel",
            WrongPassword => "wrong_password",
            RegistrationClosed => "registration_closed",
            NotFound => "not_found",
            UserNotFound => "user_not_found",
            WorkspaceNotFound => "workspace_not_found",
            ChannelNotFound => "channel_not_found",
            MessageNotFound => "message_not_found",
            InviteNotFound => "invite_not_found",
            FileNotFound => "file_not_found",
            SessionNotFound => "session_not_found",
            MethodNotAllowed => "method_not_allowed",
            UsernameTaken => "username_taken",
            ChannelNameTaken => "channel_name_taken",
            AlreadyMember => "already_member",
            TooManyReactions => "too_many_reactions",
            RequestTimeout => "request_timeout",
            InviteExpired => "invite_expired",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            RateLimited => "rate_limited",
            TooManySockets => "too_many_sockets",
            Internal => "internal",
            Unavailable => "unavailable",
        }
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
            ClientMsgId => ErrorCode::InvalidClientMsgId,
            EmptyBody => ErrorCode::EmptyBody,
            Emoji => ErrorCode::InvalidEmoji,
            BodyTooManyChars { .. } | BodyTooManyBytes { .. } => ErrorCode::BodyTooLong,
            BodyControlChars => ErrorCode::InvalidBody,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
