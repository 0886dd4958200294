//! Entity identifiers: UUIDv7 strings, parsed once at the edge so everything past it holds a
//! well-formed ID.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Deserializing validates, as `parse` does: an ID from any wire (the HTTP API, the
        /// internal RPC, a Redis payload) is a well-formed one.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
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

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;

            /// As `parse`, keeping `raw` when it is canonical already (as every ID we send is).
            fn try_from(raw: String) -> Result<Self, ValidationError> {
                let canonical = raw.len() == 36
                    && !raw.bytes().any(|b| b.is_ascii_uppercase())
                    && uuid::Uuid::try_parse(&raw).is_ok();
                if canonical { Ok(Self(raw)) } else { Self::parse(&raw) }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
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
    /// An uploaded file (or an upload not yet complete).
    FileId,
    "file_id"
);
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
    fn ids_from_a_wire_are_validated() {
        let id = UserId::generate();
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<UserId>(&json).ok(), Some(id.clone()));
        let upper = format!("\"{}\"", id.as_str().to_uppercase());
        assert_eq!(serde_json::from_str::<UserId>(&upper).ok(), Some(id));
        for bad in [
            "\"\"",
            "\"../etc/passwd\"",
            "\"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz\"",
            "7",
        ] {
            assert!(
                serde_json::from_str::<UserId>(bad).is_err(),
                "{bad} should be refused"
            );
        }
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
