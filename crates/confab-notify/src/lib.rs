//! Notification sinks: where a digest of notifications goes once the chat service has decided
//! who is told what. Three sinks, one [`Sink`] trait:
//!
//! - [`WebPushSink`]: one RFC 8030 push per registered browser ([`PushTarget`]), its payload
//!   encrypted per RFC 8291 (aes128gcm) and the request signed with VAPID (RFC 8292,
//!   [`VapidKeys`]). The payload is the JSON the service worker reads (notify-contract.md).
//! - [`EmailSink`]: one email per digest over SMTP, plain text and HTML.
//! - [`WebhookSink`]: one signed JSON POST per digest to a URL of the operator's; receivers
//!   check it with [`verify_signature`].
//!
//! A sink makes **one attempt** per [`Sink::deliver`]: it does not sleep or retry. The caller
//! (the chat service's worker) keeps the digest durably and, on [`SinkError::Retry`], tries
//! again after [`backoff`]; on [`SinkError::Permanent`] it gives up. A retried digest may
//! therefore arrive twice (a receiver that timed out after accepting it, or a push to several
//! devices where one failed): receivers dedupe by `message_id`.
//!
//! ```no_run
//! use std::time::Duration;
//! use confab_notify::{Digest, PushTarget, Sink, SinkError, backoff};
//!
//! /// One attempt; `Some(wait)` when the job should be tried again after `wait`.
//! async fn attempt(sink: &dyn Sink, job: &Digest, targets: &[PushTarget], n: u32) -> Option<Duration> {
//!     match sink.deliver(job, targets).await {
//!         Ok(delivered) => {
//!             // Delete the subscriptions in `delivered.gone`; the job is done.
//!             None
//!         }
//!         Err(SinkError::Retry(_)) => {
//!             Some(backoff(n, Duration::from_secs(5), Duration::from_secs(3600)))
//!         }
//!         Err(SinkError::Permanent(_)) => None, // log it; the job is dropped
//!     }
//! }
//! ```
//!
//! Each sink caps its own concurrent requests with a semaphore (`max_concurrent`) and bounds
//! each request with a timeout, so a slow provider holds at most that many of the worker's
//! tasks, each for at most that long.
//!
//! This crate knows nothing of the store or the chat service: it is handed plain values.
//!
//! **TLS** is rustls on ring: reqwest's `rustls-tls` for push services and webhooks (with the
//! webpki roots), lettre's `tokio1-rustls-tls` for `smtps://` and `smtp://…?tls=required`.

mod backoff;
mod email;
mod email_body;
mod http;
mod public;
mod push_payload;
pub mod testing;
mod text;
mod vapid;
mod webhook;
mod webpush;

use serde::{Deserialize, Serialize};

pub use backoff::backoff;
pub use email::EmailSink;
pub use public::{PublicResolver, public_host, public_ip};
pub use push_payload::MAX_PUSH_PAYLOAD;
pub use vapid::{VapidError, VapidKeys};
pub use webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, sign, verify_signature};
pub use webpush::WebPushSink;

/// Who a digest is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub user_id: String,
    pub username: String,
    /// Greets the recipient in emails and names them to a webhook.
    pub display_name: String,
    /// Where [`EmailSink`] sends; `None` makes an email delivery a permanent failure.
    pub email: Option<String>,
}

/// Why the recipient is told of a message; receivers may word or rank them differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A direct message (one-to-one or group).
    Dm,
    /// `@username`.
    Mention,
    /// `@channel` or `@everyone`.
    Channel,
    /// `@here`.
    Here,
    /// A reply in a thread the recipient follows.
    Thread,
    /// Any message, in a channel whose level is `all`.
    All,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Dm => "dm",
            Reason::Mention => "mention",
            Reason::Channel => "channel",
            Reason::Here => "here",
            Reason::Thread => "thread",
            Reason::All => "all",
        }
    }
}

/// One message the recipient is told of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    pub channel_id: String,
    /// `#ops`, or for a DM the other people's names.
    pub channel_label: String,
    /// The author's display name.
    pub author_name: String,
    /// `None` when the server hides message content from notifications: every sink then says
    /// only "New message from Ada in #ops".
    pub body: Option<String>,
    pub reason: Reason,
    pub message_id: String,
    pub seq: i64,
    /// When the message was sent, RFC 3339.
    pub ts: String,
    /// The web client's route to the message, `/w/{ws}/c/{channel}/m/{seq}`; sinks prefix
    /// their `public_url` where they need an absolute link.
    pub path: String,
}

/// What one delivery carries to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub recipient: Recipient,
    /// Oldest first.
    pub items: Vec<DigestItem>,
    /// Channels whose shown notifications the recipient's devices should withdraw (the user
    /// read them elsewhere). Only Web Push can act on this; the other sinks ignore it.
    pub clear: Vec<String>,
}

/// One browser's push subscription (`PushSubscription.toJSON()`), as registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTarget {
    /// The subscription's id in the store; reported back in [`Delivered::gone`].
    pub id: String,
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (uncompressed point).
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// Which sink; stored beside queued deliveries, so the strings are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Push,
    Email,
    Webhook,
}

impl SinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Push => "push",
            SinkKind::Email => "email",
            SinkKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<SinkKind> {
        match s {
            "push" => Some(SinkKind::Push),
            "email" => Some(SinkKind::Email),
            "webhook" => Some(SinkKind::Webhook),
            _ => None,
        }
    }
}

/// What a successful delivery learnt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// [`PushTarget`] ids that can never be delivered to again: the push service answered
    /// 404 or 410 (the browser unsubscribed), or the subscription's keys are unusable. The
    /// caller deletes them.
    pub gone: Vec<String>,
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SinkError {
    /// Worth trying again later: a 5xx or 429 answer, a refused connection, a timeout, an SMTP
    /// 4xx reply.
    #[error("delivery failed, worth retrying: {0}")]
    Retry(String),
    /// Trying again would fail the same way: a 4xx answer, an SMTP 5xx reply, a recipient
    /// without an email address, an endpoint that cannot be reached as configured.
    #[error("delivery failed for good: {0}")]
    Permanent(String),
}

/// A sink that cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct ConfigError {
    pub what: &'static str,
    pub reason: String,
}

/// Where digests go. Implementations make one attempt per call and are shared by the
/// worker's tasks.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    fn kind(&self) -> SinkKind;

    /// One attempt to deliver the digest; the worker retries durably, waiting [`backoff`].
    /// `targets` are the recipient's push subscriptions; only [`WebPushSink`] reads them.
    async fn deliver(
        &self,
        digest: &Digest,
        targets: &[PushTarget],
    ) -> Result<Delivered, SinkError>;
}

/// Seconds since the Unix epoch, for signatures' timestamps and expiries.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_kinds_round_trip_through_their_strings() {
        for kind in [SinkKind::Push, SinkKind::Email, SinkKind::Webhook] {
            assert_eq!(SinkKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str()))
            );
        }
        assert_eq!(SinkKind::parse("sms"), None);
    }

    #[test]
    fn reasons_serialize_as_their_strings() {
        for reason in [
            Reason::Dm,
            Reason::Mention,
            Reason::Channel,
            Reason::Here,
            Reason::Thread,
            Reason::All,
        ] {
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::Value::from(reason.as_str()))
            );
        }
    }
}
