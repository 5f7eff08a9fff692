//! Command-line options.

use crate::Result;

pub const USAGE: &str = "\
usage: cargo run --release -p bench -- [--rows N | --scale | --smoke | --callgrind | --logins] [options]

  --rows N           customers in total (default 100000), over max(10, N/1000) companies
  --scale            run the whole suite at 10 000 rows (10 companies) and at 1 000 000 rows
                     (1 000 companies), and report how p50 latency grows
  --smoke            every scenario for ~2 s on 2 000 rows; report in target/bench-smoke.md;
                     exit non-zero on any 5xx, lost or duplicate created row, or failed step
  --callgrind        CPU instructions per list and retrieve request of the framework and the
                     baseline, counted by valgrind's callgrind (repeatable where requests/s are
                     not); 10 000 rows unless --rows is given; --duration defaults to 10
  --logins           resident memory of the demo app (SQLite) under bursts of 64 and 256
                     concurrent wrong-password logins (--duration, default 10 s each): peak and
                     5 s after; no PostgreSQL or wrk needed
  --duration SECS    length of each measured load run (default 15; smoke 2)
  --warmup SECS      unmeasured load before each measured run (default 3; smoke 0)
  --connections N    concurrent connections: wrk -c and pgbench -c (default 32; smoke 4)
  --threads N        wrk threads (default 2; smoke 1); pgbench uses -j 2
  --pool N           database pool size of both servers, DATABASE_MAX_CONNECTIONS (default 16)
  --rounds N         list and retrieve: measured runs per server, alternating framework and
                     baseline (A B B A …) so drift hits both alike; averaged (default 2; smoke 1)
  --log FILTER       RUST_LOG of the framework (default warn: no line per request); `info` is
                     the level an app logs at when RUST_LOG is unset (one line per request)
  --metrics          the framework counts its requests for /metrics (METRICS_TOKEN set), to
                     measure what the metrics cost
  --before-bin PATH  a demo-app binary built from another commit: list, retrieve and create are
                     also measured on it (\"framework (before)\"), alternating with the others,
                     and the report gives framework ÷ before
  --label TEXT       a label for this run's section of bench/RESULTS.md (e.g. before, after)
  --out PATH         write the report there instead of bench/RESULTS.md (smoke: target/bench-smoke.md)
";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Rows(usize),
    Scale,
    Smoke,
    /// Instructions per request under callgrind, on this many rows.
    Callgrind(usize),
    /// Memory under bursts of concurrent logins.
    Logins,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    pub duration: u64,
    pub warmup: u64,
    pub connections: u32,
    pub threads: u32,
    pub pool: u32,
    pub rounds: u32,
    /// RUST_LOG of the framework's server.
    pub log: String,
    /// Whether the framework records metrics (`METRICS_TOKEN`).
    pub metrics: bool,
    /// `--before-bin`: an older demo-app build measured beside the current one.
    pub before_bin: Option<String>,
    pub label: Option<String>,
    pub out: Option<String>,
    /// The command line as typed, for the report.
    pub command: String,
}

