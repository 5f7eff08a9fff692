//! The load benchmark of issue 4: the demo app on PostgreSQL with row-level security, driven by
//! wrk, beside a hand-written axum + sqlx baseline and the pgbench ceiling. `src/main.rs` is the
//! command; `src/bin/baseline.rs` the baseline server; this library holds the pieces.

pub mod callgrind;
pub mod dbwork;
pub mod explain;
pub mod http;
pub mod load;
pub mod logins;
pub mod machine;
pub mod measure;
pub mod options;
pub mod pg;
pub mod pgbench;
pub mod procs;
pub mod report;
pub mod results;
pub mod results_file;
pub mod run;
pub mod seed;
pub mod statements;
pub mod trace;

/// Every failure of a step, with a message that says which.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
