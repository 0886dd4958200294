//! The words every sink uses for an item, so a push, an email and the web client say the same
//! thing: "Ada in #ops", "New message from Ada in #ops", and absolute links.

use crate::DigestItem;

/// The product's name, where a notification names no channel or counts messages.
pub(crate) const PRODUCT: &str = "confab";

/// Where the message was, or `None` for a one-to-one DM, whose label is the author's own name
/// ("New message from Ada in Ada" says nothing more than "New message from Ada").
fn place(item: &DigestItem) -> Option<&str> {
    (item.channel_label != item.author_name).then_some(item.channel_label.as_str())
}

/// "Ada in #ops" (or "Ada" for a one-to-one DM).
pub(crate) fn headline(item: &DigestItem) -> String {
    match place(item) {
        Some(place) => format!("{} in {place}", item.author_name),
        None => item.author_name.clone(),
    }
}

/// "New message from Ada in #ops": what is shown instead of a hidden body, and an email's
/// subject for a single message.
pub(crate) fn new_message_from(item: &DigestItem) -> String {
    format!("New message from {}", headline(item))
}

/// `public_url` + `path`, with exactly one slash between them.
pub(crate) fn absolute_url(public_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        public_url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// `s` cut to at most `max_bytes` bytes on a character boundary, with "…" marking a cut.
pub(crate) fn truncate(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_owned();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max_bytes.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", s[..end].trim_end())
}

#[cfg(test)]
pub(crate) fn item(channel_label: &str, author_name: &str, body: Option<&str>) -> DigestItem {
    DigestItem {
        channel_id: "0190c0de-0000-7000-8000-000000000001".into(),
        channel_label: channel_label.into(),
        author_name: author_name.into(),
        body: body.map(Into::into),
        reason: crate::Reason::Mention,
        message_id: "0190c0de-0000-7000-8000-0000000000aa".into(),
        seq: 12,
        ts: "2026-05-01T10:00:00Z".into(),
        path: "/w/ws1/c/ch1/m/12".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_channel_but_not_a_one_to_one_dm() {
        assert_eq!(headline(&item("#ops", "Ada", None)), "Ada in #ops");
        assert_eq!(
            new_message_from(&item("#ops", "Ada", None)),
            "New message from Ada in #ops"
        );
        assert_eq!(
            new_message_from(&item("Ada", "Ada", None)),
            "New message from Ada"
        );
        assert_eq!(headline(&item("Ada, Bob", "Ada", None)), "Ada in Ada, Bob");
    }

    #[test]
    fn absolute_urls_have_one_slash() {
        for base in ["http://h:8080", "http://h:8080/"] {
            assert_eq!(
                absolute_url(base, "/w/a/c/b/m/1"),
                "http://h:8080/w/a/c/b/m/1"
            );
        }
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééééé", 8);
        assert!(cut.len() <= 8, "{cut}");
        assert_eq!(cut, "éé…");
        assert_eq!(truncate("word word", 8), "word…");
    }
}
