//! Who the client is, for the throttles: the TCP peer, or behind a trusted reverse proxy the
//! address it forwarded.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address, when the app is served with it ([`Server`](crate::Server) always is;
/// `axum::serve` with `router.into_make_service_with_connect_info::<SocketAddr>()` too); `None`
/// otherwise, and then only the per-account limits apply (a warning says so once).
///
/// It is the TCP peer, unless the peer is one of `TRUSTED_PROXIES`: then `X-Forwarded-For` is
/// read from the right, skipping the trusted proxies' own entries, and the first other address
/// is the client ([`forwarded_client`]). Entries further left were written by the client and are
/// never believed, and a peer that is not a trusted proxy cannot choose its address with the
/// header. (DRF's `NUM_PROXIES` counts hops instead; naming the proxies also refuses a forged
/// header from a client that reaches the app directly.)
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddress
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // axum's own extractor, so that `MockConnectInfo` (tests) is honoured too.
        let info = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await.ok();
        let app = AppState::from_ref(state);
        let trusted = &app.config().trusted_proxies;
        Ok(ClientAddress(info.map(|ConnectInfo(peer)| forwarded_client(peer.ip(), &parts.headers, trusted))))
    }
}

/// The most `X-Forwarded-For` entries read (from the right): a long header costs bounded work.
const MAX_FORWARDED_HOPS: usize = 32;

/// The client behind `peer`: `peer` itself unless it is in `trusted`; then the rightmost
/// `X-Forwarded-For` entry (over every such header, in order) that is not in `trusted`. When the
/// header is missing, lists only trusted proxies, or has an entry that is not an address where
/// the walk needs one, the answer is the last trusted hop: a client never gets a bucket of its
/// choosing, at worst it shares its proxy's.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else { return peer };
        hops.extend(value.split(','));
    }
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_FORWARDED_HOPS) {
        let Some(ip) = parse_hop(hop.trim()) else { return client };
        if !is_trusted(&ip) {
            return ip;
        }
        client = ip;
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:5678`) as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_static(v));
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted = crate::config::parse_trusted_proxies("10.0.0.0/8, 2001:db8::1").unwrap();
        let proxy = ip("10.0.0.1");
        // A peer that is not a trusted proxy is the client, whatever it writes.
        assert_eq!(forwarded_client(ip("198.51.100.7"), &forwarded(&["203.0.113.5"]), &trusted), ip("198.51.100.7"));
        // Behind a trusted proxy: the rightmost untrusted entry; what the client wrote to the left is ignored.
        assert_eq!(forwarded_client(proxy, &forwarded(&["203.0.113.5"]), &trusted), ip("203.0.113.5"));
        assert_eq!(forwarded_client(proxy, &forwarded(&["1.1.1.1, 203.0.113.5"]), &trusted), ip("203.0.113.5"));
        // Two trusted proxies in a row, and the header split over two lines.
        assert_eq!(
            forwarded_client(proxy, &forwarded(&["1.1.1.1, 203.0.113.5", "10.0.0.2"]), &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            forwarded_client(ip("2001:db8::1"), &forwarded(&["[2001:db8::7]:443"]), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(forwarded_client(proxy, &forwarded(&["203.0.113.5:1234"]), &trusted), ip("203.0.113.5"));
        // No header, only proxies, or garbage where an address is needed: the last trusted hop.
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(forwarded_client(proxy, &forwarded(&["10.0.0.9"]), &trusted), ip("10.0.0.9"));
        assert_eq!(forwarded_client(proxy, &forwarded(&["203.0.113.5, nonsense"]), &trusted), proxy);
        assert_eq!(forwarded_client(proxy, &forwarded(&["203.0.113.5, , 10.0.0.2"]), &trusted), ip("10.0.0.2"));
        // No trusted proxies configured: always the peer.
        assert_eq!(forwarded_client(proxy, &forwarded(&["203.0.113.5"]), &[]), proxy);
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_blocks() {
        assert_eq!(crate::config::parse_trusted_proxies("").unwrap(), vec![]);
        let parsed = crate::config::parse_trusted_proxies(" 127.0.0.1 ,10.0.0.0/8,::1 ").unwrap();
        assert_eq!(parsed.len(), 3);
        assert!(parsed[0].contains(&ip("127.0.0.1")) && !parsed[0].contains(&ip("127.0.0.2")));
        assert!(parsed[1].contains(&ip("10.200.3.4")));
        assert!(crate::config::parse_trusted_proxies("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(crate::config::parse_trusted_proxies("proxy.internal").is_err());
    }
}
