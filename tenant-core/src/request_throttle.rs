//! Throttling of authenticated requests, per user and per company (issue 13, item 3): DRF's
//! `UserRateThrottle` (`DEFAULT_THROTTLE_RATES["user"]`), and a per-tenant count DRF leaves to
//! a custom `ScopedRateThrottle`: one company's users together share `THROTTLE_COMPANY`, so a
//! noisy tenant cannot escape its limit by spreading requests over more users, and cannot take
//! the whole server from the others.
//!
//! Checked as DRF checks throttles, after authentication and permissions: the per-user count in
//! the [`CurrentUser`](crate::CurrentUser) and [`Tenant`](crate::Tenant) extractors once the user
//! is known, the per-company count in [`Tenant`](crate::Tenant) once the membership is verified,
//! so a request naming someone else's company in `X-Company-Id` (a 403) never spends that
//! company's allowance. Past a rate: 429 with `Retry-After` and DRF's body.
//!
//! Counts live in this process by default (governor's GCRA, one timestamp per key). Several
//! instances serving one database each count their own: give them a shared
//! [`ThrottleStore`] (`App::throttle_store`) to count together.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use uuid::Uuid;

use crate::error::ApiError;
use crate::rate::Rate;

/// What a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleScope {
    /// The authenticated user (`THROTTLE_USER`).
    User,
    /// The active company, over all its users (`THROTTLE_COMPANY`).
    Company,
}

/// The future a [`ThrottleStore`] answers with: `Ok(())` to serve the request, `Err(wait)` to
/// refuse it for `wait` (sent as `Retry-After`, rounded up to whole seconds).
pub type ThrottleCheck<'a> = Pin<Box<dyn Future<Output = Result<(), Duration>> + Send + 'a>>;

/// Where request counts are kept when they must be shared: several instances of an app serving
/// one database, behind one load balancer, should refuse the same client at the same total rate.
///
/// Implement it over the shared store you run (Redis with a GCRA script such as `redis-cell`'s
/// `CL.THROTTLE`, or a table), and register it with `App::throttle_store`. `check` counts one
/// request of `id` in `scope` against `rate` (`rate.requests` per `rate.period`, a burst of
/// `requests` allowed). A store that cannot be reached must decide for itself whether to serve
/// (fail open) or refuse; it must not block the request for long either way.
pub trait ThrottleStore: Send + Sync + std::fmt::Debug + 'static {
    /// Counts one request; see the trait's doc.
    fn check(&self, scope: ThrottleScope, id: Uuid, rate: Rate) -> ThrottleCheck<'_>;
}

