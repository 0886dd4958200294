//! Entity identifiers: UUIDv7 strings, parsed once at the edge so everything past it holds a
//! well-formed ID.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().hyphenated().to_string())
            }

            /// Accepts any UUID spelling and keeps the canonical lowercase hyphenated form, so
            /// two spellings of one ID never look like two IDs.
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                uuid::Uuid::parse_str(raw)
                    .map(|u| Self(u.hyphenated().to_string()))
                    .map_err(|_| ValidationError::InvalidId { what: $what })
            }

            /// For values read back from our own store, which only ever holds canonical IDs.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(UserId, "user_id");
id_type!(WorkspaceId, "workspace_id");
id_type!(ChannelId, "channel_id");
id_type!(MessageId, "message_id");
id_type!(
    /// A signed-in device: one login, one bearer token, the sockets and tickets it opened.
    SessionId,
    "session_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let a = ChannelId::generate();
        let b = ChannelId::generate();
        assert_eq!(ChannelId::parse(a.as_str()).ok(), Some(a.clone()));
        assert!(a < b);
    }

    #[test]
    fn parse_canonicalises_and_rejects_garbage() {
        let id = UserId::generate();
        let upper = id.as_str().to_uppercase();
        assert_eq!(UserId::parse(&upper).ok(), Some(id));
        for bad in [
            "",
            "x",
            "123",
            "../etc/passwd",
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
        ] {
            assert!(UserId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
