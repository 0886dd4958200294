//! Size limits that validation needs and configuration sets, and the largest frame they allow.

/// The per-message limits. Both the HTTP and the WebSocket path validate with the same
/// `Limits`, so a message over a limit is refused the same way on either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Slack's limit: 40,000 characters.
    pub max_body_chars: usize,
    /// The body's size once encoded as a JSON string (UTF-8, with `"`, `\\`, newline, tab and
    /// carriage return escaped). Derived from the WebSocket frame limit so that every valid
    /// `send` fits one frame; see [`Limits::for_frame_limit`].
    pub max_body_bytes: usize,
    /// Distinct emoji on one message (Slack allows 50); one more is refused.
    pub max_reactions_per_message: usize,
    /// `@name`s resolved in one body; names beyond it stay text and mention nobody.
    pub max_mentions_per_message: usize,
}

/// Room a `send` frame needs besides its body: the type tag, channel and thread IDs, the
/// client message ID and up to ten file IDs, with generous slack.
pub const FRAME_ENVELOPE_BYTES: usize = 1024;

/// Users a reaction names on the wire, in order of reacting; `count` has them all. A reaction
/// by every member of a 100k-member channel must still fit a frame.
pub const REACTION_USERS_SHOWN: usize = 20;
/// Repliers a thread root names on the wire, in order of first reply.
pub const REPLY_USERS_SHOWN: usize = 10;

/// A user ID as a JSON array element: 36 characters, two quotes, a comma.
const USER_ID_JSON_BYTES: usize = 39;
/// The longest emoji [`crate::Emoji`] accepts, in bytes (a 66-byte short code).
const EMOJI_BYTES: usize = 66;
/// Everything in a message object besides its body and its lists: field names, IDs,
/// sequence numbers, timestamps, flags, with slack.
const MESSAGE_FIXED_BYTES: usize = 1024;
/// A file on the wire at its largest: a name of 255 four-byte characters, a content type of
/// up to 128 bytes (sniffed types are shorter), and its ID, size, dimensions and field names.
const FILE_JSON_BYTES: usize = 255 * 4 + 128 + 256;
/// Everything in an event frame besides the objects it carries: type, kind, channel ID, seq,
/// a reaction's emoji and user, with slack.
const EVENT_FIXED_BYTES: usize = 512;

impl Limits {
    pub const DEFAULT_MAX_BODY_CHARS: usize = 40_000;
    pub const DEFAULT_MAX_REACTIONS: usize = 50;
    pub const DEFAULT_MAX_MENTIONS: usize = 100;

    /// Body limits for a given maximum WebSocket frame size, other limits at their defaults.
    pub fn for_frame_limit(max_body_chars: usize, max_frame_bytes: usize) -> Self {
        Self {
            max_body_chars,
            max_body_bytes: max_frame_bytes.saturating_sub(FRAME_ENVELOPE_BYTES),
            max_reactions_per_message: Self::DEFAULT_MAX_REACTIONS,
            max_mentions_per_message: Self::DEFAULT_MAX_MENTIONS,
        }
    }

    /// The largest message object these limits allow on the wire, in bytes of JSON: the
    /// longest body, every reaction with its shown users, the shown repliers, every resolved
    /// mention and every file. Nothing in it grows with the channel's size.
    pub fn max_message_json_bytes(&self) -> usize {
        let reaction = EMOJI_BYTES + 48 + REACTION_USERS_SHOWN * USER_ID_JSON_BYTES;
        MESSAGE_FIXED_BYTES
            + self.max_body_bytes
            + self.max_reactions_per_message * reaction
            + REPLY_USERS_SHOWN * USER_ID_JSON_BYTES
            + self.max_mentions_per_message * USER_ID_JSON_BYTES
            + crate::files::MAX_FILES_PER_MESSAGE * FILE_JSON_BYTES
    }

    /// The largest frame the server can send: an event carrying a reply and its root, each as
    /// large as [`Limits::max_message_json_bytes`] allows. A socket's write buffer holds at
    /// least this, so no event is ever unwritable.
    pub fn max_event_frame_bytes(&self) -> usize {
        EVENT_FIXED_BYTES + 2 * self.max_message_json_bytes()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::for_frame_limit(Self::DEFAULT_MAX_BODY_CHARS, 64 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_event_at_the_defaults() {
        // 1 KiB + 63 KiB of body + 50 reactions × 894 + 390 + 3,900 + 10 files × 1,404,
        // twice, + 512: 252 KiB.
        let limits = Limits::default();
        assert_eq!(limits.max_message_json_bytes(), 128_566);
        assert_eq!(limits.max_event_frame_bytes(), 257_644);
    }
}
