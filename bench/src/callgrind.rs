//! `--callgrind`: the CPU instructions each server spends per request, counted by valgrind's
//! callgrind. Requests/s on this shared machine move by several percent from run to run;
//! instruction counts repeat to well under one percent, so this is where a change to the
//! framework's per-request work shows, before and after, and where its cost is found
//! (`callgrind_annotate` on the kept dumps).
//!
//! Each server runs under `valgrind --tool=callgrind`; after a warm-up its counters are zeroed
//! (`callgrind_control --zero`), wrk sends requests over one connection for a fixed time, and the
//! counters are dumped. Instructions per request = the dump's total / the requests wrk completed
//! (at most one request straddles each boundary). Only the server process is counted: the
//! database's work is the same for both servers and is not in the numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::load::{Driver, Load, Scenario};
use crate::pg::Database;
use crate::procs::Server;
use crate::statements::Read;

/// Instructions counted for one scenario on one server.
#[derive(Debug, Clone)]
pub struct Count {
    pub scenario: Read,
    pub system: &'static str,
    pub requests: u64,
    pub instructions: u64,
    /// The dump, for `callgrind_annotate`.
    pub dump: PathBuf,
}

impl Count {
    pub fn per_request(&self) -> f64 {
        self.instructions as f64 / self.requests.max(1) as f64
    }
}

/// Installs valgrind from the Debian archive when it is missing (root only), like wrk.
pub fn ensure_valgrind() -> Result<()> {
    crate::procs::ensure_installed("valgrind", "valgrind")
}

/// `valgrind --version`, for the report.
pub fn version() -> String {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn launcher(out_file: &Path) -> Vec<String> {
    vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out_file.display()),
        // Counting only: no cache or branch simulation, so the run is as fast as callgrind gets.
        "--cache-sim=no".to_string(),
        "--branch-sim=no".to_string(),
    ]
}

fn control(pid: u32, action: &str) -> Result<()> {
    let out = Command::new("callgrind_control").arg(action).arg(pid.to_string()).output()?;
    if !out.status.success() {
        return Err(format!(
            "callgrind_control {action} {pid} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// The newest dump of `out_file` (`<out_file>.<n>`), by its number.
fn newest_dump(out_file: &Path) -> Result<PathBuf> {
    let dir = out_file.parent().ok_or("dump file has no directory")?;
    let prefix = format!("{}.", out_file.file_name().and_then(|n| n.to_str()).unwrap_or_default());
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(n) = name.strip_prefix(&prefix).and_then(|n| n.parse::<u32>().ok())
            && best.as_ref().is_none_or(|(b, _)| n > *b)
        {
            best = Some((n, path.clone()));
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| format!("no callgrind dump next to {}", out_file.display()).into())
}

/// The total instruction count (`Ir`) of a callgrind dump.
pub fn total_instructions(dump: &str) -> Option<u64> {
    let line = dump
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("totals:"))
        .or_else(|| dump.lines().find_map(|l| l.strip_prefix("summary:")))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Waits until callgrind has written dump number `after + 1` or later (the dump request is
/// asynchronous: the server writes it at its next scheduling point).
async fn wait_for_dump(out_file: &Path, previous: Option<&Path>) -> Result<PathBuf> {
    for _ in 0..600 {
        if let Ok(path) = newest_dump(out_file)
            && Some(path.as_path()) != previous
        {
            // Written in one go at the end; a complete dump ends with its totals.
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains("\ntotals:") {
                return Ok(path);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("callgrind wrote no dump for {} within 60 s", out_file.display()).into())
}

/// Counts list and retrieve on one server (already started under callgrind).
async fn count_server(
    server: &mut Server,
    system: &'static str,
    out_file: &Path,
    driver: &Driver,
    seconds: u64,
    tag: &str,
) -> Result<Vec<Count>> {
    let mut counts = Vec::new();
    let mut previous: Option<PathBuf> = None;
    let one = |seconds| Load { threads: 1, connections: 1, seconds };
    for read in Read::ALL {
        let scenario = match read {
            Read::List => Scenario::List,
            Read::Retrieve => Scenario::Retrieve,
        };
        eprintln!("bench: callgrind: {} on {system}", read.name());
        // Warm: the pool's connections, their prepared statements, every lazy initialisation.
        let warm = driver.run(server.addr, scenario, one(3), &format!("{tag}w")).await?;
        if warm.requests == 0 || warm.non2xx > 0 {
            return Err(format!("{system} {}: warm-up failed: {warm:?}", read.name()).into());
        }
        control(server.pid(), "--zero")?;
        let r = driver.run(server.addr, scenario, one(seconds), &format!("{tag}m")).await?;
        control(server.pid(), "--dump")?;
        let dump = wait_for_dump(out_file, previous.as_deref()).await?;
        server.check_alive()?;
        if r.non2xx > 0 || r.socket_error_total() > 0 || r.requests == 0 {
            return Err(format!("{system} {}: failed requests under callgrind: {r:?}", read.name()).into());
        }
        let text = std::fs::read_to_string(&dump)?;
        let instructions = total_instructions(&text).ok_or_else(|| format!("no totals in {}", dump.display()))?;
        counts.push(Count { scenario: read, system, requests: r.requests, instructions, dump: dump.clone() });
        previous = Some(dump);
    }
    Ok(counts)
}

/// Both servers, one after the other, on a seeded database. `dumps` keeps the dumps.
pub async fn count_all(
    db: &Database,
    driver: &Driver,
    framework_env: &[(&str, String)],
    baseline_env: &[(&str, String)],
    work: &Path,
    dumps: &Path,
    seconds: u64,
) -> Result<Vec<Count>> {
    std::fs::create_dir_all(dumps)?;
    for entry in std::fs::read_dir(dumps)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".callgrind")) {
            std::fs::remove_file(path)?;
        }
    }
    let tag = format!("c{}", &db.name[db.name.len() - 8..]);
    let mut counts = Vec::new();
    for (system, bin, env) in [("framework", "demo-app", framework_env), ("baseline", "baseline", baseline_env)] {
        let out_file = dumps.join(format!("{system}.callgrind"));
        eprintln!("bench: callgrind: starting {system} under valgrind (slow)");
        let mut server = Server::start_under(&launcher(&out_file), system, bin, env, work).await?;
        counts.extend(count_server(&mut server, system, &out_file, driver, seconds, &tag).await?);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_totals() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 1234\nfl=(1) a.rs\nfn=(1) f\n3 7\ntotals: 1234\n";
        assert_eq!(total_instructions(dump), Some(1234));
        assert_eq!(total_instructions("events: Ir\nsummary: 99\n"), Some(99));
        assert_eq!(total_instructions("nothing"), None);
    }
}
