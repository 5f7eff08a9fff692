//! Throttling of the credential endpoints. API.md: "Login, signup, verification and password
//! endpoints are throttled per client address and per account (429 + `Retry-After`)". Rates are
//! written as Django REST Framework writes them (`"20/min"`: `DEFAULT_THROTTLE_RATES`), and a
//! refusal has DRF's body: `{"detail": "Request was throttled. Expected available in N seconds."}`.
//!
//! The counting is governor's (GCRA, one timestamp per key: a full burst of `N` at once, then one
//! more every `period / N`). Counts live in this process: several instances of an app each count
//! their own share.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use ipnet::IpNet;

use crate::app::AppState;
use crate::error::ApiError;
use crate::setting::warn_loudly;

/// The client's address, when the app is served with it (`axum::serve(listener,
/// router.into_make_service_with_connect_info::<SocketAddr>())`); `None` otherwise, and then
/// only the per-account limits apply (a warning says so once).
///
/// It is the TCP peer, unless the peer is one of `TRUSTED_PROXIES`: then `X-Forwarded-For` is
/// read from the right, skipping the trusted proxies' own entries, and the first other address
/// is the client ([`forwarded_client`]). Entries further left were written by the client and are
/// never believed, and a peer that is not a trusted proxy cannot choose its address with the
/// header. (DRF's `NUM_PROXIES` counts hops instead; naming the proxies also refuses a forged
/// header from a client that reaches the app directly.)
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // axum's own extractor, so that `MockConnectInfo` (tests) is honoured too.
        let info = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await.ok();
        let trusted = &state.config().trusted_proxies;
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

/// The throttles of the endpoints that check credentials or send mail: one count per client
/// address, one per account (the normalised email an attempt names); and for invitations, whose
/// mail goes to third parties, one count per inviting company and one per invited address.
#[derive(Debug)]
pub struct AuthThrottle {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    invitations_by_company: DefaultKeyedRateLimiter<uuid::Uuid>,
    invitations_by_address: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
    warned: std::sync::Once,
}

/// Forget keys not seen for a full period every this many checks, so memory follows the active
/// clients, not every address ever seen.
const PRUNE_EVERY: u64 = 1024;

impl AuthThrottle {
    /// The rates of `config`: `THROTTLE_AUTH_ADDRESS`, `THROTTLE_AUTH_ACCOUNT`,
    /// `THROTTLE_INVITATION_COMPANY` and `THROTTLE_INVITATION_ADDRESS`.
    pub fn new(config: &crate::Config) -> AuthThrottle {
        AuthThrottle {
            by_address: RateLimiter::keyed(config.throttle_auth_address.quota()),
            by_account: RateLimiter::keyed(config.throttle_auth_account.quota()),
            invitations_by_company: RateLimiter::keyed(config.throttle_invitation_company.quota()),
            invitations_by_address: RateLimiter::keyed(config.throttle_invitation_address.quota()),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
            warned: std::sync::Once::new(),
        }
    }

    /// Counts one attempt from `address`: 429 [`ApiError::Throttled`] past its rate.
    pub fn address(&self, address: ClientAddress) -> Result<(), ApiError> {
        self.prune();
        match address.0 {
            Some(ip) => self.by_address.check_key(&ip).map_err(|wait| self.throttled(wait)),
            None => {
                self.warned.call_once(|| {
                    warn_loudly(
                        false,
                        "the client address is unknown: credential endpoints are throttled per account only. \
                         Serve with router.into_make_service_with_connect_info::<SocketAddr>()",
                    )
                });
                Ok(())
            }
        }
    }

    /// Counts one attempt on `account` (a normalised email): 429 past its rate.
    pub fn account(&self, account: &str) -> Result<(), ApiError> {
        self.by_account.check_key(&account.to_string()).map_err(|wait| self.throttled(wait))
    }

    /// Counts one invitation of `company` to `address` (normalised): 429 past either rate, so
    /// nobody can make the service mail an address, or mail many, without bound (a revoked
    /// invitation frees the pending quota, not these counts).
    pub fn invitation(&self, company: uuid::Uuid, address: &str) -> Result<(), ApiError> {
        self.prune();
        self.invitations_by_company.check_key(&company).map_err(|wait| self.throttled(wait))?;
        self.invitations_by_address.check_key(&address.to_string()).map_err(|wait| self.throttled(wait))
    }

    fn throttled(&self, wait: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
        ApiError::Throttled(wait.wait_time_from(self.clock.now()).as_secs_f64().ceil().max(1.0) as u64)
    }

    fn prune(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.by_address.retain_recent();
            self.by_account.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
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

    use super::*;

    #[test]
    fn invitations_are_counted_per_company_and_per_address() {
        let mut config = crate::Config::new("sqlite::memory:");
        config.throttle_invitation_company = "3/hour".parse().unwrap();
        config.throttle_invitation_address = "2/hour".parse().unwrap();
        let throttle = AuthThrottle::new(&config);
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        throttle.invitation(a, "x@example.com").unwrap();
        throttle.invitation(a, "x@example.com").unwrap();
        // A third invitation of one address, even from another company, is refused.
        assert!(matches!(throttle.invitation(b, "x@example.com"), Err(ApiError::Throttled(_))));
        // Company a sent 2 (the refused one counted for b): one more, then refused.
        throttle.invitation(a, "y@example.com").unwrap();
        assert!(matches!(throttle.invitation(a, "z@example.com"), Err(ApiError::Throttled(_))));
    }

    #[test]
    fn a_burst_then_429_with_the_wait() {
        let mut config = crate::Config::new("sqlite::memory:");
        config.throttle_auth_address = "3/min".parse().unwrap();
        config.throttle_auth_account = "2/min".parse().unwrap();
        let throttle = AuthThrottle::new(&config);
        let ip = ClientAddress(Some(IpAddr::from([10, 0, 0, 1])));
        for _ in 0..3 {
            throttle.address(ip).unwrap();
        }
        let Err(ApiError::Throttled(wait)) = throttle.address(ip) else { panic!("the 4th is throttled") };
        assert!((1..=20).contains(&wait), "one more every 20 s: {wait}");
        // Another address, and an unknown one, are not affected.
        throttle.address(ClientAddress(Some(IpAddr::from([10, 0, 0, 2])))).unwrap();
        throttle.address(ClientAddress(None)).unwrap();
        throttle.account("a@example.com").unwrap();
        throttle.account("a@example.com").unwrap();
        assert!(matches!(throttle.account("a@example.com"), Err(ApiError::Throttled(_))));
        throttle.account("b@example.com").unwrap();
    }
}
