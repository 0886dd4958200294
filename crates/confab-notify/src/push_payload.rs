//! The plaintext of a push (notify-contract.md): `{"notifications":[{tag, title, body, url,
//! channel_id, seq}], "clear":[channel ids]}`, made to fit what push services carry.
//!
//! Push services take about 4 KiB of encrypted body (RFC 8030 §7.2 says at least 4096 bytes;
//! aes128gcm adds 86 bytes of header and 17 of padding and tag), so the plaintext is kept to
//! [`MAX_PUSH_PAYLOAD`]: bodies are cut, and items that still do not fit are left out, newest
//! kept, with `clear` always carried whole when it fits at all.

use serde::Serialize;

use crate::text::{PRODUCT, headline, new_message_from, truncate};
use crate::{Digest, DigestItem};

/// The most plaintext bytes one push carries.
pub const MAX_PUSH_PAYLOAD: usize = 3800;

/// A notification shows a few lines; more only costs room other channels could use.
const MAX_BODY_BYTES: usize = 1000;
/// Titles are names; a group DM of many people can still make a long one.
const MAX_TITLE_BYTES: usize = 200;
/// Below this a body says too little to be worth cutting further; the item is left out.
const MIN_BODY_BYTES: usize = 40;

#[derive(Serialize)]
struct Payload<'a> {
    notifications: Vec<Notification<'a>>,
    clear: &'a [String],
}

#[derive(Serialize)]
struct Notification<'a> {
    /// The channel: a browser replaces the notification of the same tag, so a channel shows
    /// one notification, its latest.
    tag: &'a str,
    title: String,
    body: String,
    url: &'a str,
    channel_id: &'a str,
    seq: i64,
}

impl<'a> Notification<'a> {
    fn new(item: &'a DigestItem) -> Self {
        let (title, body) = match &item.body {
            Some(body) => (headline(item), body.clone()),
            None => (PRODUCT.to_owned(), new_message_from(item)),
        };
        Notification {
            tag: &item.channel_id,
            title: truncate(&title, MAX_TITLE_BYTES),
            body: truncate(&body, MAX_BODY_BYTES),
            url: &item.path,
            channel_id: &item.channel_id,
            seq: item.seq,
        }
    }
}

/// The plaintext for `digest`, at most [`MAX_PUSH_PAYLOAD`] bytes; `None` when there is
/// nothing to show or withdraw.
pub(crate) fn build(digest: &Digest) -> Option<Vec<u8>> {
    if digest.items.is_empty() && digest.clear.is_empty() {
        return None;
    }
    // A channel's notifications replace each other on the device, so only the latest of each
    // is worth its bytes. Newest first, so the newest are the ones that fit.
    let mut latest: Vec<&DigestItem> = Vec::new();
    for item in digest.items.iter().rev() {
        if !latest.iter().any(|kept| kept.channel_id == item.channel_id) {
            latest.push(item);
        }
    }

    let mut clear: &[String] = &digest.clear;
    while !clear.is_empty() && size(&[], clear) > MAX_PUSH_PAYLOAD {
        // Only a clear of some ninety channels at once gets here; the first listed go.
        clear = &clear[1..];
    }
    let mut shown: Vec<Notification> = Vec::new();
    let mut used = size(&[], clear);
    'items: for item in latest {
        let mut candidate = Notification::new(item);
        loop {
            // An array grows by the element and, after the first, a comma.
            let grown = used + json_len(&candidate) + usize::from(!shown.is_empty());
            if grown <= MAX_PUSH_PAYLOAD {
                used = grown;
                shown.push(candidate);
                break;
            }
            if candidate.body.len() <= MIN_BODY_BYTES {
                // Full: older items are left out.
                break 'items;
            }
            candidate.body = truncate(&candidate.body, candidate.body.len() / 2);
        }
    }
    // Oldest first, as the service worker shows them.
    shown.reverse();
    serde_json::to_vec(&Payload {
        notifications: shown,
        clear,
    })
    .ok()
}

