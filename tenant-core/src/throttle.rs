//! Throttling of the credential endpoints. API.md: "Login, signup, verification and password
//! endpoints are throttled per client address and per account (429 + `Retry-After`)". Rates are
//! written as Django REST Framework writes them (`"20/min"`: `DEFAULT_THROTTLE_RATES`), and a
//! refusal has DRF's body: `{"detail": "Request was throttled. Expected available in N seconds."}`.
//!
//! The counting is governor's (GCRA, one timestamp per key: a full burst of `N` at once, then one
//! more every `period / N`). Counts live in this process: several instances of an app each count
//! their own share.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::error::ApiError;
use crate::setting::warn_loudly;

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
    pub fn address(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        self.prune();
        match address {
            Some(ip) => self.by_address.check_key(&ip).map_err(|wait| self.throttled(wait)),
            None => {
                self.warned.call_once(|| {
                    warn_loudly(
                        false,
                        "the client address is unknown: credential endpoints are throttled per account only. \
                         Serve with tenant_core::Server (or \
                         router.into_make_service_with_connect_info::<SocketAddr>())",
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
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            throttle.address(ip).unwrap();
        }
        let Err(ApiError::Throttled(wait)) = throttle.address(ip) else { panic!("the 4th is throttled") };
        assert!((1..=20).contains(&wait), "one more every 20 s: {wait}");
        // Another address, and an unknown one, are not affected.
        throttle.address(Some(IpAddr::from([10, 0, 0, 2]))).unwrap();
        throttle.address(None).unwrap();
        throttle.account("a@example.com").unwrap();
        throttle.account("a@example.com").unwrap();
        assert!(matches!(throttle.account("a@example.com"), Err(ApiError::Throttled(_))));
        throttle.account("b@example.com").unwrap();
    }
}
