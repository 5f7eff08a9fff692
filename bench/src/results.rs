//! What one run measured, per data set: the read scenarios on the three systems, the create
//! checks, the statement trace and the plans.

use std::time::Duration;

use crate::explain::Explained;
use crate::load::{Scenario, WrkResult};
use crate::pgbench::PgbenchResult;
use crate::statements::Read;
use crate::trace::Traced;

/// list and retrieve on the three systems (four with `--before-bin`) and both ceilings.
#[derive(Debug, Clone)]
pub struct ReadResult {
    pub scenario: Read,
    pub framework: WrkResult,
    /// The `--before-bin` build of the framework.
    pub before: Option<WrkResult>,
    pub baseline: WrkResult,
    /// pgbench, the statements a request sends today.
    pub ceiling: PgbenchResult,
    /// pgbench, the minimal statement set: one round trip (issue 15).
    pub minimal: PgbenchResult,
    /// Requests/s of each measured round, framework and baseline, in round order.
    pub rounds: Vec<(f64, f64)>,
    /// Requests/s of the before build in each round.
    pub before_rounds: Vec<f64>,
}

/// Rows created under load, counted in the database afterwards.
#[derive(Debug, Clone, Default)]
pub struct CreateCheck {
    pub before: i64,
    pub after: i64,
    /// 201 responses.
    pub acknowledged: usize,
    /// 201s whose email is in the table exactly once.
    pub found: usize,
    /// 201s whose row is missing.
    pub lost: usize,
    /// Emails present more than once, or acknowledged twice.
    pub duplicates: usize,
    /// Rows of this run without a 201: requests still in flight when wrk stopped.
    pub unacknowledged: usize,
    /// Requests sent without any response (the bound for `unacknowledged`).
    pub in_flight: u64,
    /// Rows that appeared but were not made by this run's requests.
    pub foreign: i64,
    pub s5xx: u64,
}

impl CreateCheck {
    pub fn ok(&self) -> bool {
        self.s5xx == 0
            && self.lost == 0
            && self.duplicates == 0
            && self.foreign == 0
            && self.unacknowledged as u64 <= self.in_flight
    }

    pub fn sentence(&self) -> String {
        let verdict = if self.ok() {
            "no 5xx, no lost or duplicate rows".to_string()
        } else {
            format!(
                "DISCREPANCY: {} 5xx, {} lost, {} duplicate, {} rows without a request, {} unacknowledged rows for {} requests in flight",
                self.s5xx, self.lost, self.duplicates, self.foreign, self.unacknowledged, self.in_flight
            )
        };
        format!(
            "{verdict}: {} rows before, {} after; {} acknowledged with 201, {} of them found exactly once; \
             {} more rows from requests still in flight when wrk stopped (at most {} were)",
            self.before, self.after, self.acknowledged, self.found, self.unacknowledged, self.in_flight
        )
    }
}

/// Everything measured on one data set.
#[derive(Debug, Clone)]
pub struct DatasetResult {
    pub rows: usize,
    pub companies: usize,
    pub seed_time: Duration,
    pub all_visible: f64,
    pub reads: Vec<ReadResult>,
    /// Framework only: filter_order, update, create.
    pub writes: Vec<(Scenario, WrkResult)>,
    pub create: CreateCheck,
    /// create on the `--before-bin` build, and its check.
    pub create_before: Option<(WrkResult, CreateCheck)>,
    /// The `--before-bin` path.
    pub before_bin: Option<String>,
    /// Why there are no statement counts (pg_stat_statements not loaded), if so.
    pub statements_missing: Option<String>,
    pub rss_framework_kib: u64,
    pub rss_baseline_kib: u64,
    pub traces: Vec<Traced>,
    pub explains: Vec<Explained>,
    pub scripts: Vec<(Read, String)>,
    /// The minimal-set pgbench scripts.
    pub minimal_scripts: Vec<(Read, String)>,
    /// Failed checks (5xx, non-2xx, socket errors, create discrepancies).
    pub problems: Vec<String>,
}
