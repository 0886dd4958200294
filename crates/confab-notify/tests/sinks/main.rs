//! The sinks against real receivers on loopback: an HTTP server for webhooks and push
//! services, aiosmtpd for email. Every wait is bounded by [`WAIT`].

mod email;
mod receiver;
mod webhook;
mod webpush;

use std::time::Duration;

use confab_notify::{Digest, DigestItem, Reason, Recipient};

/// The longest any test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// `fut`, or a failed test after [`WAIT`].
pub async fn within<F: std::future::Future>(fut: F) -> F::Output {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(out) => out,
        Err(_) => panic!("nothing within {WAIT:?}"),
    }
}

pub fn item(channel: &str, label: &str, author: &str, body: Option<&str>, seq: i64) -> DigestItem {
    DigestItem {
        channel_id: channel.into(),
        channel_label: label.into(),
        author_name: author.into(),
        body: body.map(Into::into),
        reason: Reason::Mention,
        message_id: format!("message-{seq}"),
        seq,
        ts: "2026-05-01T10:00:00Z".into(),
        path: format!("/w/ws1/c/{channel}/m/{seq}"),
    }
}

pub fn digest(email: Option<&str>, items: Vec<DigestItem>, clear: Vec<String>) -> Digest {
    Digest {
        recipient: Recipient {
            user_id: "user-bob".into(),
            username: "bob".into(),
            display_name: "Bob".into(),
            email: email.map(Into::into),
        },
        items,
        clear,
    }
}
