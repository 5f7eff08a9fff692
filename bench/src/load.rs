//! The load: wrk with `lua/bench.lua`, at a fixed concurrency for a fixed time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// The wrk script, written into the run's work directory.
pub const SCRIPT: &str = include_str!("../lua/bench.lua");

/// The HTTP scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    List,
    Retrieve,
    FilterOrder,
    Update,
    Create,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::List => "list",
            Scenario::Retrieve => "retrieve",
            Scenario::FilterOrder => "filter_order",
            Scenario::Update => "update",
            Scenario::Create => "create",
        }
    }

    pub fn request(self) -> &'static str {
        match self {
            Scenario::List => "`GET /api/customers?page_size=20`",
            Scenario::Retrieve => "`GET /api/customers/{id}`",
            Scenario::FilterOrder => "`GET /api/customers?email=…` and `?ordering=-name`, alternately",
            Scenario::Update => "`PATCH /api/customers/{id}` `{\"name\"}`",
            Scenario::Create => "`POST /api/customers` `{\"name\", \"email\"}` (unique email)",
        }
    }
}

/// How hard and how long.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u64,
}

/// What the Lua script counted (scenarios with a `response()` callback).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LuaCounts {
    pub sent: u64,
    pub s2xx: u64,
    pub s4xx: u64,
    pub s5xx: u64,
    pub other: u64,
    /// The email of every 201 (create).
    pub created: Vec<String>,
}

/// One wrk run.
#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non2xx: u64,
    /// connect, read, write, timeout.
    pub socket_errors: [u64; 4],
    pub lua: LuaCounts,
    /// CPU time the server used per completed request during the run, in microseconds.
    pub server_cpu_us: f64,
    /// What PostgreSQL did during the run (summed over combined runs).
    pub db: crate::dbwork::DbWork,
}

impl WrkResult {
    pub fn socket_error_total(&self) -> u64 {
        self.socket_errors.iter().sum()
    }

    /// Several runs of one scenario on one server as one: requests/s and percentiles averaged,
    /// counts summed.
    pub fn combine(runs: &[WrkResult]) -> WrkResult {
        let n = runs.len().max(1) as f64;
        let mut out = WrkResult::default();
        for r in runs {
            out.requests += r.requests;
            out.rps += r.rps / n;
            out.p50_ms += r.p50_ms / n;
            out.p99_ms += r.p99_ms / n;
            out.server_cpu_us += r.server_cpu_us / n;
            out.db.merge(&r.db);
            out.non2xx += r.non2xx;
            for (total, e) in out.socket_errors.iter_mut().zip(r.socket_errors) {
                *total += e;
            }
            out.lua.sent += r.lua.sent;
            out.lua.s2xx += r.lua.s2xx;
            out.lua.s4xx += r.lua.s4xx;
            out.lua.s5xx += r.lua.s5xx;
            out.lua.other += r.lua.other;
            out.lua.created.extend(r.lua.created.iter().cloned());
        }
        out
    }
}

/// Installs wrk from the Debian archive when it is missing (root only).
pub fn ensure_wrk() -> Result<()> {
    crate::procs::ensure_installed("wrk", "wrk")
}

/// Everything a wrk run needs besides the target and the scenario.
#[derive(Debug, Clone)]
pub struct Driver {
    pub script: PathBuf,
    pub data: PathBuf,
    pub work: PathBuf,
}

impl Driver {
    pub fn new(work: &Path, data: PathBuf) -> Result<Driver> {
        let script = work.join("bench.lua");
        std::fs::write(&script, SCRIPT)?;
        Ok(Driver { script, data, work: work.to_path_buf() })
    }

