//! The outgoing webhook: one signed JSON POST per digest to the operator's URL, for bridges to
//! chat-ops tools, pagers or SMS gateways.
//!
//! The body:
//! `{"type":"notifications","user":{id,username,display_name},"notifications":[{channel_id,
//! channel_label, author_name, body (null when content is hidden), reason, message_id, seq, ts,
//! url}],"sent_at":<unix seconds>}`, with `url` absolute. Headers `X-Confab-Timestamp: <unix
//! seconds>` and `X-Confab-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" +
//! body)>`; a receiver checks both with [`verify_signature`]. The timestamp is signed so that
//! a captured request cannot be replayed later than the receiver's tolerance.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::Semaphore;

use crate::http::{self, Answer};
use crate::text::absolute_url;
use crate::{
    ConfigError, Delivered, Digest, PushTarget, Reason, Sink, SinkError, SinkKind, unix_now,
};

type HmacSha256 = Hmac<Sha256>;

pub const TIMESTAMP_HEADER: &str = "X-Confab-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Confab-Signature";

pub struct WebhookSink {
    url: reqwest::Url,
    /// The HMAC key shared with the receiver.
    secret: Vec<u8>,
    /// Prefixed to items' paths: receivers are elsewhere and need absolute links.
    public_url: String,
    client: reqwest::Client,
    /// Caps the requests in flight to the receiver, which is often a small service.
    permits: Semaphore,
}

impl WebhookSink {
    pub fn new(
        url: &str,
        secret: impl Into<Vec<u8>>,
        public_url: impl Into<String>,
        max_concurrent: usize,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let url = reqwest::Url::parse(url).map_err(|e| ConfigError {
            what: "webhook url",
            reason: e.to_string(),
        })?;
        http::reachable_scheme(&url).map_err(|reason| ConfigError {
            what: "webhook url",
            reason,
        })?;
        Ok(Self {
            url,
            secret: secret.into(),
            public_url: public_url.into(),
            client: http::client(timeout)?,
            permits: Semaphore::new(max_concurrent.max(1)),
        })
    }

    fn body(&self, digest: &Digest, sent_at: i64) -> Result<Vec<u8>, SinkError> {
        let notifications = digest
            .items
            .iter()
            .map(|item| Notification {
                channel_id: &item.channel_id,
                channel_label: &item.channel_label,
                author_name: &item.author_name,
                body: item.body.as_deref(),
                reason: item.reason,
                message_id: &item.message_id,
                seq: item.seq,
                ts: &item.ts,
                url: absolute_url(&self.public_url, &item.path),
            })
            .collect();
        let body = Body {
            r#type: "notifications",
            user: User {
                id: &digest.recipient.user_id,
                username: &digest.recipient.username,
                display_name: &digest.recipient.display_name,
            },
            notifications,
            sent_at,
        };
        serde_json::to_vec(&body).map_err(|e| SinkError::Permanent(format!("json: {e}")))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    r#type: &'static str,
    user: User<'a>,
    notifications: Vec<Notification<'a>>,
    sent_at: i64,
}

/// The recipient, without their email address: the receiver needs no more to route it.
#[derive(Serialize)]
struct User<'a> {
    id: &'a str,
    username: &'a str,
    display_name: &'a str,
}

#[derive(Serialize)]
struct Notification<'a> {
    channel_id: &'a str,
    channel_label: &'a str,
    author_name: &'a str,
    body: Option<&'a str>,
    reason: Reason,
    message_id: &'a str,
    seq: i64,
    ts: &'a str,
    url: String,
}

#[async_trait::async_trait]
impl Sink for WebhookSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Webhook
    }

    async fn deliver(
        &self,
        digest: &Digest,
        _targets: &[PushTarget],
    ) -> Result<Delivered, SinkError> {
        if digest.items.is_empty() {
            return Ok(Delivered::default());
        }
        // Waits at most for the requests ahead of it, each bounded by the client's timeout.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SinkError::Retry("webhook sink is shutting down".into()))?;
        let now = unix_now();
        let body = self.body(digest, now)?;
        let timestamp = now.to_string();
        let signature = sign(&self.secret, &timestamp, &body);
        let response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, &timestamp)
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(http::request_failed)?;
        match http::classify(response.status()) {
            Answer::Accepted => Ok(Delivered::default()),
            // A webhook's URL is not a subscription that can lapse: a 404 is misconfiguration.
            Answer::Gone => Err(SinkError::Permanent(format!(
                "webhook answered {}",
                response.status()
            ))),
            Answer::Failed(e) => Err(e),
        }
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(b"v1:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// The `X-Confab-Signature` value for `body` sent at `timestamp`: `v1=<lowercase hex>`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("v1={}", hex::encode(tag))
}

/// What a receiver runs on each request: true when `signature` (the `X-Confab-Signature`
/// header) is the secret's signature of `timestamp` and the raw `body`, and `timestamp` is
/// within `tolerance_secs` of `now_unix` (either way, for clock skew). The comparison takes
/// constant time, so the signature cannot be guessed byte by byte.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now_unix: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(sent_at) = timestamp.parse::<i64>() else {
        return false;
    };
    if now_unix.abs_diff(sent_at) > tolerance_secs.unsigned_abs() {
        return false;
    }
    let Some(tag) = signature
        .strip_prefix("v1=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret";

    #[test]
    fn signatures_verify_only_unchanged_and_fresh() {
        let body = br#"{"type":"notifications"}"#;
        let sig = sign(SECRET, "1700000000", body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert!(verify_signature(
            SECRET,
            "1700000000",
            body,
            &sig,
            1700000100,
            300
        ));
        assert!(verify_signature(
            SECRET,
            "1700000000",
            body,
            &sig,
            1699999900,
            300
        ));
        // Replayed too late, or a timestamp from the future.
        assert!(!verify_signature(
            SECRET,
            "1700000000",
            body,
            &sig,
            1700000301,
            300
        ));
        assert!(!verify_signature(
            SECRET,
            "1700000000",
            body,
            &sig,
            1699999699,
            300
        ));
        // The timestamp is signed: moving it forward breaks the signature.
        assert!(!verify_signature(
            SECRET,
            "1700000200",
            body,
            &sig,
            1700000200,
            300
        ));
        assert!(!verify_signature(
            SECRET,
            "1700000000",
            b"{}",
            &sig,
            1700000000,
            300
        ));
        assert!(!verify_signature(
            b"other",
            "1700000000",
            body,
            &sig,
            1700000000,
            300
        ));
        for bad in ["", "v1=", "v1=zz", "v0=00", &sig[3..]] {
            assert!(
                !verify_signature(SECRET, "1700000000", body, bad, 1700000000, 300),
                "{bad}"
            );
        }
        assert!(!verify_signature(
            SECRET, "soon", body, &sig, 1700000000, 300
        ));
    }

    #[test]
    fn refuses_urls_it_cannot_post_to() {
        let new = |url: &str| WebhookSink::new(url, "k", "http://x", 1, Duration::from_secs(1));
        for url in ["not a url", "ftp://example.com/hook"] {
            assert!(new(url).is_err(), "{url}");
        }
        assert!(new("http://127.0.0.1:1/hook").is_ok());
        // Refused at startup, not retried forever as an unreachable host.
        assert_eq!(new("https://example.com/hook").is_ok(), crate::http::HTTPS);
    }
}
