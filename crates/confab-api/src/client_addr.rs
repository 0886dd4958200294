//! The client's address, for per-address rate limits and the list of devices. Behind a
//! reverse proxy every connection comes from the proxy, so `X-Forwarded-For` is read, but only
//! when the connection comes from a proxy listed in `trusted_proxies` (anyone else could
//! write any address there): walking the header from the right, the first address that is not
//! itself a trusted proxy is the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::ApiState;

/// The address a request comes from, as far as the server can trust.
pub struct ClientAddr(pub IpAddr);

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From addresses (`10.0.0.5`) and networks (`10.0.0.0/24`); the first that does not parse
    /// is the error.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| e.clone())
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values.
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        // `::ffff:10.0.0.5` (a listener on `[::]`) is 10.0.0.5.
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>().map(|a| a.to_canonical()) {
                Ok(addr) => {
                    client = addr;
                    if !self.trusts(addr) {
                        break;
                    }
                }
                // A hop that is no address (garbage, an obfuscated name): stop at the last
                // one that was.
                Err(_) => break,
            }
        }
        client
    }
}

impl FromRequestParts<ApiState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientAddr(state.trusted_proxies.client(peer, forwarded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies =
            TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).expect("valid");
        // Not from a proxy: the header is anyone's to write.
        assert_eq!(
            proxies.client(ip("192.0.2.9"), ["198.51.100.1"].into_iter()),
            ip("192.0.2.9")
        );
        // From a proxy: the last hop it saw.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), ["198.51.100.1"].into_iter()),
            ip("198.51.100.1")
        );
        // A client cannot pass itself off by writing the header's left end: from the right,
        // the first hop that is not a trusted proxy.
        assert_eq!(
            proxies.client(
                ip("127.0.0.1"),
                ["6.6.6.6, 198.51.100.1, 10.1.2.3"].into_iter()
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), ["garbage"].into_iter()),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse(&["not an address".into()]).is_err());
    }
}
