//! `--logins`: the demo app's resident memory under bursts of concurrent wrong-password logins
//! (issue 17: unbounded Argon2 hashing held 9.2 GB after 64 concurrent logins). Each burst runs
//! against a fresh server (so its peak is its own): `clients` tasks each send logins one after
//! another for `seconds`, while the server's resident set (`VmRSS`) is sampled every 20 ms; then
//! the load stops and the resident set is read again after a few seconds of idleness.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::Result;
use crate::procs::Server;

/// What one burst did to the server.
#[derive(Debug, Clone)]
pub struct Burst {
    pub clients: usize,
    pub requests: u64,
    /// 401 answers (the password was checked).
    pub checked: u64,
    /// 503 answers with `Retry-After` (the hashing queue was full).
    pub busy: u64,
    /// Anything else (a bug).
    pub other: u64,
    pub idle_kib: u64,
    pub peak_kib: u64,
    /// Resident set `SETTLE` after the burst.
    pub after_kib: u64,
}

const SETTLE: Duration = Duration::from_secs(5);

/// Resident set size now (`VmRSS`), in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status").into())
}

/// One burst of `clients` concurrent login loops for `seconds`, on a fresh SQLite demo app.
pub async fn burst(clients: usize, seconds: u64, work: &Path) -> Result<Burst> {
    let dir = work.join(format!("logins-{clients}"));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("logins.db");
    let _ = std::fs::remove_file(&db);
    let env = [
        ("DATABASE_URL", format!("sqlite:{}", db.display())),
        ("JWT_SECRET", "bench-logins-secret-0123456789abcdef0123456789".to_string()),
        // Every client is 127.0.0.1 naming one account: the throttles would answer most attempts
        // with 429 before any hashing. Raised here, to measure what the hashing bound alone holds.
        ("THROTTLE_AUTH_ADDRESS", "1000000/min".to_string()),
        ("THROTTLE_AUTH_ACCOUNT", "1000000/min".to_string()),
    ];
    let server = Server::start(&format!("logins-{clients}"), "demo-app", &env, &dir).await?;
    let addr = server.addr;
    let signup = r#"{"email": "victim@example.com", "password": "a sound passphrase", "company_name": "Victim"}"#;
    let r = crate::http::request(addr, "POST", "/api/auth/signup", None, Some(signup)).await?;
    if r.status != 201 {
        return Err(format!("signup answered {}: {}", r.status, r.body).into());
    }
    // Idle: after the hashing workers have let go of their memory (2 s without a job).
    tokio::time::sleep(SETTLE).await;
    let pid = server.pid();
    let idle_kib = rss_kib(pid)?;

    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(idle_kib));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let counts = counts.clone();
            tokio::spawn(async move { login_loop(addr, i, deadline, &counts).await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    stop.store(true, Ordering::Relaxed);
    sampler.await?;
    tokio::time::sleep(SETTLE).await;
    let after_kib = rss_kib(pid)?;
    let [checked, busy, other] = &*counts;
    let (checked, busy, other) =
        (checked.load(Ordering::Relaxed), busy.load(Ordering::Relaxed), other.load(Ordering::Relaxed));
    Ok(Burst {
        clients,
        requests: checked + busy + other,
        checked,
        busy,
        other,
        idle_kib,
        peak_kib: peak.load(Ordering::Relaxed),
        after_kib,
    })
}

async fn login_loop(addr: SocketAddr, i: usize, deadline: tokio::time::Instant, counts: &[AtomicU64; 3]) -> Result<()> {
    let body = format!(r#"{{"email": "victim@example.com", "password": "guess-{i}"}}"#);
    while tokio::time::Instant::now() < deadline {
        let r = crate::http::request(addr, "POST", "/api/auth/token", None, Some(&body)).await?;
        let slot = match r.status {
            401 => 0,
            503 => 1,
            _ => 2,
        };
        counts[slot].fetch_add(1, Ordering::Relaxed);
        if r.status == 503 {
            // What a polite client does with `Retry-After`; an attacker would not wait, which
            // only means more 503s.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// The report section: one row per burst.
pub fn section(command: &str, bursts: &[Burst], cores: usize) -> String {
    let mb = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    let mut out = String::new();
    out.push_str("## Memory under concurrent logins (issue 17)\n\n");
    out.push_str(&format!(
        "`{command}` on {cores} cores; the demo app on SQLite (release build), default hashing workers \
         (one per core) and queue (32), sign-in throttles raised out of the way (every client is \
         127.0.0.1 naming one account: with the default throttles nearly every attempt is a 429 \
         before any hashing). Each client sends wrong-password logins back to back; after a 503 it \
         waits 100 ms.\n\n"
    ));
    out.push_str("| concurrent clients | logins | 401 (checked) | 503 (busy) | other | RSS idle MB | peak RSS MB | RSS 5 s after MB |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for b in bursts {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            b.clients,
            b.requests,
            b.checked,
            b.busy,
            b.other,
            mb(b.idle_kib),
            mb(b.peak_kib),
            mb(b.after_kib)
        ));
    }
    out.push_str(
        "\nTargets (issue 17): peak under 256 MB, under 64 MB a few seconds after. Before the bounded \
         workers (main at 97548fa, issue 17's measurement): 64 concurrent logins → 9.2 GB, still 9.2 GB \
         after the burst.\n",
    );
    out
}
