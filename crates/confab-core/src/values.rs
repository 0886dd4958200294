//! Validated domain values. Each can only be built by `parse`, so a value of one of these
//! types is known to be within its rules everywhere past the edge.

use serde::Serialize;

use crate::error::ValidationError;
use crate::limits::Limits;

fn has_control(s: &str, allowed: &[char]) -> bool {
    s.chars().any(|c| c.is_control() && !allowed.contains(&c))
}

macro_rules! string_value {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(Username);
string_value!(DisplayName);
string_value!(Email);
string_value!(WorkspaceName);
string_value!(ChannelName);
string_value!(Topic);
string_value!(StatusText);
string_value!(ClientMsgId);
string_value!(MessageBody);
string_value!(Emoji);

impl Username {
    /// Usernames are case-insensitive, as on Slack: stored lowercase.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        let first_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let chars_ok = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if (2..=32).contains(&len) && first_ok && chars_ok {
            Ok(Self(name))
        } else {
            Err(ValidationError::Username)
        }
    }
}

/// A password as typed. Never stored; the store keeps only its Argon2id hash.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        // The upper bound keeps hashing cost bounded for hostile input.
        if (8..=256).contains(&raw.chars().count()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::Password)
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl DisplayName {
    /// 1 to 80 characters that show something, with no control or bidirectional control
    /// characters (which would let a name pass itself off as another).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let len = name.chars().count();
        if (1..=80).contains(&len)
            && !has_control(name, &[])
            && crate::names::is_visible(name)
            && !name.chars().any(crate::names::is_bidi_control)
        {
            Ok(Self(name.to_owned()))
        } else {
            Err(ValidationError::DisplayName)
        }
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim();
        let valid = email.len() <= 254
            && !has_control(email, &[])
            && !email.contains(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty() && host.contains('.') && !host.contains('@')
            });
        if valid {
            Ok(Self(email.to_owned()))
        } else {
            Err(ValidationError::Email)
        }
    }
}

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if (1..=80).contains(&name.chars().count()) && !has_control(name, &[]) {
            Ok(Self(name.to_owned()))
        } else {
            Err(ValidationError::WorkspaceName)
        }
    }
}

impl ChannelName {
    /// Slack's rules: lowercase, no spaces or periods, at most 80 characters. Letters of any
    /// script are allowed as long as they are not uppercase.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let len = name.chars().count();
        // Fillers such as U+3164 count as letters; nothing invisible belongs in a name.
        let chars_ok = name.chars().all(|c| {
            ((c.is_alphanumeric() && !c.is_uppercase()) || matches!(c, '-' | '_'))
                && !crate::names::is_invisible(c)
        });
        if (1..=80).contains(&len) && chars_ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(ValidationError::ChannelName)
        }
    }
}

impl Topic {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let topic = raw.trim();
        if topic.chars().count() <= 250 && !has_control(topic, &['\n']) {
            Ok(Self(topic.to_owned()))
        } else {
            Err(ValidationError::Topic)
        }
    }
}

impl StatusText {
    /// What a user says they are up to ("In a meeting"): at most 100 characters on one line,
    /// with no bidirectional controls; empty clears it.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let text = raw.trim();
        if text.chars().count() <= 100
            && !has_control(text, &[])
            && !text.chars().any(crate::names::is_bidi_control)
        {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValidationError::StatusText)
        }
    }
}

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::ClientMsgId)
        }
    }
}

impl MessageBody {
    /// A body is kept exactly as sent (Markdown is whitespace-sensitive) but must have some
    /// visible content and stay within both limits.
    pub fn parse(raw: &str, limits: &Limits) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::EmptyBody);
        }
        if has_control(raw, &['\n', '\t', '\r']) {
            return Err(ValidationError::BodyControlChars);
        }
        if raw.chars().count() > limits.max_body_chars {
            return Err(ValidationError::BodyTooManyChars {
                max: limits.max_body_chars,
            });
        }
        if json_string_len(raw) > limits.max_body_bytes {
            return Err(ValidationError::BodyTooManyBytes {
                max: limits.max_body_bytes,
            });
        }
        Ok(Self(raw.to_owned()))
    }
}

impl Emoji {
    /// A `:short_code:` (lowercase letters, digits, `_`, `+`, `-`) or one Unicode emoji
    /// (possibly a sequence joined by ZWJ or with modifiers), as Slack accepts.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let short_code = raw.len() > 2
            && raw.len() <= 66
            && raw.starts_with(':')
            && raw.ends_with(':')
            && raw[1..raw.len() - 1].bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-')
            });
        let count = raw.chars().count();
        let unicode = (1..=16).contains(&count)
            && raw.chars().any(is_emoji_char)
            && raw.chars().all(|c| is_emoji_char(c) || is_emoji_joiner(c));
        if short_code || unicode {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::Emoji)
        }
    }
}

