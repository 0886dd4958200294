//! What the HTTP sinks (Web Push, webhook) share: one client per sink, and which answers and
//! failures are worth a retry.

use std::time::Duration;

use reqwest::StatusCode;

use crate::{ConfigError, SinkError};

/// Whether requests can be made over `https`: reqwest has rustls (the workspace's feature).
pub(crate) const HTTPS: bool = true;

/// Whether `url` can be requested at all in this build: `http`, or `https` with TLS.
pub(crate) fn reachable_scheme(url: &reqwest::Url) -> Result<(), String> {
    match url.scheme() {
        "http" => Ok(()),
        "https" if HTTPS => Ok(()),
        "https" => Err("https needs TLS, which this build of confab lacks".into()),
        other => Err(format!("scheme {other} is not http or https")),
    }
}

/// A client that gives up on a request after `timeout`, connect included, and follows no
/// redirect: a POST redirected would arrive as a GET elsewhere, and a push service or
/// webhook that moved must be reconfigured, not guessed at.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    build(base(timeout))
}

/// The same, connecting only to public addresses whatever a name resolves to.
pub(crate) fn public_client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    build(base(timeout).dns_resolver(std::sync::Arc::new(crate::public::PublicResolver)))
}

fn base(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, ConfigError> {
    builder.build().map_err(|e| ConfigError {
        what: "http client",
        reason: e.to_string(),
    })
}

/// What an answer's status means for the delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    /// 404 or 410: the resource (a push subscription) no longer exists.
    Gone,
    Failed(SinkError),
}

pub(crate) fn classify(status: StatusCode) -> Answer {
    if status.is_success() {
        Answer::Accepted
    } else if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
        Answer::Gone
    } else if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        Answer::Failed(SinkError::Retry(format!("answered {status}")))
    } else {
        Answer::Failed(SinkError::Permanent(format!("answered {status}")))
    }
}

/// A request that got no answer: the network's failures are transient; a request that could
/// not even be built (an `https` URL without TLS support, a malformed URL) is not.
pub(crate) fn request_failed(e: reqwest::Error) -> SinkError {
    // Without `without_url` the message would carry the URL, which for a push endpoint is a
    // capability (anyone holding it can push to that browser) and must stay out of logs.
    let e = e.without_url();
    if e.is_builder() {
        SinkError::Permanent(format!("request could not be made: {e}"))
    } else {
        SinkError::Retry(format!("no answer: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_this_build_can_request() {
        let check =
            |u: &str| reachable_scheme(&reqwest::Url::parse(u).unwrap_or_else(|_| unreachable!()));
        assert!(check("http://127.0.0.1:1/").is_ok());
        assert_eq!(check("https://push.example/").is_ok(), HTTPS);
        assert!(check("ftp://push.example/").is_err());
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let retry = |s: u16| {
            matches!(
                classify(StatusCode::from_u16(s).unwrap_or(StatusCode::OK)),
                Answer::Failed(SinkError::Retry(_))
            )
        };
        let permanent = |s: u16| {
            matches!(
                classify(StatusCode::from_u16(s).unwrap_or(StatusCode::OK)),
                Answer::Failed(SinkError::Permanent(_))
            )
        };
        assert_eq!(classify(StatusCode::CREATED), Answer::Accepted);
        assert_eq!(classify(StatusCode::NO_CONTENT), Answer::Accepted);
        assert_eq!(classify(StatusCode::GONE), Answer::Gone);
        assert_eq!(classify(StatusCode::NOT_FOUND), Answer::Gone);
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retry(s), "{s}");
        }
        for s in [301, 400, 401, 403, 413] {
            assert!(permanent(s), "{s}");
        }
    }
}
