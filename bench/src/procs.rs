//! Building and running the two servers as child processes, and their peak memory.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// The cargo profile the bench itself was built with; the servers are built the same way.
pub fn release() -> bool {
    !cfg!(debug_assertions)
}

/// `target/<profile>/`, where cargo put this binary and puts the servers.
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent().map(Path::to_path_buf).ok_or_else(|| "cannot locate the target directory".into())
}

/// `cargo build [--release] -p demo-app --bin demo-app -p bench --bin baseline`.
pub fn build_servers() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::pg::workspace_root()).arg("build");
    if release() {
        cmd.arg("--release");
    }
    cmd.args(["-p", "demo-app", "--bin", "demo-app", "-p", "bench", "--bin", "baseline"]);
    eprintln!("bench: building the servers: {cmd:?}");
    let status = cmd.status()?;
    if !status.success() {
        return Err(format!("building the servers failed ({status})").into());
    }
    Ok(())
}

/// Installs Debian `package` when `program --version` cannot run (root only): the tools the
/// bench drives come from the package registry, not from us.
pub fn ensure_installed(program: &str, package: &str) -> Result<()> {
    if Command::new(program).arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("bench: {program} is missing: apt-get install -y {package}");
    let install = || Command::new("apt-get").args(["install", "-y", "-q", package]).status();
    if !install().is_ok_and(|s| s.success()) {
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        if !install().is_ok_and(|s| s.success()) {
            return Err(format!(
                "{program} is not installed and `apt-get install -y {package}` failed (run it as root)"
            )
            .into());
        }
    }
    Ok(())
}

/// A free port on 127.0.0.1 (bound, then released for the child).
pub fn free_addr() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A running server. Killed when dropped: on success, on error and on Ctrl-C alike.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Spawns `target/<profile>/<bin>` with `env` plus `BIND_ADDR`, logging to `work/<name>.log`,
    /// and waits until `GET /healthz` answers 200.
    pub async fn start(name: &str, bin: &str, env: &[(&str, String)], work: &Path) -> Result<Server> {
        Server::start_under(&[], name, bin, env, work).await
    }

    /// [`Server::start`], with the binary run by `launcher` (e.g. `valgrind --tool=callgrind`).
    pub async fn start_under(
        launcher: &[String],
        name: &str,
        bin: &str,
        env: &[(&str, String)],
        work: &Path,
    ) -> Result<Server> {
        let path = profile_dir()?.join(bin);
        let addr = free_addr()?;
        let log = work.join(format!("{name}.log"));
        let out = File::create(&log)?;
        let mut command = match launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let child = command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("BIND_ADDR", addr.to_string())
            .env_remove("DATABASE_APP_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let mut server = Server { name: name.to_string(), addr, child, log };
        server.wait_healthy().await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("{} exited during start-up ({status}):\n{}", self.name, self.log_tail()).into());
            }
            if let Ok(r) = crate::http::request(self.addr, "GET", "/healthz", None, None).await
                && r.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{} not healthy after 120 s:\n{}", self.name, self.log_tail()).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmHWM in /proc/{}/status", self.pid()).into())
    }

    /// CPU time the server has used so far (user + system, all threads), in microseconds.
    /// `/proc/<pid>/stat` counts in clock ticks of 1/100 s (USER_HZ is 100 on Linux).
    pub fn cpu_micros(&self) -> Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 (utime) and 15 (stime) of proc(5); the first field after the name is 3.
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
        match (ticks(11), ticks(12)) {
            (Some(user), Some(system)) => Ok((user + system) * 10_000),
            _ => Err(format!("cannot read CPU times from /proc/{}/stat", self.pid()).into()),
        }
    }

    /// Fails if the server has died (it must survive the whole load).
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(format!("{} died ({status}):\n{}", self.name, self.log_tail()).into()),
        }
    }

    /// The last lines of the server's output.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
