//! Throttling of the credential endpoints. API.md: "Login, signup, verification and password
//! endpoints are throttled per client address and per account (429 + `Retry-After`)". Rates are
//! written as Django REST Framework writes them (`"20/min"`: `DEFAULT_THROTTLE_RATES`), and a
//! refusal has DRF's body: `{"detail": "Request was throttled. Expected available in N seconds."}`.
//!
//! The counting is governor's (GCRA, one timestamp per key: a full burst of `N` at once, then one
//! more every `period / N`). Counts live in this process: several instances of an app each count
//! their own share.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::warn_loudly;
use crate::error::ApiError;

/// `N/period`, the period one of `s`, `m`, `h`, `d` or a word starting with one (`sec`, `min`,
/// `hour`, `day`), as DRF's `SimpleRateThrottle.parse_rate` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: NonZeroU32,
    pub period: Duration,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let bad = || format!("{s:?}: expected a rate such as 20/min (requests per s, min, hour or day)");
        let (requests, period) = s.trim().split_once('/').ok_or_else(bad)?;
        let requests = requests.trim().parse::<NonZeroU32>().map_err(|_| bad())?;
        let period = match period.trim().chars().next() {
            Some('s') => Duration::from_secs(1),
            Some('m') => Duration::from_secs(60),
            Some('h') => Duration::from_secs(3600),
            Some('d') => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        Ok(Rate { requests, period })
    }
}

impl Rate {
    /// `n/min` (`n` of 0 counts as 1).
    pub const fn per_minute(n: u32) -> Rate {
        let requests = match NonZeroU32::new(n) {
            Some(n) => n,
            None => NonZeroU32::MIN,
        };
        Rate { requests, period: Duration::from_secs(60) }
    }

    fn quota(self) -> Quota {
        let every = (self.period / self.requests.get()).max(Duration::from_nanos(1));
        Quota::with_period(every).unwrap_or_else(|| Quota::per_second(self.requests)).allow_burst(self.requests)
    }
}

/// The client's address, when the app is served with it (`axum::serve(listener,
/// router.into_make_service_with_connect_info::<SocketAddr>())`); `None` otherwise, and then
/// only the per-account limits apply (a warning says so once).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // axum's own extractor, so that `MockConnectInfo` (tests) is honoured too.
        let info = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await.ok();
        Ok(ClientAddress(info.map(|ConnectInfo(addr)| addr.ip())))
    }
}

/// The throttles of the credential endpoints: one count per client address, one per account
/// (the normalised email an attempt names).
#[derive(Debug)]
pub struct AuthThrottle {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
    warned: std::sync::Once,
}

/// Forget keys not seen for a full period every this many checks, so memory follows the active
/// clients, not every address ever seen.
const PRUNE_EVERY: u64 = 1024;

impl AuthThrottle {
    pub fn new(per_address: Rate, per_account: Rate) -> AuthThrottle {
        AuthThrottle {
            by_address: RateLimiter::keyed(per_address.quota()),
            by_account: RateLimiter::keyed(per_account.quota()),
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
    use super::*;

    #[test]
    fn rates_read_as_drf_writes_them() {
        let rate = |s: &str| s.parse::<Rate>();
        assert_eq!(rate("20/min").unwrap().period, Duration::from_secs(60));
        assert_eq!(rate("5/s").unwrap().requests.get(), 5);
        assert_eq!(rate(" 100 / day ").unwrap().period, Duration::from_secs(86_400));
        assert_eq!(rate("3/hour").unwrap().period, Duration::from_secs(3600));
        for bad in ["", "20", "0/min", "x/min", "20/week", "-1/s"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_burst_then_429_with_the_wait() {
        let throttle = AuthThrottle::new("3/min".parse().unwrap(), "2/min".parse().unwrap());
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
