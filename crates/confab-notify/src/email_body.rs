//! What a digest email says, as plain text and as HTML: a greeting, each message with its
//! channel, author and body (or that its content is hidden) and a link to it, and where to
//! change the settings that sent it. Everything users wrote is HTML-escaped in the HTML part.

use std::fmt::Write;

use crate::text::{PRODUCT, absolute_url, new_message_from};
use crate::{Digest, DigestItem, Reason};

/// The settings page that sends these emails; also the `List-Unsubscribe` target.
pub(crate) fn settings_url(public_url: &str) -> String {
    absolute_url(public_url, "/settings/notifications")
}

pub(crate) fn subject(digest: &Digest) -> String {
    match digest.items.as_slice() {
        [only] => new_message_from(only),
        items => format!("{} new messages in {PRODUCT}", items.len()),
    }
}

/// Why the recipient hears of it, when that is more than "a message was posted".
fn why(reason: Reason) -> Option<&'static str> {
    match reason {
        Reason::Dm => Some("direct message"),
        Reason::Mention => Some("mentioned you"),
        Reason::Channel => Some("@channel"),
        Reason::Here => Some("@here"),
        Reason::Thread => Some("reply in a thread you follow"),
        Reason::All => None,
    }
}

fn intro(digest: &Digest) -> String {
    match digest.items.len() {
        1 => format!("You have a new message in {PRODUCT}:"),
        n => format!("You have {n} new messages in {PRODUCT}:"),
    }
}

/// The item's first line: "#ops · Ada · mentioned you".
fn byline(item: &DigestItem) -> String {
    let mut line = format!("{} · {}", item.channel_label, item.author_name);
    if let Some(why) = why(item.reason) {
        line.push_str(" · ");
        line.push_str(why);
    }
    line
}

fn shown_body(item: &DigestItem) -> String {
    item.body.clone().unwrap_or_else(|| new_message_from(item))
}

pub(crate) fn plain(digest: &Digest, public_url: &str) -> String {
    let mut out = format!(
        "Hi {},\n\n{}\n",
        digest.recipient.display_name,
        intro(digest)
    );
    for item in &digest.items {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "\n{}\n{}\n{}\n",
            byline(item),
            shown_body(item),
            absolute_url(public_url, &item.path)
        );
    }
    let _ = write!(
        out,
        "\n-- \nYou get these emails because of your notification settings:\n{}\n",
        settings_url(public_url)
    );
    out
}

pub(crate) fn html(digest: &Digest, public_url: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family: sans-serif; line-height: 1.4\">\n\
         <p>Hi {},</p>\n<p>{}</p>\n",
        escape(&digest.recipient.display_name),
        escape(&intro(digest)),
    );
    for item in &digest.items {
        let _ = write!(
            out,
            "<div style=\"margin: 16px 0; padding-left: 12px; border-left: 3px solid #ccc\">\n\
             <p style=\"margin: 0; color: #555\">{}</p>\n\
             <p style=\"margin: 4px 0; white-space: pre-wrap\">{}</p>\n\
             <p style=\"margin: 0\"><a href=\"{}\">Open in {PRODUCT}</a></p>\n</div>\n",
            escape(&byline(item)),
            escape(&shown_body(item)),
            escape(&absolute_url(public_url, &item.path)),
        );
    }
    let _ = write!(
        out,
        "<p style=\"color: #777; font-size: 12px\">You get these emails because of your \
         <a href=\"{}\">notification settings</a>.</p>\n</body></html>\n",
        escape(&settings_url(public_url))
    );
    out
}

/// `s` safe as HTML text and inside a double- or single-quoted attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recipient;
    use crate::text::item;

    fn digest(items: Vec<DigestItem>) -> Digest {
        Digest {
            recipient: Recipient {
                user_id: "u1".into(),
                username: "bob".into(),
                display_name: "Bob <b>".into(),
                email: Some("bob@example.com".into()),
            },
            items,
            clear: vec![],
        }
    }

    #[test]
    fn subjects_name_one_message_or_count_several() {
        let one = digest(vec![item("#ops", "Ada", Some("hi"))]);
        assert_eq!(subject(&one), "New message from Ada in #ops");
        let two = digest(vec![
            item("#ops", "Ada", Some("hi")),
            item("Cy", "Cy", None),
        ]);
        assert_eq!(subject(&two), "2 new messages in confab");
    }

    #[test]
    fn html_escapes_everything_users_wrote() {
        let d = digest(vec![item(
            "#<ops>",
            "Ada \"the\" <i>",
            Some("<script>alert('x')</script> & more"),
        )]);
        let html = html(&d, "http://h");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(html.contains("Hi Bob &lt;b&gt;,"));
        assert!(html.contains("#&lt;ops&gt; · Ada &quot;the&quot; &lt;i&gt;"));
        assert!(html.contains("<a href=\"http://h/w/ws1/c/ch1/m/12\">"));
    }

    #[test]
    fn hidden_content_says_who_and_where_only() {
        let d = digest(vec![item("#ops", "Ada", None)]);
        for text in [plain(&d, "http://h"), html(&d, "http://h")] {
            assert!(text.contains("New message from Ada in #ops"), "{text}");
        }
    }
}
