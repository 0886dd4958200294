//! Size limits that validation needs and configuration sets.

/// The message-body limits. Both the HTTP and the WebSocket path validate a body with the same
/// `Limits`, so a body over the limit is refused the same way on either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Slack's limit: 40,000 characters.
    pub max_body_chars: usize,
    /// The body's size once encoded as a JSON string (UTF-8, with `"`, `\\`, newline, tab and
    /// carriage return escaped). Derived from the WebSocket frame limit so that every valid
    /// `send` fits one frame; see [`Limits::for_frame_limit`].
    pub max_body_bytes: usize,
}

/// Room a `send` frame needs besides its body: the type tag, channel and thread IDs, the
/// client message ID and up to ten file IDs, with generous slack.
pub const FRAME_ENVELOPE_BYTES: usize = 1024;

impl Limits {
    pub const DEFAULT_MAX_BODY_CHARS: usize = 40_000;

    /// Body limits for a given maximum WebSocket frame size.
    pub fn for_frame_limit(max_body_chars: usize, max_frame_bytes: usize) -> Self {
        Self {
            max_body_chars,
            max_body_bytes: max_frame_bytes.saturating_sub(FRAME_ENVELOPE_BYTES),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::for_frame_limit(Self::DEFAULT_MAX_BODY_CHARS, 64 * 1024)
    }
}