impl Options {
    /// Parses the arguments after the program name. `Ok(None)`: help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>> {
        let mut rows = None;
        let (mut scale, mut smoke, mut callgrind, mut logins) = (false, false, false, false);
        let (mut duration, mut warmup, mut connections, mut threads) = (None, None, None, None);
        let mut pool = 16;
        let mut rounds = None;
        let (mut label, mut out, mut before_bin) = (None, None, None);
        let mut log = "warn".to_string();
        let mut metrics = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--rows" => rows = Some(number(&value("--rows")?, "--rows")?),
                "--scale" => scale = true,
                "--smoke" => smoke = true,
                "--callgrind" => callgrind = true,
                "--logins" => logins = true,
                "--duration" => duration = Some(number(&value("--duration")?, "--duration")?),
                "--warmup" => warmup = Some(number(&value("--warmup")?, "--warmup")?),
                "--connections" => connections = Some(number(&value("--connections")?, "--connections")?),
                "--threads" => threads = Some(number(&value("--threads")?, "--threads")?),
                "--pool" => pool = number(&value("--pool")?, "--pool")?,
                "--rounds" => rounds = Some(number(&value("--rounds")?, "--rounds")?),
                "--log" => log = value("--log")?,
                "--metrics" => metrics = true,
                "--before-bin" => before_bin = Some(value("--before-bin")?),
                "--label" => label = Some(value("--label")?),
                "--out" => out = Some(value("--out")?),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
            }
        }
        if callgrind && (scale || smoke) {
            return Err(format!("--callgrind goes without --scale and --smoke\n{USAGE}").into());
        }
        if before_bin.is_some() && (callgrind || logins) {
            return Err(format!("--before-bin goes without --callgrind and --logins\n{USAGE}").into());
        }
        if logins && (scale || smoke || callgrind || rows.is_some()) {
            return Err(format!("--logins goes alone\n{USAGE}").into());
        }
        let mode = match (rows, scale, smoke) {
            _ if logins => Mode::Logins,
            (rows, false, false) if callgrind => Mode::Callgrind(rows.unwrap_or(10_000) as usize),
            (_, true, true) => return Err(format!("--scale and --smoke exclude each other\n{USAGE}").into()),
            (Some(_), true, _) | (Some(_), _, true) => {
                return Err(format!("--rows goes without --scale and --smoke\n{USAGE}").into());
            }
            (_, true, false) => Mode::Scale,
            (_, false, true) => Mode::Smoke,
            (rows, false, false) => Mode::Rows(rows.unwrap_or(100_000) as usize),
        };
        if let Mode::Rows(0) | Mode::Callgrind(0) = mode {
            return Err("--rows must be at least 1".into());
        }
        let smoke = mode == Mode::Smoke;
        let threads = threads.unwrap_or(if smoke { 1 } else { 2 }) as u32;
        let connections = connections.unwrap_or(if smoke { 4 } else { 32 }) as u32;
        if threads == 0 || connections < threads || pool == 0 {
            return Err("need --threads >= 1, --connections >= --threads and --pool >= 1".into());
        }
        let mut command = String::from("cargo run");
        if !cfg!(debug_assertions) {
            command.push_str(" --release");
        }
        command.push_str(" -p bench --");
        for arg in args {
            command.push(' ');
            command.push_str(arg);
        }
        Ok(Some(Options {
            mode,
            duration: duration
                .unwrap_or(match mode {
                    Mode::Smoke => 2,
                    Mode::Callgrind(_) | Mode::Logins => 10,
                    _ => 15,
                })
                .max(1),
            warmup: warmup.unwrap_or(if smoke { 0 } else { 3 }),
            connections,
            threads,
            pool: pool as u32,
            rounds: rounds.unwrap_or(if smoke { 1 } else { 2 }).max(1) as u32,
            log,
            metrics,
            before_bin,
            label,
            out,
            command,
        }))
    }

    pub fn smoke(&self) -> bool {
        self.mode == Mode::Smoke
    }

    /// The data sets (customer rows) this run measures, in order.
    pub fn datasets(&self) -> Vec<usize> {
        match self.mode {
            Mode::Rows(rows) => vec![rows],
            Mode::Scale => vec![10_000, 1_000_000],
            Mode::Smoke => vec![2_000],
            Mode::Callgrind(rows) => vec![rows],
            Mode::Logins => vec![],
        }
    }
}

/// Companies for `rows` customers: 1000 customers each, at least 10 companies.
pub fn companies_for(rows: usize) -> usize {
    (rows / 1000).max(10)
}

fn number(raw: &str, name: &str) -> Result<u64> {
    raw.replace('_', "").parse().map_err(|_| format!("{name}: not a number: {raw:?}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn modes_and_defaults() {
        let o = parse(&["--rows", "100000"]).unwrap().unwrap();
        assert_eq!((o.mode, o.duration, o.connections, o.threads), (Mode::Rows(100_000), 15, 32, 2));
        assert_eq!(o.datasets(), vec![100_000]);
        let o = parse(&["--smoke"]).unwrap().unwrap();
        assert_eq!((o.duration, o.connections, o.threads, o.warmup), (2, 4, 1, 0));
        assert_eq!(parse(&["--scale"]).unwrap().unwrap().datasets(), vec![10_000, 1_000_000]);
        let o = parse(&["--callgrind"]).unwrap().unwrap();
        assert_eq!((o.mode, o.duration), (Mode::Callgrind(10_000), 10));
        assert_eq!(parse(&["--callgrind", "--rows", "2000"]).unwrap().unwrap().mode, Mode::Callgrind(2_000));
        assert!(parse(&["--callgrind", "--smoke"]).is_err());
        assert!(parse(&["--scale", "--smoke"]).is_err());
        assert!(parse(&["--rows"]).is_err());
        assert!(parse(&["--help"]).unwrap().is_none());
        let o = parse(&["--smoke", "--before-bin", "/tmp/demo-app"]).unwrap().unwrap();
        assert_eq!(o.before_bin.as_deref(), Some("/tmp/demo-app"));
        assert!(parse(&["--callgrind", "--before-bin", "x"]).is_err());
        assert_eq!((companies_for(2_000), companies_for(100_000), companies_for(1_000_000)), (10, 100, 1000));
    }
}
