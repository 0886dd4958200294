//! The public internet, for URLs that users give (push endpoints): never this machine or a
//! private network, whether named by an address literal, a local name, or a public name whose
//! DNS answers point inside (checked where the connection is made, so a name that changes its
//! answers between a check and the request gains nothing).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is on the public internet: not loopback, private, link-local, unique-local,
/// carrier-grade NAT, unspecified or broadcast (nor such an address mapped into IPv6).
pub fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| !public_v4(v4)))
        }
    }
}

fn public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        // Carrier-grade NAT, 100.64.0.0/10.
        || (a == 100 && (b & 0xc0) == 64))
}

/// Whether `url`'s host may be public: a public address literal, or a name that is not this
/// machine's or a local network's by its form (`localhost`, `*.internal`, a bare name). Where
/// a name really points is for [`PublicResolver`] to say.
pub fn public_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => public_v4(v4),
        Some(url::Host::Ipv6(v6)) => public_ip(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !(name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".internal")
                || !name.contains('.'))
        }
        None => false,
    }
}

/// Why a name was not connected to.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no public address")]
pub struct NotPublic(String);

/// A resolver that answers only with public addresses, for an HTTP client that must not be
/// turned against this machine's network.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicResolver;

impl PublicResolver {
    /// The public ones of `addrs`: an error naming `host` if none is.
    pub fn only_public(
        host: &str,
        addrs: impl Iterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, NotPublic> {
        let public: Vec<SocketAddr> = addrs.filter(|a| public_ip(a.ip())).collect();
        if public.is_empty() {
            return Err(NotPublic(host.to_owned()));
        }
        Ok(public)
    }
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public = Self::only_public(&host, found)?;
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether `e` (or what caused it) is [`NotPublic`].
pub(crate) fn refused_as_private(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<NotPublic>() {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_inside_are_not_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!public_ip(inside.parse().expect("ip")), "{inside}");
        }
        for outside in ["8.8.8.8", "100.128.0.1", "2001:4860:4860::8888"] {
            assert!(public_ip(outside.parse().expect("ip")), "{outside}");
        }
    }

    #[test]
    fn hosts_inside_by_their_form_are_not_public() {
        for url in [
            "https://localhost/x",
            "https://push.localhost/x",
            "https://metadata.google.internal/x",
            "https://intranet/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
        ] {
            assert!(!public_host(&url::Url::parse(url).expect("url")), "{url}");
        }
        assert!(public_host(
            &url::Url::parse("https://fcm.googleapis.com/fcm/send/x").expect("url")
        ));
    }

    #[test]
    fn answers_keep_only_public_addresses() {
        let addrs = |list: &[&str]| -> Vec<SocketAddr> {
            list.iter()
                .map(|a| SocketAddr::new(a.parse().expect("ip"), 443))
                .collect()
        };
        let mixed = addrs(&["10.0.0.1", "8.8.8.8", "::1"]);
        assert_eq!(
            PublicResolver::only_public("mixed.example", mixed.into_iter()).expect("one public"),
            addrs(&["8.8.8.8"])
        );
        let inside = addrs(&["127.0.0.1", "192.168.0.1"]);
        assert!(PublicResolver::only_public("inside.example", inside.into_iter()).is_err());
    }

    /// A name this machine resolves to itself is refused where the connection is made.
    #[tokio::test]
    async fn the_resolver_refuses_a_name_for_this_machine() {
        let name: Name = "localhost".parse().expect("a name");
        let error = match PublicResolver.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        assert!(refused_as_private(error.as_ref()), "{error}");
    }

    /// A client built with it refuses such a name before connecting, and says why.
    #[tokio::test]
    async fn a_client_with_it_never_connects_inside() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let client =
            crate::http::public_client(std::time::Duration::from_secs(5)).expect("a client");
        let error = client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .expect_err("refused");
        assert!(refused_as_private(&error), "{error}");
    }
}
