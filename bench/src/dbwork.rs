//! The database's own work per request (issue 15), which wall-clock requests/s on a shared
//! machine hide: the statements PostgreSQL executed (pg_stat_statements, for the serving role in
//! the bench database) and the CPU time its processes used, both between two snapshots around a
//! measured run, divided by the requests of that run.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Connection, PgConnection};

use crate::Result;
use crate::pg::{APP_ROLE, Database};

/// What PostgreSQL did during one measured run (or several, [`DbWork::merge`]d).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbWork {
    /// Executions per statement text (normalised by pg_stat_statements: `$n` for constants) of
    /// the serving role in the bench database; `None` when pg_stat_statements is not loaded.
    pub calls: Option<BTreeMap<String, u64>>,
    /// CPU time (user + system) of the PostgreSQL processes, in microseconds.
    pub cpu_us: Option<u64>,
}

impl DbWork {
    /// Adds another run's counts, so several rounds give one figure per request.
    pub fn merge(&mut self, other: &DbWork) {
        self.calls = match (self.calls.take(), &other.calls) {
            (Some(mut a), Some(b)) => {
                for (query, n) in b {
                    *a.entry(query.clone()).or_insert(0) += n;
                }
                Some(a)
            }
            (None, Some(b)) => Some(b.clone()),
            (a, None) => a,
        };
        self.cpu_us = match (self.cpu_us, other.cpu_us) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }

    /// Statements executed per request.
    pub fn statements_per(&self, requests: u64) -> Option<f64> {
        let calls = self.calls.as_ref()?;
        Some(calls.values().sum::<u64>() as f64 / requests.max(1) as f64)
    }

    /// PostgreSQL CPU microseconds per request.
    pub fn cpu_per(&self, requests: u64) -> Option<f64> {
        Some(self.cpu_us? as f64 / requests.max(1) as f64)
    }

    /// The `n` most executed statements with their executions per request, most first.
    pub fn top(&self, requests: u64, n: usize) -> Vec<(String, f64)> {
        let mut all: Vec<(&String, &u64)> = self.calls.iter().flatten().collect();
        all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        all.into_iter().take(n).map(|(q, c)| (q.clone(), *c as f64 / requests.max(1) as f64)).collect()
    }
}

/// Takes the snapshots: one superuser connection to the bench database, kept for the whole run
/// (its own few statements run as the superuser and are not counted).
pub struct Probe {
    conn: PgConnection,
    /// Whether pg_stat_statements is preloaded (and its extension created in the bench database).
    pub statements: bool,
    /// Why there are no statement counts, for the report.
    pub missing: Option<String>,
    postmaster: Option<u32>,
}

/// CPU of each process at one moment (pid → microseconds).
pub struct Snapshot(HashMap<u32, u64>);

impl Probe {
    /// Connects, creates the extension when the library is loaded, and finds the postmaster (the
    /// parent of this connection's backend). Never fails for a missing pg_stat_statements: an
    /// older server started without it only loses the statement counts.
    pub async fn new(db: &Database) -> Result<Probe> {
        let mut conn = db.owner().await?;
        let preload: String =
            sqlx::query_scalar("SELECT current_setting('shared_preload_libraries')").fetch_one(&mut conn).await?;
        let mut missing = None;
        if !preload.split(',').any(|l| l.trim() == "pg_stat_statements") {
            missing = Some(
                "the PostgreSQL server was started without `shared_preload_libraries = pg_stat_statements` \
                 (restart it with scripts/pg-test-server.sh stop/start to get them)"
                    .to_string(),
            );
        } else if let Err(e) =
            sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(&mut conn).await
        {
            missing = Some(format!("CREATE EXTENSION pg_stat_statements failed: {e}"));
        }
        if let Some(why) = &missing {
            eprintln!("bench: NOTE: no statements per request: {why}");
        }
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await?;
        let postmaster = parent(backend as u32);
        if postmaster.is_none() {
            eprintln!("bench: NOTE: cannot find the postmaster in /proc: no PostgreSQL CPU per request");
        }
        Ok(Probe { conn, statements: missing.is_none(), missing, postmaster })
    }

