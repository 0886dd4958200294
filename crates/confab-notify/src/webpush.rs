//! Web Push: one push per subscribed browser, the payload encrypted for that browser alone
//! (RFC 8291, aes128gcm, by `web-push-native`) and the request signed with the server's VAPID
//! key (RFC 8292, [`VapidKeys`]).
//!
//! The targets of one digest are pushed concurrently, within the sink's limit. The result is
//! the digest's: a subscription the push service no longer knows (404, 410) is reported in
//! [`Delivered::gone`], not as a failure; if any push is worth retrying the whole digest is
//! [`SinkError::Retry`], so a retry pushes again to the browsers that already had it (the
//! notification has the same tag and replaces itself: at worst the device alerts twice).
//! A push refused for good (another 4xx) fails the digest only if no push succeeded; one
//! device refusing must not make the others' successes look failed.

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use futures_util::future::join_all;
use tokio::sync::Semaphore;
use web_push_native::Auth;

use crate::http::{self, Answer};
use crate::public;
use crate::{
    ConfigError, Delivered, Digest, PushTarget, Sink, SinkError, SinkKind, VapidKeys, push_payload,
    unix_now,
};

pub struct WebPushSink {
    vapid: VapidKeys,
    /// The VAPID `sub`: how a push service's operator reaches ours ("mailto:…" or a URL).
    contact: String,
    /// How long a push service keeps a push for a browser that is offline; after that a
    /// notification is stale and better dropped.
    ttl_secs: u32,
    client: reqwest::Client,
    /// Whether endpoints must be on the public internet (users give them: else any member
    /// could make this server send requests into its own network).
    public_only: bool,
    /// Caps pushes in flight across all digests, so a burst does not open a connection per
    /// device at once.
    permits: Semaphore,
    timeout: Duration,
}

/// What happened to one target's push.
enum Outcome {
    Sent,
    Gone,
    Failed(SinkError),
}

impl WebPushSink {
    pub fn new(
        vapid: VapidKeys,
        contact: impl Into<String>,
        ttl_secs: u32,
        max_concurrent: usize,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let contact = contact.into();
        if !(contact.starts_with("mailto:") || contact.starts_with("https://")) {
            return Err(ConfigError {
                what: "VAPID contact",
                reason: "must be a mailto: or https: URL (RFC 8292 §2.1)".into(),
            });
        }
        Ok(Self {
            vapid,
            contact,
            ttl_secs,
            client: http::client(timeout)?,
            public_only: false,
            permits: Semaphore::new(max_concurrent.max(1)),
            timeout,
        })
    }

    /// Pushes only to endpoints on the public internet: an address literal or a name that
    /// resolves inside (this machine, a private network) makes the subscription gone.
    pub fn only_public_endpoints(mut self) -> Result<Self, ConfigError> {
        self.client = http::public_client(self.timeout)?;
        self.public_only = true;
        Ok(self)
    }

    async fn push(&self, target: &PushTarget, plaintext: &[u8], urgency: &str) -> Outcome {
        let Some((ua_public, ua_auth)) = subscription_keys(target) else {
            // A subscription whose keys do not decode can never be pushed to; the browser
            // would register a fresh one.
            return Outcome::Gone;
        };
        let Ok(endpoint) = reqwest::Url::parse(&target.endpoint) else {
            return Outcome::Failed(SinkError::Permanent("push endpoint is not a URL".into()));
        };
        if let Err(why) = http::reachable_scheme(&endpoint) {
            return Outcome::Failed(SinkError::Permanent(format!("push endpoint: {why}")));
        }
        if self.public_only && !public::public_host(&endpoint) {
            tracing::warn!(
                subscription = target.id,
                "a push endpoint inside; forgotten"
            );
            return Outcome::Gone;
        }
        let audience = origin(&endpoint);
        let body = match web_push_native::encrypt(plaintext.to_vec(), &ua_public, &ua_auth) {
            Ok(body) => body,
            Err(e) => return Outcome::Failed(SinkError::Permanent(format!("encrypting: {e}"))),
        };
        // Waits at most for the pushes ahead of it, each bounded by the client's timeout.
        let Ok(_permit) = self.permits.acquire().await else {
            return Outcome::Failed(SinkError::Retry("push sink is shutting down".into()));
        };
        let sent = self
            .client
            .post(endpoint)
            .header(
                reqwest::header::AUTHORIZATION,
                self.vapid
                    .authorization(&audience, &self.contact, unix_now()),
            )
            .header("TTL", self.ttl_secs)
            .header("Urgency", urgency)
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) if public::refused_as_private(&e) => {
                tracing::warn!(
                    subscription = target.id,
                    "a push endpoint resolves inside; forgotten"
                );
                Outcome::Gone
            }
            Err(e) => Outcome::Failed(http::request_failed(e)),
            Ok(response) => match http::classify(response.status()) {
                Answer::Accepted => Outcome::Sent,
                Answer::Gone => Outcome::Gone,
                Answer::Failed(e) => Outcome::Failed(e),
            },
        }
    }
}

