//! The email sink against a real SMTP server (aiosmtpd): what arrives is one message with
//! plain-text and HTML parts, links that work from a mail client, user text escaped in the
//! HTML, and the headers that keep it polite; the relay's refusals become retries or not.

use std::time::Duration;

use confab_notify::{EmailSink, Sink, SinkError, SinkKind};
use confab_testkit::SmtpServer;

use super::{PUBLIC_URL, WAIT, digest, item, within};

fn sink(smtp_url: &str) -> EmailSink {
    EmailSink::new(
        smtp_url,
        "confab <noreply@confab.test>",
        PUBLIC_URL,
        2,
        WAIT,
    )
    .expect("email sink")
}

/// The message's headers, unfolded, and its parts' content types and decoded bodies.
struct Mail {
    headers: String,
    parts: Vec<(String, String)>,
}

impl Mail {
    fn parse(data: &str) -> Mail {
        let data = data.replace("\r\n", "\n");
        let (headers, body) = data.split_once("\n\n").expect("headers, then a body");
        let headers = headers.replace("\n ", " ").replace("\n\t", " ");
        let boundary = headers
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a multipart boundary");
        let parts = body
            .split(&format!("--{boundary}"))
            .skip(1)
            .filter(|part| !part.starts_with("--"))
            .map(|part| {
                let (part_headers, content) =
                    part.trim_start().split_once("\n\n").expect("part headers");
                let part_headers = part_headers.to_ascii_lowercase();
                assert!(
                    part_headers.contains("content-transfer-encoding: quoted-printable"),
                    "{part_headers}"
                );
                let decoded =
                    quoted_printable::decode(content.trim(), quoted_printable::ParseMode::Robust)
                        .expect("quoted-printable");
                let content_type = part_headers
                    .lines()
                    .find_map(|l| l.strip_prefix("content-type: "))
                    .expect("content type")
                    .to_owned();
                (content_type, String::from_utf8(decoded).expect("utf-8"))
            })
            .collect();
        Mail {
            headers: headers.to_owned(),
            parts,
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in {}", self.headers))
    }

    fn part(&self, content_type: &str) -> &str {
        self.parts
            .iter()
            .find(|(t, _)| t.starts_with(content_type))
            .map(|(_, body)| body.as_str())
            .unwrap_or_else(|| panic!("no {content_type} part"))
    }
}

#[tokio::test]
async fn a_digest_is_one_email_with_text_and_html() {
    let mut server = SmtpServer::start().await.expect("aiosmtpd");
    let sink = sink(&server.url());
    assert_eq!(sink.kind(), SinkKind::Email);
    let d = digest(
        Some("bob@example.com"),
        vec![
            item(
                "ch-ops",
                "#ops",
                "Ada",
                Some("<script>alert(1)</script> deploy done"),
                12,
            ),
            item(
                "ch-dev",
                "#dev",
                "Cy",
                Some("second: ünïcode & a long line ".repeat(8).trim()),
                4,
            ),
        ],
        vec![],
    );

    within(sink.deliver(&d, &[])).await.expect("delivered");

    let message = server.next_message(WAIT).await.expect("a message");
    assert_eq!(message.mail_from, "noreply@confab.test");
    assert_eq!(message.rcpt_tos, ["bob@example.com"]);
    let mail = Mail::parse(&message.data);
    assert_eq!(mail.header("Subject"), "2 new messages in confab");
    assert!(
        mail.header("To").contains("<bob@example.com>"),
        "{}",
        mail.header("To")
    );
    assert!(mail.header("From").contains("<noreply@confab.test>"));
    assert_eq!(
        mail.header("List-Unsubscribe"),
        "<http://127.0.0.1:8080/settings/notifications>"
    );
    assert_eq!(mail.header("Auto-Submitted"), "auto-generated");
    assert!(
        mail.header("Message-ID").ends_with("@confab.test>"),
        "{}",
        mail.header("Message-ID")
    );
    assert!(
        mail.header("Content-Type")
            .starts_with("multipart/alternative")
    );
    assert_eq!(mail.parts.len(), 2);

    let plain = mail.part("text/plain");
    let html = mail.part("text/html");
    let second_body = "second: ünïcode & a long line ".repeat(8);
    for text in [plain, html] {
        assert!(
            text.contains("http://127.0.0.1:8080/w/ws1/c/ch-ops/m/12"),
            "{text}"
        );
        assert!(
            text.contains("http://127.0.0.1:8080/w/ws1/c/ch-dev/m/4"),
            "{text}"
        );
        assert!(text.contains("#ops · Ada · mentioned you"), "{text}");
    }
    assert!(
        plain.contains("<script>alert(1)</script> deploy done"),
        "{plain}"
    );
    assert!(plain.contains(second_body.trim()), "{plain}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; deploy done"),
        "{html}"
    );
    assert!(
        html.contains(&second_body.trim().replace('&', "&amp;")),
        "{html}"
    );
}

#[tokio::test]
async fn one_message_is_named_in_the_subject_even_when_hidden() {
    let mut server = SmtpServer::start().await.expect("aiosmtpd");
    let d = digest(
        Some("bob@example.com"),
        vec![item("ch-ops", "#ops", "Ada", None, 1)],
        vec![],
    );
    within(sink(&server.url()).deliver(&d, &[]))
        .await
        .expect("delivered");
    let mail = Mail::parse(&server.next_message(WAIT).await.expect("a message").data);
    assert_eq!(mail.header("Subject"), "New message from Ada in #ops");
    assert!(
        mail.part("text/plain")
            .contains("New message from Ada in #ops")
    );
}

#[tokio::test]
async fn relay_refusals_are_retried_only_when_temporary() {
    let server = SmtpServer::start().await.expect("aiosmtpd");
    let sink = sink(&server.url());
    let to =
        |email: Option<&str>| digest(email, vec![item("c", "#ops", "Ada", Some("hi"), 1)], vec![]);

    let result = within(sink.deliver(&to(Some("tempfail@example.com")), &[])).await;
    assert!(matches!(result, Err(SinkError::Retry(_))), "{result:?}");
    let result = within(sink.deliver(&to(Some("reject@example.com")), &[])).await;
    assert!(matches!(result, Err(SinkError::Permanent(_))), "{result:?}");
    let result = within(sink.deliver(&to(None), &[])).await;
    assert!(matches!(result, Err(SinkError::Permanent(_))), "{result:?}");
    let result = within(sink.deliver(&to(Some("not an address")), &[])).await;
    assert!(matches!(result, Err(SinkError::Permanent(_))), "{result:?}");

    let port = confab_testkit::free_port().expect("a free port");
    let down = EmailSink::new(
        &format!("smtp://127.0.0.1:{port}"),
        "noreply@confab.test",
        PUBLIC_URL,
        1,
        Duration::from_secs(5),
    )
    .expect("email sink");
    let result = within(down.deliver(&to(Some("bob@example.com")), &[])).await;
    assert!(matches!(result, Err(SinkError::Retry(_))), "{result:?}");
}
