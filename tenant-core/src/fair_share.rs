//! A bound on the pooled connections one company's requests hold at once (issue 17, item 4), so
//! one tenant's heavy or stuck requests cannot take the whole pool and starve the others.
//!
//! Each company gets `DATABASE_MAX_CONNECTIONS_PER_COMPANY` permits; a tenant request holds one
//! for as long as it holds its connection (the [`crate::Tenant`] and then the
//! [`crate::Scoped`] transaction carry it). The company is only known once the membership
//! statement has run on a connection, so the permit is taken right after it: when none is free,
//! the request gives its connection back first and then waits for a permit, so a waiting request
//! of a saturated company never holds a connection another company could use. Waiting is
//! bounded ([`WAIT`]); past it the answer is 503 with `Retry-After`, as for a busy pool.
//!
//! Counts are per process, like the pool they share out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// The longest a request waits for its company's permit, as long as the pool's own acquire
/// timeout: a saturated company's request waits no longer than any request waits for the pool.
pub const WAIT: Duration = Duration::from_secs(5);

/// Forget idle companies every this many acquisitions, so the map follows the active companies.
const PRUNE_EVERY: u64 = 1024;

/// The most `(user, requested company)` pairs [`CompanyConnections::member_company`] keeps; past
/// it the map starts again empty (a miss only costs that request the multi-trip path).
const MAX_MEMBERS: usize = 100_000;

/// One company's permit: its connection share, held until the request's transaction ends.
#[derive(Debug)]
pub struct CompanyPermit(#[allow(dead_code)] OwnedSemaphorePermit);

/// The per-company connection shares of one pool.
#[derive(Debug)]
pub struct CompanyConnections {
    per_company: usize,
    companies: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
    acquisitions: AtomicU64,
    /// The company each `(user, X-Company-Id or none)` last resolved to (see
    /// [`CompanyConnections::member_company`]).
    members: Mutex<HashMap<(Uuid, Option<Uuid>), Uuid>>,
}

impl CompanyConnections {
    /// `per_company` connections for each company; `None` (no limit) when it is 0.
    pub fn new(per_company: u32) -> Option<CompanyConnections> {
        (per_company > 0).then(|| CompanyConnections {
            per_company: per_company as usize,
            companies: Mutex::default(),
            acquisitions: AtomicU64::new(0),
            members: Mutex::default(),
        })
    }

    fn semaphore(&self, company_id: Uuid) -> Arc<Semaphore> {
        let mut companies = self.companies.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.acquisitions.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // A semaphore no request holds or waits on is referenced by the map alone.
            companies.retain(|_, semaphore| Arc::strong_count(semaphore) > 1);
        }
        companies.entry(company_id).or_insert_with(|| Arc::new(Semaphore::new(self.per_company))).clone()
    }

    /// The company that `user` asking for `requested` (`X-Company-Id`, or `None` for their
    /// default) was last verified a member of, if known: the share a one-trip read takes before
    /// its membership is checked again in the same round trip (`tenant_read.rs`). Never an
    /// authorisation: only whose share is held. A non-member never gets an entry, so naming a
    /// company one does not belong to never holds that company's share.
    pub fn member_company(&self, user: Uuid, requested: Option<Uuid>) -> Option<Uuid> {
        self.members.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&(user, requested)).copied()
    }

    /// Records a verified membership for [`CompanyConnections::member_company`].
    pub fn remember_member(&self, user: Uuid, requested: Option<Uuid>, company: Uuid) {
        let mut members = self.members.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if members.len() >= MAX_MEMBERS && !members.contains_key(&(user, requested)) {
            members.clear();
        }
        members.insert((user, requested), company);
    }

    /// Forgets what [`CompanyConnections::remember_member`] recorded (the membership is gone).
    pub fn forget_member(&self, user: Uuid, requested: Option<Uuid>) {
        self.members.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&(user, requested));
    }

    /// A permit of `company_id` if one is free now.
    pub fn try_acquire(&self, company_id: Uuid) -> Option<CompanyPermit> {
        self.semaphore(company_id).try_acquire_owned().ok().map(CompanyPermit)
    }

    /// Waits up to [`WAIT`] for a permit of `company_id`; `None` past it.
    pub async fn acquire(&self, company_id: Uuid) -> Option<CompanyPermit> {
        let semaphore = self.semaphore(company_id);
        match tokio::time::timeout(WAIT, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Some(CompanyPermit(permit)),
            // The semaphore is never closed; a timeout is the only other way out.
            _ => None,
        }
    }

    /// Companies currently tracked (for tests of the pruning).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.companies.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_no_limit() {
        assert!(CompanyConnections::new(0).is_none());
        assert!(CompanyConnections::new(1).is_some());
    }

    #[tokio::test]
    async fn each_company_has_its_own_share() {
        let shares = CompanyConnections::new(2).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let a1 = shares.try_acquire(a).expect("a first permit");
        let _a2 = shares.try_acquire(a).expect("a second permit");
        assert!(shares.try_acquire(a).is_none(), "a third is over the share");
        // Another company is not affected.
        let _b1 = shares.try_acquire(b).expect("b's own share");
        // A permit given back is available again, to a waiter first.
        let waiter = tokio::spawn(async move { shares.acquire(a).await.is_some() });
        tokio::task::yield_now().await;
        drop(a1);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_is_bounded() {
        let shares = CompanyConnections::new(1).unwrap();
        let a = Uuid::now_v7();
        let _held = shares.try_acquire(a).unwrap();
        let started = tokio::time::Instant::now();
        assert!(shares.acquire(a).await.is_none());
        assert_eq!(started.elapsed(), WAIT);
    }

    #[test]
    fn idle_companies_are_forgotten() {
        let shares = CompanyConnections::new(1).unwrap();
        let busy = Uuid::now_v7();
        let held = shares.try_acquire(busy).unwrap();
        // The last of these acquisitions prunes first, then adds its own company.
        for _ in 0..PRUNE_EVERY - 1 {
            drop(shares.try_acquire(Uuid::now_v7()));
        }
        assert_eq!(shares.tracked(), 2, "the busy company and the newest one");
        // The company whose permit is held kept its semaphore: its share is still taken.
        assert!(shares.try_acquire(busy).is_none());
        drop(held);
        assert!(shares.try_acquire(busy).is_some());
    }
}
