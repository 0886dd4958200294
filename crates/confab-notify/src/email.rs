//! Email: a digest becomes one message to the recipient's address over SMTP, plain text and
//! HTML alternatives (email_body.rs), with `List-Unsubscribe` pointing at the notification
//! settings and `Auto-Submitted` so that vacation responders stay quiet (RFC 3834).
//!
//! The relay is given as a URL, lettre's: `smtps://[user:password@]host[:port]` (TLS),
//! `smtp://…?tls=required` (STARTTLS), or plain `smtp://…` (for a relay on the same host or
//! network, such as a local Postfix that does the TLS onwards); a path is the EHLO name.

use std::time::Duration;

use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

use crate::email_body;
use crate::{ConfigError, Delivered, Digest, PushTarget, Sink, SinkError, SinkKind};

pub struct EmailSink {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Prefixed to items' paths: a mail client needs absolute links.
    public_url: String,
    /// Bounds a whole send, connection to QUIT; the transport's own timeout is per command.
    timeout: Duration,
    /// Caps SMTP connections open at once: relays limit connections per client.
    permits: Semaphore,
}

impl EmailSink {
    /// `from` is a mailbox, `confab <noreply@example.com>` or a bare address.
    pub fn new(
        smtp_url: &str,
        from: &str,
        public_url: impl Into<String>,
        max_concurrent: usize,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let from: Mailbox =
            from.parse()
                .map_err(|e: lettre::address::AddressError| ConfigError {
                    what: "email from address",
                    reason: e.to_string(),
                })?;
        Ok(Self {
            transport: transport(smtp_url, timeout)?,
            from,
            public_url: public_url.into(),
            timeout,
            permits: Semaphore::new(max_concurrent.max(1)),
        })
    }

    fn message(&self, digest: &Digest) -> Result<Message, SinkError> {
        let Some(email) = &digest.recipient.email else {
            return Err(SinkError::Permanent(
                "recipient has no email address".into(),
            ));
        };
        let address: Address = email
            .parse()
            .map_err(|e| SinkError::Permanent(format!("recipient's email address: {e}")))?;
        let to = Mailbox::new(Some(digest.recipient.display_name.clone()), address);
        // Quoted-printable always: any relay carries it, however long the lines users wrote.
        let part = |content_type: ContentType, text: String| {
            Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
                .map(|body| SinglePart::builder().header(content_type).body(body))
                .map_err(|_| SinkError::Permanent("email body could not be encoded".into()))
        };
        let alternatives = MultiPart::alternative()
            .singlepart(part(
                ContentType::TEXT_PLAIN,
                email_body::plain(digest, &self.public_url),
            )?)
            .singlepart(part(
                ContentType::TEXT_HTML,
                email_body::html(digest, &self.public_url),
            )?);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email_body::subject(digest))
            // Spam filters mark mail without one.
            .message_id(self.message_id())
            .header(ListUnsubscribe(format!(
                "<{}>",
                email_body::settings_url(&self.public_url)
            )))
            .header(AutoSubmitted)
            .multipart(alternatives)
            .map_err(|e| SinkError::Permanent(format!("email could not be built: {e}")))
    }

    /// `<random@from-domain>`: the sender's domain, which the relay vouches for, rather than
    /// this host's name, which may be a container's. `None` (lettre then uses the host's
    /// name) only if the OS has no randomness to give.
    fn message_id(&self) -> Option<String> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).ok()?;
        Some(format!(
            "<{}@{}>",
            hex::encode(id),
            self.from.email.domain()
        ))
    }
}

#[async_trait::async_trait]
impl Sink for EmailSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Email
    }

    async fn deliver(
        &self,
        digest: &Digest,
        _targets: &[PushTarget],
    ) -> Result<Delivered, SinkError> {
        if digest.items.is_empty() {
            return Ok(Delivered::default());
        }
        let message = self.message(digest)?;
        // Waits at most for the sends ahead of it, each bounded by the timeout below.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SinkError::Retry("email sink is shutting down".into()))?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(SinkError::Retry(format!(
                "smtp send took longer than {:?}",
                self.timeout
            ))),
            Ok(Ok(_)) => Ok(Delivered::default()),
            Ok(Err(e)) => Err(smtp_failed(&e)),
        }
    }
}

/// An SMTP 5xx reply (no such mailbox, refused) or a message the client could not send is
/// permanent; a 4xx reply (greylisting, a full mailbox, a busy relay), a dropped connection
/// or a timeout is worth a retry.
fn smtp_failed(e: &lettre::transport::smtp::Error) -> SinkError {
    if e.is_permanent() || e.is_client() {
        SinkError::Permanent(format!("smtp: {e}"))
    } else {
        SinkError::Retry(format!("smtp: {e}"))
    }
}

fn transport(
    smtp_url: &str,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, ConfigError> {
    let invalid = |reason: String| ConfigError {
        what: "smtp url",
        reason,
    };
    let url = url::Url::parse(smtp_url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
        return Err(invalid("must be smtp:// or smtps:// with a host".into()));
    }
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|e| invalid(e.to_string()))?
        .timeout(Some(timeout))
        .build())
}

/// `List-Unsubscribe` (RFC 2369): mail clients show an "unsubscribe" button leading to it.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): automatic replies are not sent to it.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_smtp_and_smtps_urls() {
        let t = Duration::from_secs(1);
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost",
            "smtp://user:p%40ss@relay.internal:25/confab.example",
            "smtps://relay.example:465",
            "smtp://relay.example:587?tls=required",
        ] {
            assert!(transport(ok, t).is_ok(), "{ok}");
        }
        for bad in ["http://relay", "relay:25", "smtp://relay?tls=sometimes"] {
            assert!(transport(bad, t).is_err(), "{bad}");
        }
    }

    #[test]
    fn needs_a_from_mailbox() {
        let new = |from: &str| {
            EmailSink::new(
                "smtp://localhost",
                from,
                "http://h",
                1,
                Duration::from_secs(1),
            )
        };
        assert!(new("confab <noreply@example.com>").is_ok());
        assert!(new("noreply@example.com").is_ok());
        assert!(new("not an address").is_err());
    }
}
