//! What can go wrong in the store, in terms the chat service can act on.

use confab_core::ErrorCode;

/// What a write found missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("user")]
    User,
    #[error("workspace")]
    Workspace,
    #[error("channel")]
    Channel,
    #[error("message")]
    Message,
    #[error("invite")]
    Invite,
    #[error("file")]
    File,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("username is taken")]
    UsernameTaken,
    #[error("a channel with that name exists in this workspace")]
    ChannelNameTaken,
    #[error("already a member")]
    AlreadyMember,
    #[error("the author is not a member of the channel")]
    NotMember,
    #[error("the thread root is not a message of this channel")]
    InvalidThreadRoot,
    #[error("the message was deleted")]
    MessageDeleted,
    /// The message has as many distinct emoji as it may: a new one is refused.
    #[error("the message has {0} distinct reactions, the most it may have")]
    TooManyReactions(usize),
    #[error("{0} not found")]
    NotFound(Missing),
    #[error("invite has expired or is used up")]
    InviteExpired,
    /// Another upload would take the user past their storage quota.
    #[error("the upload would exceed the storage quota")]
    QuotaExceeded,
    /// A send named files that are not complete uploads of its author in the channel's
    /// workspace, free to attach: nothing was written.
    #[error("a file is not the author's to attach here")]
    FilesUnavailable,
    /// The database could not be reached; the same call may succeed later.
    #[error("database unavailable while {context}")]
    Unavailable {
        context: &'static str,
        source: sqlx::Error,
    },
    #[error("database error while {context}")]
    Internal {
        context: &'static str,
        source: sqlx::Error,
    },
}

impl StoreError {
    /// The same failure for each of several callers (a failed batch): the driver error is not
    /// `Clone`, so its text travels instead.
    pub(crate) fn for_each_caller(&self) -> Self {
        match self {
            StoreError::Unavailable { context, source } => StoreError::Unavailable {
                context,
                source: sqlx::Error::Protocol(source.to_string()),
            },
            StoreError::Internal { context, source } => StoreError::Internal {
                context,
                source: sqlx::Error::Protocol(source.to_string()),
            },
            StoreError::MessageDeleted => StoreError::MessageDeleted,
            StoreError::TooManyReactions(n) => StoreError::TooManyReactions(*n),
            StoreError::UsernameTaken => StoreError::UsernameTaken,
            StoreError::ChannelNameTaken => StoreError::ChannelNameTaken,
            StoreError::AlreadyMember => StoreError::AlreadyMember,
            StoreError::NotMember => StoreError::NotMember,
            StoreError::InvalidThreadRoot => StoreError::InvalidThreadRoot,
            StoreError::NotFound(what) => StoreError::NotFound(*what),
            StoreError::InviteExpired => StoreError::InviteExpired,
            StoreError::QuotaExceeded => StoreError::QuotaExceeded,
            StoreError::FilesUnavailable => StoreError::FilesUnavailable,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::UsernameTaken => ErrorCode::UsernameTaken,
            StoreError::ChannelNameTaken => ErrorCode::ChannelNameTaken,
            StoreError::AlreadyMember => ErrorCode::AlreadyMember,
            StoreError::NotMember => ErrorCode::NotInChannel,
            StoreError::InvalidThreadRoot => ErrorCode::InvalidThreadRoot,
            StoreError::MessageDeleted => ErrorCode::MessageDeleted,
            StoreError::TooManyReactions(_) => ErrorCode::TooManyReactions,
            StoreError::NotFound(Missing::User) => ErrorCode::UserNotFound,
            StoreError::NotFound(Missing::Workspace) => ErrorCode::WorkspaceNotFound,
            StoreError::NotFound(Missing::Channel) => ErrorCode::ChannelNotFound,
            StoreError::NotFound(Missing::Message) => ErrorCode::MessageNotFound,
            StoreError::NotFound(Missing::Invite) => ErrorCode::InviteNotFound,
            StoreError::NotFound(Missing::File) | StoreError::FilesUnavailable => {
                ErrorCode::FileNotFound
            }
            StoreError::InviteExpired => ErrorCode::InviteExpired,
            StoreError::QuotaExceeded => ErrorCode::QuotaExceeded,
            StoreError::Unavailable { .. } => ErrorCode::Unavailable,
            StoreError::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// Classifies a driver error: connection trouble is retryable, the rest is a bug or
    /// corruption and is reported as internal.
    pub fn db(context: &'static str, source: sqlx::Error) -> Self {
        match &source {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable { context, source },
            sqlx::Error::Database(db)
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|pg| pg_retryable(pg.code())) =>
            {
                StoreError::Unavailable { context, source }
            }
            _ => StoreError::Internal { context, source },
        }
    }
}

/// PostgreSQL SQLSTATEs after which the same call may succeed: the connection or server went
/// away or is not ready yet, or the server aborted the transaction to resolve a conflict.
/// Only PostgreSQL errors are matched, so SQLite's numeric codes can never fall in here.
fn pg_retryable(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || matches!(
            code,
            "57P01" // admin_shutdown: the server is stopping or killed this backend
                | "57P02" // crash_shutdown
                | "57P03" // cannot_connect_now: starting up or in recovery
                | "53300" // too_many_connections
                | "40001" // serialization_failure
                | "40P01" // deadlock_detected
        )
}

/// Attaches a context string to driver errors, as `.context()` would.
pub(crate) trait DbContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> DbContext<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::db(context, e))
    }
}

/// Whether a driver error is a unique-constraint violation (both SQLite and PostgreSQL
/// report it through the same sqlx kind).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