/// The request throttles of an app: the configured rates (`None`: that throttle is off) and
/// the store of the counts.
#[derive(Debug)]
pub struct RequestThrottle {
    user: Option<Rate>,
    company: Option<Rate>,
    by_user: Option<DefaultKeyedRateLimiter<Uuid>>,
    by_company: Option<DefaultKeyedRateLimiter<Uuid>>,
    shared: OnceLock<Arc<dyn ThrottleStore>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// Forget keys not seen for a full period every this many checks, so memory follows the active
/// users and companies.
const PRUNE_EVERY: u64 = 4096;

impl RequestThrottle {
    /// Rates `THROTTLE_USER` and `THROTTLE_COMPANY` of `config`, counted in this process.
    pub fn new(config: &crate::Config) -> RequestThrottle {
        RequestThrottle {
            user: config.throttle_user,
            company: config.throttle_company,
            by_user: config.throttle_user.map(|rate| RateLimiter::keyed(rate.quota())),
            by_company: config.throttle_company.map(|rate| RateLimiter::keyed(rate.quota())),
            shared: OnceLock::new(),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts from now on in `store` instead of this process. Once only: `Err` with the store
    /// back if one was set already.
    pub fn use_store(&self, store: Arc<dyn ThrottleStore>) -> Result<(), Arc<dyn ThrottleStore>> {
        self.shared.set(store)
    }

    /// Counts one request of `user_id`: 429 [`ApiError::Throttled`] past `THROTTLE_USER`.
    pub async fn user(&self, user_id: Uuid) -> Result<(), ApiError> {
        self.check(ThrottleScope::User, user_id).await
    }

    /// Counts one request in `company_id`: 429 past `THROTTLE_COMPANY`.
    pub async fn company(&self, company_id: Uuid) -> Result<(), ApiError> {
        self.check(ThrottleScope::Company, company_id).await
    }

    async fn check(&self, scope: ThrottleScope, id: Uuid) -> Result<(), ApiError> {
        let (rate, local) = match scope {
            ThrottleScope::User => (self.user, &self.by_user),
            ThrottleScope::Company => (self.company, &self.by_company),
        };
        let Some(rate) = rate else { return Ok(()) };
        let verdict = match (self.shared.get(), local) {
            (Some(store), _) => store.check(scope, id, rate).await,
            (None, Some(limiter)) => {
                self.prune();
                limiter.check_key(&id).map_err(|wait| wait.wait_time_from(self.clock.now()))
            }
            (None, None) => Ok(()),
        };
        verdict.map_err(|wait| ApiError::Throttled(wait.as_secs_f64().ceil().max(1.0) as u64))
    }

    fn prune(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            for limiter in [&self.by_user, &self.by_company].into_iter().flatten() {
                limiter.retain_recent();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn throttle(user: &str, company: &str) -> RequestThrottle {
        let mut config = crate::Config::new("sqlite::memory:");
        config.throttle_user = Some(user.parse().unwrap());
        config.throttle_company = Some(company.parse().unwrap());
        RequestThrottle::new(&config)
    }

    #[tokio::test]
    async fn users_and_companies_are_counted_apart() {
        let t = throttle("3/min", "5/min");
        let (alice, bob, acme) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..3 {
            t.user(alice).await.unwrap();
        }
        let Err(ApiError::Throttled(wait)) = t.user(alice).await else { panic!("Alice's 4th is throttled") };
        assert!((1..=20).contains(&wait), "one more every 20 s: {wait}");
        t.user(bob).await.unwrap();
        for _ in 0..5 {
            t.company(acme).await.unwrap();
        }
        assert!(matches!(t.company(acme).await, Err(ApiError::Throttled(_))));
        t.company(Uuid::now_v7()).await.unwrap();
    }

    #[tokio::test]
    async fn off_counts_nothing() {
        let t = RequestThrottle::new(&crate::Config::new("sqlite::memory:").without_request_throttles());
        let id = Uuid::now_v7();
        for _ in 0..10_000 {
            t.user(id).await.unwrap();
            t.company(id).await.unwrap();
        }
    }

    /// A store that records what it is asked and refuses the second request of any key.
    #[derive(Debug, Default)]
    struct Recording(Mutex<Vec<(ThrottleScope, Uuid, Rate)>>);

    impl ThrottleStore for Recording {
        fn check(&self, scope: ThrottleScope, id: Uuid, rate: Rate) -> ThrottleCheck<'_> {
            Box::pin(async move {
                let mut seen = self.0.lock().unwrap();
                let again = seen.iter().any(|(s, i, _)| *s == scope && *i == id);
                seen.push((scope, id, rate));
                if again { Err(Duration::from_millis(1500)) } else { Ok(()) }
            })
        }
    }

    #[tokio::test]
    async fn a_shared_store_decides_once_set() {
        let t = throttle("1000/min", "1000/min");
        let store = Arc::new(Recording::default());
        t.use_store(store.clone()).unwrap();
        assert!(t.use_store(store.clone()).is_err(), "set once");
        let id = Uuid::now_v7();
        t.user(id).await.unwrap();
        let Err(ApiError::Throttled(wait)) = t.user(id).await else { panic!("the store refused") };
        assert_eq!(wait, 2, "rounded up to whole seconds");
        t.company(id).await.unwrap();
        let seen = store.0.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (ThrottleScope::Company, id, "1000/min".parse().unwrap()));
    }
}