#[async_trait::async_trait]
impl Sink for WebPushSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Push
    }

    async fn deliver(
        &self,
        digest: &Digest,
        targets: &[PushTarget],
    ) -> Result<Delivered, SinkError> {
        let Some(plaintext) = push_payload::build(digest) else {
            return Ok(Delivered::default());
        };
        // Withdrawing notifications must not wake a phone; news may.
        let urgency = if digest.items.is_empty() {
            "normal"
        } else {
            "high"
        };
        let outcomes = join_all(
            targets
                .iter()
                .map(|target| self.push(target, &plaintext, urgency)),
        )
        .await;

        let mut delivered = Delivered::default();
        let (mut sent, mut retry, mut refused) = (0, None, Vec::new());
        for (target, outcome) in targets.iter().zip(outcomes) {
            match outcome {
                Outcome::Sent => sent += 1,
                Outcome::Gone => delivered.gone.push(target.id.clone()),
                Outcome::Failed(e @ SinkError::Retry(_)) => retry = Some(e),
                Outcome::Failed(e @ SinkError::Permanent(_)) => refused.push((&target.id, e)),
            }
        }
        // Subscriptions found gone in an attempt that is retried are found again then.
        if let Some(e) = retry {
            return Err(e);
        }
        if sent == 0
            && let Some((_, e)) = refused.pop()
        {
            return Err(e);
        }
        // Handled here, so logged here: the digest counts as delivered.
        for (subscription, error) in refused {
            tracing::warn!(%subscription, %error, "push refused; other devices had it");
        }
        Ok(delivered)
    }
}

/// The browser's public key and auth secret; `None` when either does not decode.
fn subscription_keys(target: &PushTarget) -> Option<(p256::PublicKey, Auth)> {
    let decode = |s: &str| Base64UrlUnpadded::decode_vec(s.trim_end_matches('=')).ok();
    let public = p256::PublicKey::from_sec1_bytes(&decode(&target.p256dh)?).ok()?;
    let auth = decode(&target.auth)?;
    (auth.len() == 16).then(|| (public, Auth::clone_from_slice(&auth)))
}

/// The VAPID audience: the endpoint's origin, scheme, host and any non-default port
/// (RFC 8292 §2).
fn origin(endpoint: &url::Url) -> String {
    endpoint.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VapidError;

    #[test]
    fn audience_is_the_origin() -> Result<(), url::ParseError> {
        for (endpoint, audience) in [
            (
                "https://fcm.googleapis.com/fcm/send/abc",
                "https://fcm.googleapis.com",
            ),
            ("http://127.0.0.1:8123/push/1", "http://127.0.0.1:8123"),
            ("https://push.example:443/x", "https://push.example"),
        ] {
            assert_eq!(origin(&url::Url::parse(endpoint)?), audience);
        }
        Ok(())
    }

    #[test]
    fn contact_must_be_a_mailto_or_https_url() -> Result<(), VapidError> {
        let keys = VapidKeys::generate()?;
        let new = |c: &str| WebPushSink::new(keys.clone(), c, 60, 1, Duration::from_secs(1));
        assert!(new("mailto:ops@example.com").is_ok());
        assert!(new("https://example.com/contact").is_ok());
        assert!(new("ops@example.com").is_err());
        Ok(())
    }

    #[tokio::test]
    async fn endpoints_this_build_cannot_reach_are_refused_for_good() -> Result<(), VapidError> {
        let sink = WebPushSink::new(
            VapidKeys::generate()?,
            "mailto:ops@example.com",
            60,
            1,
            Duration::from_secs(5),
        )
        .map_err(|e| VapidError::InvalidKey(e.to_string()))?;
        let browser = crate::testing::Subscription::generate().map_err(VapidError::Random)?;
        let digest = crate::Digest {
            recipient: crate::Recipient {
                user_id: "u".into(),
                username: "u".into(),
                display_name: "U".into(),
                email: None,
            },
            items: vec![crate::text::item("#ops", "Ada", Some("hi"))],
            clear: vec![],
        };
        for endpoint in ["ftp://push.example/1", "not a url"] {
            let result = sink
                .deliver(&digest, &[browser.target("s", endpoint)])
                .await;
            assert!(
                matches!(result, Err(SinkError::Permanent(_))),
                "{endpoint}: {result:?}"
            );
        }
        if !crate::http::HTTPS {
            // Port 9 (discard) on loopback: were it tried, it would be a connection error.
            let target = browser.target("s", "https://127.0.0.1:9/push");
            let result = sink.deliver(&digest, &[target]).await;
            assert!(matches!(result, Err(SinkError::Permanent(_))), "{result:?}");
        }
        Ok(())
    }
}
