//! Whose pages may talk to this server: a browser's `Origin` is the server's own or on
//! `allowed_origins`. One rule for WebSocket handshakes and for requests authenticated by the
//! browser session cookie.

/// `public_url` as an origin: lowercase `scheme://host[:port]`, a default port left out, no
/// path. `None` when it is not an http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim().to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = match (scheme, authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host,
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Whether a browser `origin` may act on this server: it is on `allowed` (`*` for any), or it
/// is the server's own, which is exactly `public`'s scheme, host and port when that is
/// configured; without it, `http://` and the `host` the request came to, and only when that
/// host is an IP address or `localhost`, because a name could be an attacker's domain pointed
/// at this server (DNS rebinding), which would make any page "same host".
pub fn origin_allowed(
    origin: &str,
    host: Option<&str>,
    allowed: &[String],
    public: Option<&str>,
) -> bool {
    let origin = origin.to_ascii_lowercase();
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    if let Some(public) = public {
        return origin == public;
    }
    let Some(host) = host else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        // `[::1]:8080`, `127.0.0.1:8080`, `localhost:8080`; an IPv6 literal keeps its brackets.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    let literal = name == "localhost"
        || name.parse::<std::net::IpAddr>().is_ok()
        || name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|n| n.parse::<std::net::Ipv6Addr>().is_ok());
    literal && origin == format!("http://{host}")
}
