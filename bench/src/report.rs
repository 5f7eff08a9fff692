//! The markdown report, and its place in `bench/RESULTS.md`: one section per kind of run
//! (`--rows N`, `--scale`, each optionally labelled), replaced when the same kind runs again and
//! appended otherwise, so a `--rows 100000` run and a `--scale` run live side by side.
//!
//! A run's section is assembled here from `report/dataset.rs` (the tables of each data set),
//! `report/dbwork.rs` (issue 15: the database's work per request), `report/targets.rs` (issue 4's
//! targets) and `report/details.rs` (statements, scripts, plans);
//! a `--callgrind` run's from `report/instructions.rs`.

mod dataset;
mod dbwork;
mod details;
mod instructions;
mod targets;

use std::fmt::Write as _;

use crate::machine::Machine;
use crate::options::{Mode, Options};
use crate::run::DatasetResult;

use self::dataset::dataset;
use self::dbwork::dbwork;
use self::details::details;
pub use self::instructions::callgrind_section;
use self::targets::targets;
pub use self::targets::{TARGET_BASELINE, TARGET_CEILING, TARGET_GROWTH, TARGET_RSS_MIB};

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn met(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**missed**" }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn errors_cell(non2xx: u64, socket: u64, s5xx: u64) -> String {
    if non2xx == 0 && socket == 0 && s5xx == 0 {
        "0".to_string()
    } else {
        format!("{non2xx} non-2xx, {s5xx} 5xx, {socket} socket")
    }
}

/// The key of this run's section.
pub fn section_key(opts: &Options) -> String {
    let base = match &opts.mode {
        Mode::Rows(n) => format!("rows-{n}"),
        Mode::Scale => "scale".to_string(),
        Mode::Smoke => "smoke".to_string(),
        Mode::Callgrind(n) => format!("callgrind-{n}"),
        Mode::Logins => "logins".to_string(),
    };
    match &opts.label {
        Some(label) => format!("{base}-{}", label.replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
        None => base,
    }
}

fn title(opts: &Options) -> String {
    let base = match &opts.mode {
        Mode::Rows(n) => format!("`--rows {n}`"),
        Mode::Scale => "`--scale` (10 000 → 1 000 000 rows)".to_string(),
        Mode::Smoke => "`--smoke`".to_string(),
        Mode::Callgrind(n) => format!("`--callgrind` ({n} rows)"),
        Mode::Logins => "`--logins`".to_string(),
    };
    match &opts.label {
        Some(label) => format!("{base} — {label}"),
        None => base,
    }
}

/// The section for this run.
pub fn section(opts: &Options, machine: &Machine, results: &[DatasetResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", title(opts));
    let _ = writeln!(s, "- Command: `{}`", opts.command);
    let _ = writeln!(s, "- Date: {}; code: {}", machine.date, machine.commit);
    let _ = writeln!(s, "- Machine: `nproc` = {}, {}; memory {}", machine.nproc, machine.cpu, machine.memory);
    let _ = writeln!(s, "- Software: {}; {}", machine.postgres, machine.wrk);
    let _ = writeln!(
        s,
        "- Load: wrk `-t{} -c{} -d{}s` per measured run after a {} s warm-up; list and retrieve: {} measured \
         run(s) per server, framework{} and baseline alternating ({}), averaged; pgbench `-c{} -j{} -T{} -n \
         -M prepared` (the current statement set) and `-M simple` (the minimal set); pool of {} connections in both servers; {} build",
        opts.threads,
        opts.connections,
        opts.duration,
        opts.warmup,
        opts.rounds,
        if opts.before_bin.is_some() { ", its `--before-bin` build" } else { "" },
        if opts.before_bin.is_some() { "A B C C B A" } else { "A B B A" },
        opts.connections,
        opts.connections.min(2),
        opts.duration,
        opts.pool,
        if cfg!(debug_assertions) { "debug" } else { "release" },
    );
    let _ = writeln!(
        s,
        "\n> wrk, the server and PostgreSQL all share this machine's {} cores, so the absolute numbers \
         say little about a real deployment: only ratios between systems measured in the same run mean \
         anything.\n",
        machine.nproc
    );
    for d in results {
        if results.len() > 1 {
            let _ = writeln!(s, "### {} rows\n", d.rows);
        }
        dataset(&mut s, d, results.len() > 1);
        dbwork(&mut s, d, results.len() > 1);
    }
    targets(&mut s, opts, results);
    if let Some(d) = results.last() {
        details(&mut s, d);
    }
    s
}
