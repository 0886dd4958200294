//! What makes a name abusable: characters that show nothing, characters that reorder the
//! text around them, and names that look like another. Names (display names, channel names)
//! are refused for the first two; bodies are content and keep whatever the user typed.

/// Characters that render as nothing (or as blank) yet are not whitespace: zero-width
/// characters, word joiners, fillers, blank patterns. A name made only of these and
/// whitespace looks empty; one that has them among letters can hide a difference.
pub fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x2800 | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1D159 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Bidirectional controls: embeddings, overrides, isolates and marks. `\u{202E}nimda` shows
/// as "admin".
pub fn is_bidi_control(c: char) -> bool {
    matches!(u32::from(c), 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Whether a name shows something: a character that is neither whitespace nor invisible.
pub fn is_visible(name: &str) -> bool {
    name.chars().any(|c| !c.is_whitespace() && !is_invisible(c))
}

/// The UTS #39 skeleton of a name: two names with the same skeleton look alike (`gеneral`
/// with a Cyrillic е and `general`), so one workspace may not have both.
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(&name.to_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_show_nothing_or_reorder_or_look_alike() {
        for blank in ["\u{200B}", "\u{3164}", "\u{2800}", "\u{2060}", " \u{200B} "] {
            assert!(!is_visible(blank), "{blank:?}");
        }
        assert!(is_visible("ada"));
        assert!("\u{202E}nimda".chars().any(is_bidi_control));
        assert!(!"ada lovelace".chars().any(is_bidi_control));
        assert_eq!(skeleton("g\u{0435}neral"), skeleton("general"));
        assert_eq!(skeleton("paypa1"), skeleton("paypal"));
        assert_ne!(skeleton("random"), skeleton("general"));
    }
}