fn json_len(value: &impl Serialize) -> usize {
    serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX / 2)
}

fn size(notifications: &[Notification], clear: &[String]) -> usize {
    #[derive(Serialize)]
    struct Sized<'b, 'a> {
        notifications: &'b [Notification<'a>],
        clear: &'b [String],
    }
    json_len(&Sized {
        notifications,
        clear,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Recipient;
    use crate::text::item;

    fn digest(items: Vec<DigestItem>, clear: Vec<String>) -> Digest {
        Digest {
            recipient: Recipient {
                user_id: "u1".into(),
                username: "bob".into(),
                display_name: "Bob".into(),
                email: None,
            },
            items,
            clear,
        }
    }

    fn parse(bytes: Option<Vec<u8>>) -> Value {
        bytes
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn is_the_contracts_json() {
        let payload = parse(build(&digest(
            vec![item("#ops", "Ada", Some("hi @bob"))],
            vec!["c9".into()],
        )));
        assert_eq!(
            payload,
            json!({"notifications": [{
                "tag": "0190c0de-0000-7000-8000-000000000001", "title": "Ada in #ops",
                "body": "hi @bob", "url": "/w/ws1/c/ch1/m/12",
                "channel_id": "0190c0de-0000-7000-8000-000000000001", "seq": 12}],
             "clear": ["c9"]})
        );
    }

    #[test]
    fn hidden_content_names_only_the_author_and_channel() {
        let payload = parse(build(&digest(vec![item("#ops", "Ada", None)], vec![])));
        assert_eq!(payload["notifications"][0]["title"], "confab");
        assert_eq!(
            payload["notifications"][0]["body"],
            "New message from Ada in #ops"
        );
    }

    #[test]
    fn nothing_to_show_or_clear_is_no_push() {
        assert!(build(&digest(vec![], vec![])).is_none());
        let payload = parse(build(&digest(vec![], vec!["c1".into()])));
        assert_eq!(payload, json!({"notifications": [], "clear": ["c1"]}));
    }

    #[test]
    fn keeps_each_channels_latest() {
        let mut first = item("#ops", "Ada", Some("first"));
        first.seq = 1;
        let mut second = item("#ops", "Ada", Some("second"));
        second.seq = 2;
        let mut other = item("#dev", "Cy", Some("elsewhere"));
        other.channel_id = "dev".into();
        let payload = parse(build(&digest(vec![first, other, second], vec![])));
        let bodies: Vec<&str> = payload["notifications"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["body"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(bodies, ["elsewhere", "second"]);
    }

    #[test]
    fn large_digests_fit_keeping_the_newest_and_clear() {
        let items: Vec<DigestItem> = (0..40)
            .map(|i| {
                let mut it = item("#ops", "Ada", Some(&"é long words ".repeat(200)));
                it.channel_id = format!("channel-{i}");
                it.seq = i;
                it
            })
            .collect();
        let clear: Vec<String> = (0..20).map(|i| format!("cleared-{i}")).collect();
        let bytes = build(&digest(items, clear.clone())).unwrap_or_default();
        assert!(bytes.len() <= MAX_PUSH_PAYLOAD, "{}", bytes.len());
        let payload = parse(Some(bytes));
        assert_eq!(payload["clear"], json!(clear));
        let shown = payload["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(shown.len() >= 2, "{} shown", shown.len());
        assert_eq!(shown.last().map(|n| n["seq"].clone()), Some(json!(39)));
        for n in &shown {
            assert!(n["body"].as_str().is_some_and(|b| b.ends_with('…')));
        }
    }

    #[test]
    fn a_huge_clear_is_cut_to_fit() {
        let clear: Vec<String> = (0..500).map(|i| format!("{i:036}")).collect();
        let bytes = build(&digest(vec![], clear)).unwrap_or_default();
        assert!(bytes.len() <= MAX_PUSH_PAYLOAD);
        assert!(
            parse(Some(bytes))["clear"]
                .as_array()
                .is_some_and(|c| c.len() > 50)
        );
    }
}