fn is_emoji_char(c: char) -> bool {
    matches!(u32::from(c),
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA | 0x231A..=0x23FF
        | 0x24C2 | 0x25AA..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55 | 0x3030 | 0x303D
        | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

/// Characters that only combine emoji: ZWJ, variation selectors, keycap, tags, regional
/// indicators are covered by the emoji range above.
fn is_emoji_joiner(c: char) -> bool {
    matches!(u32::from(c), 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F | 0x0023 | 0x002A | 0x0030..=0x0039)
}

/// Bytes the body takes inside a JSON string when non-ASCII is sent as raw UTF-8 and only the
/// characters JSON requires are escaped (the other control characters are refused earlier).
fn json_string_len(s: &str) -> usize {
    s.len()
        + s.bytes()
            .filter(|b| matches!(b, b'"' | b'\\' | b'\n' | b'\t' | b'\r'))
            .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse(" Alice ").map(Username::into_inner),
            Ok("alice".into())
        );
        for ok in ["ab", "bob.smith", "a_b-c", "0day", &"x".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "a",
            "-ab",
            ".ab",
            "has space",
            "ümlaut",
            "a@b",
            &"x".repeat(33),
        ] {
            assert_eq!(
                Username::parse(bad),
                Err(ValidationError::Username),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse(&"p".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pw").ok()),
            "Some(Password(..))"
        );
    }

    #[test]
    fn channel_names() {
        for ok in [
            "general",
            "dev-ops",
            "q4_plans",
            "日本",
            "a",
            &"c".repeat(80),
        ] {
            assert!(ChannelName::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            " ",
            "General",
            "has space",
            "dot.ted",
            "#hash",
            &"c".repeat(81),
        ] {
            assert_eq!(
                ChannelName::parse(bad),
                Err(ValidationError::ChannelName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn display_workspace_topic_email() {
        assert!(DisplayName::parse("Ada Lovelace").is_ok());
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
        assert!(WorkspaceName::parse("Acme Inc.").is_ok());
        assert!(WorkspaceName::parse(&"w".repeat(81)).is_err());
        assert!(Topic::parse("").is_ok());
        assert!(Topic::parse(&"t".repeat(251)).is_err());
        assert!(Email::parse("a@b.co").is_ok());
        for bad in ["ab", "@b.co", "a@b", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_msg_ids() {
        assert!(ClientMsgId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(ClientMsgId::parse("web:1").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65)] {
            assert!(ClientMsgId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emoji() {
        for ok in [
            ":thumbsup:",
            ":+1:",
            ":skin-tone-2:",
            "👍",
            "👍🏽",
            "👩‍💻",
            "❤️",
            "🇳🇴",
        ] {
            assert!(Emoji::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "::",
            ":Thumbs:",
            "thumbsup",
            "a",
            "👍 👍",
            ":x y:",
            "<script>",
            &"👍".repeat(17),
        ] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bodies_at_and_over_each_limit() {
        let limits = Limits::default();
        assert_eq!(
            MessageBody::parse("", &limits),
            Err(ValidationError::EmptyBody)
        );
        assert_eq!(
            MessageBody::parse(" \n\t", &limits),
            Err(ValidationError::EmptyBody)
        );
        assert_eq!(
            MessageBody::parse("nul\u{0}", &limits),
            Err(ValidationError::BodyControlChars)
        );
        assert!(MessageBody::parse("  *keeps* whitespace\n", &limits).is_ok());
        assert!(MessageBody::parse(&"a".repeat(40_000), &limits).is_ok());
        assert_eq!(
            MessageBody::parse(&"a".repeat(40_001), &limits),
            Err(ValidationError::BodyTooManyChars { max: 40_000 })
        );
        // 20,000 four-byte characters are under the character limit but not the byte limit.
        let emoji = "😀".repeat(20_000);
        assert_eq!(
            MessageBody::parse(&emoji, &limits),
            Err(ValidationError::BodyTooManyBytes {
                max: limits.max_body_bytes
            })
        );
        let fits = "😀".repeat(limits.max_body_bytes / 4);
        assert!(MessageBody::parse(&fits, &limits).is_ok());
        // Escaped characters count twice.
        let quotes = "\"".repeat(limits.max_body_bytes / 2 + 1);
        assert!(MessageBody::parse(&quotes, &limits).is_err());
    }
}