    /// Zeroes the statement counts of the serving role in the bench database, and reads the CPU
    /// of the PostgreSQL processes: call right before a measured run.
    pub async fn start(&mut self) -> Result<Snapshot> {
        if self.statements {
            sqlx::query(
                "SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = $1), \
                 (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
            )
            .bind(APP_ROLE)
            .execute(&mut self.conn)
            .await?;
        }
        self.cpu().await
    }

    /// What PostgreSQL did since `start`: call right after the measured run.
    pub async fn finish(&mut self, start: &Snapshot) -> Result<DbWork> {
        let end = self.cpu().await?;
        let cpu_us = self.postmaster.map(|_| {
            end.0.iter().map(|(pid, after)| after.saturating_sub(start.0.get(pid).copied().unwrap_or(0))).sum()
        });
        let calls = if self.statements {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT query, sum(calls)::bigint FROM pg_stat_statements \
                 WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1) \
                 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY query",
            )
            .bind(APP_ROLE)
            .fetch_all(&mut self.conn)
            .await?;
            Some(rows.into_iter().map(|(q, n)| (one_line(&q), n.max(0) as u64)).collect())
        } else {
            None
        };
        Ok(DbWork { calls, cpu_us })
    }

    /// The CPU of the postmaster (its own, plus what its exited children used, which it reaps),
    /// and of every live backend of the bench database and background process.
    /// Backends of other databases on the shared server are left out while they live.
    async fn cpu(&mut self) -> Result<Snapshot> {
        let mut out = HashMap::new();
        let Some(postmaster) = self.postmaster else { return Ok(Snapshot(out)) };
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL",
        )
        .fetch_all(&mut self.conn)
        .await?;
        if let Some(t) = times(postmaster) {
            out.insert(postmaster, t.own + t.children);
        }
        for pid in pids {
            let pid = pid as u32;
            if pid != postmaster
                && let Some(t) = times(pid)
            {
                out.insert(pid, t.own);
            }
        }
        Ok(Snapshot(out))
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// A statement text on one line, its whitespace runs as single spaces.
fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Times {
    own: u64,
    children: u64,
}

/// Fields after the `(name)` of `/proc/<pid>/stat`, the first being field 3 of proc(5).
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(|f| f.parse::<u64>().unwrap_or(0)).collect())
}

/// utime + stime (fields 14, 15) and cutime + cstime (16, 17), in microseconds (USER_HZ = 100).
fn times(pid: u32) -> Option<Times> {
    let f = stat_fields(pid)?;
    let at = |i: usize| f.get(i - 3).copied();
    Some(Times { own: (at(14)? + at(15)?) * 10_000, children: (at(16)? + at(17)?) * 10_000 })
}

/// The parent process (field 4).
fn parent(pid: u32) -> Option<u32> {
    let f = stat_fields(pid)?;
    f.get(1).map(|p| *p as u32).filter(|p| *p > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_divides() {
        let calls = |pairs: &[(&str, u64)]| Some(pairs.iter().map(|(q, n)| (q.to_string(), *n)).collect());
        let mut a = DbWork { calls: calls(&[("BEGIN", 10), ("SELECT 1", 10)]), cpu_us: Some(1000) };
        a.merge(&DbWork { calls: calls(&[("BEGIN", 10), ("COMMIT", 10)]), cpu_us: Some(500) });
        assert_eq!(a.statements_per(20), Some(2.0));
        assert_eq!(a.cpu_per(20), Some(75.0));
        assert_eq!(a.top(20, 1), vec![("BEGIN".to_string(), 1.0)]);
        let none = DbWork::default();
        assert_eq!((none.statements_per(5), none.cpu_per(5)), (None, None));
        assert_eq!(one_line("SELECT a,\n   b FROM t"), "SELECT a, b FROM t");
        let me = times(std::process::id()).unwrap();
        assert!(me.own < u64::MAX && parent(std::process::id()).is_some());
    }
}
