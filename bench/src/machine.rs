//! Facts about the machine and the software a run was measured on, printed with every report.

/// Facts about the machine and the software, gathered once.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub nproc: usize,
    pub memory: String,
    pub cpu: String,
    pub postgres: String,
    pub wrk: String,
    pub date: String,
    /// `git describe`-like: the commit the framework was built from, and whether the tree was dirty.
    pub commit: String,
}

impl Machine {
    pub fn gather(postgres: String) -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |name: &str| {
            meminfo
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
                .unwrap_or_else(|| "?".to_string())
        };
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
            .unwrap_or_else(|| "?".to_string());
        let wrk = std::process::Command::new("wrk")
            .arg("-v")
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or("").split(" Copyright").next().unwrap_or("").trim().to_string()
            })
            .unwrap_or_default();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .current_dir(crate::pg::workspace_root())
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let commit = match (
            git(&["rev-parse", "--short", "HEAD"]),
            git(&["status", "--porcelain", "--", "tenant-core", "tenant-macros", "demo-app"]),
        ) {
            (Some(head), Some(dirty)) if !dirty.is_empty() => {
                format!("{head} with uncommitted changes to the framework")
            }
            (Some(head), _) => head,
            _ => "unknown".to_string(),
        };
        Machine {
            commit,
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            memory: format!(
                "{} total, {} available at start (/proc/meminfo)",
                field("MemTotal:"),
                field("MemAvailable:")
            ),
            cpu,
            postgres,
            wrk,
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}