    /// Runs `scenario` against `addr` (on the runtime's blocking pool); `tag` prefixes the
    /// emails that create makes.
    pub async fn run(&self, addr: SocketAddr, scenario: Scenario, load: Load, tag: &str) -> Result<WrkResult> {
        let out_file = self.work.join(format!("wrk-{}.out", scenario.name()));
        let _ = std::fs::remove_file(&out_file);
        let mut cmd = Command::new("wrk");
        cmd.args(["-t", &load.threads.to_string(), "-c", &load.connections.to_string()])
            .args(["-d", &format!("{}s", load.seconds), "--timeout", "10s", "--latency", "-s"])
            .arg(&self.script)
            .arg(format!("http://{addr}"))
            .env("BENCH_SCENARIO", scenario.name())
            .env("BENCH_DATA", &self.data)
            .env("BENCH_OUT", &out_file)
            .env("BENCH_TAG", tag);
        let output = tokio::task::spawn_blocking(move || cmd.output()).await??;
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        if !output.status.success() {
            return Err(format!("wrk failed ({}):\n{stdout}{stderr}", output.status).into());
        }
        let mut result = parse_wrk(&stdout).ok_or_else(|| format!("cannot read wrk's output:\n{stdout}{stderr}"))?;
        let counts = std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
        result.lua = parse_counts(&counts)?;
        Ok(result)
    }
}

/// `1.23ms` → 1.23; microseconds, seconds, minutes too.
fn duration_ms(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

pub fn parse_wrk(out: &str) -> Option<WrkResult> {
    let mut r = WrkResult::default();
    let (mut p50, mut p99, mut rps, mut requests) = (None, None, None, None);
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => p50 = duration_ms(v),
            ["99%", v] => p99 = duration_ms(v),
            ["Requests/sec:", v] => rps = v.parse().ok(),
            [n, "requests", "in", ..] => requests = n.parse().ok(),
            ["Non-2xx", "or", "3xx", "responses:", n] => r.non2xx = n.parse().ok()?,
            ["Socket", "errors:", "connect", c, "read", rd, "write", w, "timeout", t] => {
                let n = |s: &str| s.trim_end_matches(',').parse::<u64>().ok();
                r.socket_errors = [n(c)?, n(rd)?, n(w)?, n(t)?];
            }
            _ => {}
        }
    }
    r.p50_ms = p50?;
    r.p99_ms = p99?;
    r.rps = rps?;
    r.requests = requests?;
    Some(r)
}

fn parse_counts(text: &str) -> Result<LuaCounts> {
    let mut c = LuaCounts::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["thread", _, "sent", sent, "s2", s2, "s4", s4, "s5", s5, "other", other] => {
                let n = |s: &str| s.parse::<u64>().map_err(|_| format!("bad count {s:?} in wrk's counts"));
                c.sent += n(sent)?;
                c.s2xx += n(s2)?;
                c.s4xx += n(s4)?;
                c.s5xx += n(s5)?;
                c.other += n(other)?;
            }
            ["created", email] => c.created.push(email.to_string()),
            _ => return Err(format!("unexpected line in wrk's counts: {line:?}").into()),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "Running 2s test @ http://127.0.0.1:4000
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  300.00us   8.00ms   90.00%
    Req/Sec     3.50k   200.00     3.90k    70.00%
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    1.50ms
     99%    2.50ms
  7000 requests in 2.00s, 3.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   3499.50
Transfer/sec:      1.50MB
";

    #[test]
    fn reads_wrk_output() {
        let r = parse_wrk(OUT).unwrap();
        assert_eq!((r.requests, r.non2xx, r.socket_errors), (7000, 3, [0, 1, 0, 2]));
        assert_eq!((r.p50_ms, r.p99_ms, r.rps), (0.85, 2.5, 3499.5));
        assert!(parse_wrk("nonsense").is_none());
    }

    #[test]
    fn reads_lua_counts() {
        let c = parse_counts(
            "thread 0 sent 5 s2 4 s4 0 s5 0 other 0\ncreated a@b.c\nthread 1 sent 3 s2 2 s4 1 s5 0 other 0\n",
        )
        .unwrap();
        assert_eq!((c.sent, c.s2xx, c.s4xx, c.created.len()), (8, 6, 1, 1));
    }
}
