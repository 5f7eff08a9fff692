//! The database ceiling: pgbench running exactly the statements of one request
//! ([`crate::statements::pgbench_script`]), as the serving role, at the same concurrency; and
//! the ceiling a read chases, its minimal statement set in one round trip
//! ([`crate::statements::minimal_script`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::Result;
use crate::dbwork::DbWork;
use crate::load::Load;
use crate::pg::Database;
use crate::statements::{Read, minimal_script, pgbench_script};

/// Which statement set a ceiling runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// What a request sends today, as bound parameters (`-M prepared`).
    Current,
    /// One simple-protocol message per request (`-M simple`, statements joined by `\;`).
    Minimal,
}

impl Ceiling {
    fn script(self, scenario: Read, ids: usize) -> String {
        match self {
            Ceiling::Current => pgbench_script(scenario, ids),
            Ceiling::Minimal => minimal_script(scenario, ids),
        }
    }

    fn file(self) -> &'static str {
        match self {
            Ceiling::Current => "",
            Ceiling::Minimal => "-minimal",
        }
    }

    /// pgbench's `-M`.
    pub fn protocol(self) -> &'static str {
        match self {
            Ceiling::Current => "prepared",
            Ceiling::Minimal => "simple",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PgbenchResult {
    pub tps: f64,
    pub transactions: u64,
    pub failed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// What PostgreSQL did during the run (filled in by the runner).
    pub db: DbWork,
}

fn pgbench() -> PathBuf {
    crate::pg::bin_dir().map(|d| d.join("pgbench")).filter(|p| p.exists()).unwrap_or_else(|| "pgbench".into())
}

/// Runs the `scenario` script of `ceiling` for `load.seconds` with `load.connections` clients;
/// `log` keeps a per-transaction log for the latency percentiles (off for warm-ups).
pub async fn run(
    db: &Database,
    (scenario, ceiling): (Read, Ceiling),
    ids: usize,
    load: Load,
    work: &Path,
    log: bool,
) -> Result<PgbenchResult> {
    let script = work.join(format!("pgbench-{}{}.sql", scenario.name(), ceiling.file()));
    std::fs::write(&script, ceiling.script(scenario, ids))?;
    let prefix = format!("pgbench-log-{}{}", scenario.name(), ceiling.file());
    for entry in std::fs::read_dir(work)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&format!("{prefix}.")) {
            std::fs::remove_file(entry.path())?;
        }
    }
    let options = PgConnectOptions::from_str(&db.app_url)?;
    let jobs = load.connections.min(2);
    let mut cmd = Command::new(pgbench());
    cmd.current_dir(work)
        .args(["-h", options.get_host(), "-p", &options.get_port().to_string(), "-U", options.get_username()])
        .args(["-n", "-M", ceiling.protocol(), "-c", &load.connections.to_string(), "-j", &jobs.to_string()])
        .args(["-T", &load.seconds.to_string(), "-f"])
        .arg(&script)
        .env("PGPASSWORD", crate::pg::APP_PASSWORD);
    if log {
        cmd.arg("-l").arg(format!("--log-prefix={prefix}"));
    }
    cmd.arg(&db.name);
    let output = tokio::task::spawn_blocking(move || cmd.output()).await??;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if !output.status.success() {
        return Err(format!("pgbench failed ({}):\n{stdout}{stderr}", output.status).into());
    }
    let mut result = parse(&stdout).ok_or_else(|| format!("cannot read pgbench's output:\n{stdout}{stderr}"))?;
    if log {
        let mut micros = Vec::new();
        for entry in std::fs::read_dir(work)?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!("{prefix}.")) {
                let text = std::fs::read_to_string(entry.path())?;
                // client_id transaction_no time script_no time_epoch time_us
                micros.extend(text.lines().filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()));
            }
        }
        if micros.is_empty() {
            return Err(format!("pgbench wrote no transaction log in {}", work.display()).into());
        }
        micros.sort_unstable();
        result.p50_ms = percentile(&micros, 50.0) as f64 / 1000.0;
        result.p99_ms = percentile(&micros, 99.0) as f64 / 1000.0;
    }
    Ok(result)
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn parse(out: &str) -> Option<PgbenchResult> {
    let mut r = PgbenchResult::default();
    let mut tps = None;
    for line in out.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("tps = ") {
            tps = rest.split_whitespace().next()?.parse().ok();
        } else if let Some(rest) = line.strip_prefix("number of transactions actually processed: ") {
            r.transactions = rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("number of failed transactions: ") {
            r.failed = rest.split_whitespace().next()?.parse().ok()?;
        }
    }
    r.tps = tps?;
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pgbench_output() {
        let out = "transaction type: list.sql\nscaling factor: 1\nnumber of clients: 4\n\
                   number of transactions actually processed: 9000\n\
                   number of failed transactions: 0 (0.000%)\nlatency average = 0.800 ms\n\
                   initial connection time = 5.000 ms\ntps = 4500.123456 (without initial connection time)\n";
        let r = parse(out).unwrap();
        assert_eq!((r.transactions, r.failed, r.tps), (9000, 0, 4500.123456));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50.0), 5);
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99.0), 10);
    }
}
