//! The markdown report, and its place in `bench/RESULTS.md`: one section per kind of run
//! (`--rows N`, `--scale`, each optionally labelled), replaced when the same kind runs again and
//! appended otherwise, so a `--rows 100000` run and a `--scale` run live side by side.

use std::fmt::Write as _;

use crate::callgrind::Count;
use crate::load::Scenario;
use crate::machine::Machine;
use crate::options::{Mode, Options};
use crate::run::{DatasetResult, ReadResult};

/// Issue 4's targets.
pub const TARGET_BASELINE: f64 = 0.95;
pub const TARGET_CEILING: f64 = 0.5;
pub const TARGET_GROWTH: f64 = 1.3;
pub const TARGET_RSS_MIB: f64 = 64.0;

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

/// The section of a `--callgrind` run.
pub fn callgrind_section(opts: &Options, machine: &Machine, valgrind: &str, counts: &[Count]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", title(opts));
    let _ = writeln!(s, "- Command: `{}`", opts.command);
    let _ = writeln!(s, "- Date: {}; code: {}", machine.date, machine.commit);
    let _ = writeln!(s, "- Machine: `nproc` = {}, {}; memory {}", machine.nproc, machine.cpu, machine.memory);
    let _ = writeln!(s, "- Software: {valgrind}; {}; {}", machine.postgres, machine.wrk);
    let _ = writeln!(
        s,
        "- Load: each server under `valgrind --tool=callgrind`; per scenario a 3 s warm-up, counters zeroed, \
         wrk `-t1 -c1 -d{}s`, counters dumped; pool of {} connections; {} build\n",
        opts.duration,
        opts.pool,
        if cfg!(debug_assertions) { "debug" } else { "release" },
    );
    let _ = writeln!(
        s,
        "CPU instructions the server process executes per request (all threads: tokio, hyper, sqlx's \
         protocol work, the handler), which repeat from run to run where requests/s on this shared \
         machine do not. PostgreSQL's own work is not counted: it is the same for both servers.\n"
    );
    let _ = writeln!(
        s,
        "| scenario | framework instructions/request | baseline instructions/request | framework / baseline | requests counted (framework, baseline) |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    for read in crate::statements::Read::ALL {
        let of = |system: &str| counts.iter().find(|c| c.scenario == read && c.system == system);
        if let (Some(fw), Some(bl)) = (of("framework"), of("baseline")) {
            let _ = writeln!(
                s,
                "| {} | {:.0} | {:.0} | {:.3} | {}, {} |",
                read.name(),
                fw.per_request(),
                bl.per_request(),
                ratio(fw.per_request(), bl.per_request()),
                fw.requests,
                bl.requests
            );
        }
    }
    let _ = writeln!(
        s,
        "\nThe dumps stay in `target/bench-callgrind/` (`callgrind_annotate target/bench-callgrind/<system>.callgrind.<n>`)."
    );
    s
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
         run(s) per server, framework and baseline alternating (A B B A), averaged; pgbench `-c{} -j{} -T{} -n \
         -M prepared`; pool of {} connections in both servers; {} build",
        opts.threads,
        opts.connections,
        opts.duration,
        opts.warmup,
        opts.rounds,
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
    }
    targets(&mut s, opts, results);
    if let Some(d) = results.last() {
        details(&mut s, d);
    }
    s
}

fn dataset(s: &mut String, d: &DatasetResult, nested: bool) {
    let h = if nested { "####" } else { "###" };
    let _ = writeln!(
        s,
        "{} companies, one admin each, {} customers ({} per company), seeded with `COPY` in {:.1} s, then \
         `VACUUM ANALYZE` ({:.0} % of the customers pages all-visible, as autovacuum leaves them); requests \
         spread over every company at random.\n",
        d.companies,
        d.rows,
        d.rows / d.companies.max(1),
        d.seed_time.as_secs_f64(),
        d.all_visible * 100.0
    );
    let _ = writeln!(s, "{h} Requests/s and latency\n");
    let _ = writeln!(s, "| scenario | system | requests/s | p50 ms | p99 ms | server CPU µs/request | errors |");
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | ---: | --- |");
    for r in &d.reads {
        let name = r.scenario.name();
        let fw = &r.framework;
        let bl = &r.baseline;
        let _ = writeln!(
            s,
            "| {name} | framework (demo-app) | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
            fw.rps,
            fw.p50_ms,
            fw.p99_ms,
            fw.server_cpu_us,
            errors_cell(fw.non2xx, fw.socket_error_total(), fw.lua.s5xx)
        );
        let _ = writeln!(
            s,
            "| {name} | baseline (axum + sqlx by hand) | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
            bl.rps,
            bl.p50_ms,
            bl.p99_ms,
            bl.server_cpu_us,
            errors_cell(bl.non2xx, bl.socket_error_total(), bl.lua.s5xx)
        );
        let _ = writeln!(
            s,
            "| {name} | ceiling (pgbench, same SQL) | {:.0} | {:.2} | {:.2} | – | {} failed |",
            r.ceiling.tps, r.ceiling.p50_ms, r.ceiling.p99_ms, r.ceiling.failed
        );
    }
    for (scenario, r) in &d.writes {
        let _ = writeln!(
            s,
            "| {} | framework (demo-app) | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
            scenario.name(),
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.server_cpu_us,
            errors_cell(r.non2xx, r.socket_error_total(), r.lua.s5xx)
        );
    }
    let _ = writeln!(
        s,
        "\nServer CPU µs/request: user + system CPU time of the server process during the measured runs \
         (`/proc/<pid>/stat`) divided by the requests wrk completed; less sensitive to the shared machine \
         than requests/s, it is where framework overhead over the baseline shows.\n"
    );
    let _ = writeln!(s, "Scenarios:");
    for scenario in [Scenario::List, Scenario::Retrieve, Scenario::FilterOrder, Scenario::Update, Scenario::Create] {
        let _ = writeln!(s, "- {}: {}", scenario.name(), scenario.request());
    }
    let _ = writeln!(s, "\n{h} Ratios\n");
    let _ = writeln!(
        s,
        "| scenario | framework / baseline | framework / ceiling | baseline / ceiling | server CPU per request, framework / baseline |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    for r in &d.reads {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.scenario.name(),
            ratio(r.framework.rps, r.baseline.rps),
            ratio(r.framework.rps, r.ceiling.tps),
            ratio(r.baseline.rps, r.ceiling.tps),
            ratio(r.framework.server_cpu_us, r.baseline.server_cpu_us)
        );
    }
    if d.reads.iter().any(|r| r.rounds.len() > 1) {
        let _ = writeln!(
            s,
            "\nEach round separately (framework / baseline requests/s; the order alternates, A B B A …), \
             to show how far one run's ratio moves on this shared machine (the repeatable comparison of the \
             two servers' own work is the instruction count of `--callgrind`):\n"
        );
        for r in &d.reads {
            let rounds: Vec<String> =
                r.rounds.iter().map(|(f, b)| format!("{f:.0} / {b:.0} = {:.2}", ratio(*f, *b))).collect();
            let _ = writeln!(s, "- {}: {}", r.scenario.name(), rounds.join("; "));
        }
    }
    let _ = writeln!(
        s,
        "\nPeak RSS (`VmHWM` after all load): framework {:.1} MiB, baseline {:.1} MiB.\n",
        mib(d.rss_framework_kib),
        mib(d.rss_baseline_kib)
    );
    let _ = writeln!(s, "Create under load: {}.\n", d.create.sentence());
    if !d.problems.is_empty() {
        let _ = writeln!(s, "**Problems in this run:**\n");
        for p in &d.problems {
            let _ = writeln!(s, "- {p}");
        }
        let _ = writeln!(s);
    }
}

fn read<'a>(d: &'a DatasetResult, name: &str) -> Option<&'a ReadResult> {
    d.reads.iter().find(|r| r.scenario.name() == name)
}

fn targets(s: &mut String, opts: &Options, results: &[DatasetResult]) {
    let _ = writeln!(s, "### Targets (issue 4)\n");
    let _ = writeln!(s, "| target | measured | |");
    let _ = writeln!(s, "| --- | --- | --- |");
    let many = results.len() > 1;
    let at = |d: &DatasetResult| if many { format!(" at {} rows", d.rows) } else { String::new() };
    for name in ["list", "retrieve"] {
        for d in results {
            if let Some(r) = read(d, name) {
                let x = ratio(r.framework.rps, r.baseline.rps);
                let _ = writeln!(
                    s,
                    "| {name}: framework ≥ {TARGET_BASELINE} × baseline requests/s{} | {x:.2} × | {} |",
                    at(d),
                    met(x >= TARGET_BASELINE)
                );
            }
        }
        for d in results {
            if let Some(r) = read(d, name) {
                let x = ratio(r.framework.rps, r.ceiling.tps);
                let _ = writeln!(
                    s,
                    "| {name}: framework ≥ {TARGET_CEILING} × ceiling transactions/s{} | {x:.2} × | {} |",
                    at(d),
                    met(x >= TARGET_CEILING)
                );
            }
        }
    }
    if opts.mode == Mode::Scale && results.len() == 2 {
        for name in ["list", "retrieve"] {
            if let (Some(a), Some(b)) = (read(&results[0], name), read(&results[1], name)) {
                let x = ratio(b.framework.p50_ms, a.framework.p50_ms);
                let _ = writeln!(
                    s,
                    "| {name}: p50 grows ≤ {TARGET_GROWTH}× from {} to {} rows | {:.2} → {:.2} ms: {x:.2} × | {} |",
                    results[0].rows,
                    results[1].rows,
                    a.framework.p50_ms,
                    b.framework.p50_ms,
                    met(x <= TARGET_GROWTH)
                );
            }
        }
    } else {
        let _ = writeln!(
            s,
            "| list, retrieve: p50 grows ≤ {TARGET_GROWTH}× from 10 000 to 1 000 000 rows | not measured by this \
             command: see the `--scale` section | |"
        );
    }
    for d in results {
        let flagged: Vec<&str> = d.explains.iter().filter(|e| e.flag.is_some()).map(|e| e.name.as_str()).collect();
        let measured = if flagged.is_empty() {
            format!("{} statements explained, none flagged", d.explains.len())
        } else {
            format!("flagged: {}", flagged.join(", "))
        };
        let _ = writeln!(
            s,
            "| every tenant query uses an index leading with `company_id`{} | {measured} | {} |",
            at(d),
            met(flagged.is_empty())
        );
    }
    for d in results {
        let x = mib(d.rss_framework_kib);
        let _ = writeln!(
            s,
            "| framework peak RSS under load < {TARGET_RSS_MIB} MiB{} | {x:.1} MiB | {} |",
            at(d),
            met(x < TARGET_RSS_MIB)
        );
    }
    for d in results {
        let _ = writeln!(
            s,
            "| create: no 5xx, no duplicate or lost rows{} | {} 201s, {} 5xx, {} lost, {} duplicate | {} |",
            at(d),
            d.create.acknowledged,
            d.create.s5xx,
            d.create.lost,
            d.create.duplicates,
            met(d.create.ok())
        );
    }
    let _ = writeln!(s);
    if opts.mode == Mode::Scale && results.len() == 2 {
        let _ = writeln!(s, "#### p50 growth, {} → {} rows (framework)\n", results[0].rows, results[1].rows);
        let _ = writeln!(s, "| scenario | p50 ms at {} | p50 ms at {} | growth |", results[0].rows, results[1].rows);
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        let p50s = |d: &DatasetResult| -> Vec<(String, f64)> {
            d.reads
                .iter()
                .map(|r| (r.scenario.name().to_string(), r.framework.p50_ms))
                .chain(d.writes.iter().map(|(sc, r)| (sc.name().to_string(), r.p50_ms)))
                .collect()
        };
        for ((name, a), (_, b)) in p50s(&results[0]).into_iter().zip(p50s(&results[1])) {
            let _ = writeln!(s, "| {name} | {a:.2} | {b:.2} | {:.2} × |", ratio(b, a));
        }
        let _ = writeln!(s);
    }
}

fn details(s: &mut String, d: &DatasetResult) {
    let _ = writeln!(s, "### Statements per request (traced from PostgreSQL's log)\n");
    let _ = writeln!(
        s,
        "One instance of each server with a one-connection pool, `log_statement = 'all'` for the serving \
         role in the bench database; the runner stops if list or retrieve differ from \
         `bench/src/statements.rs`, and if the baseline's JSON differs from the framework's. Each \
         `BEGIN` also costs sqlx's pool ping on acquire (a protocol round trip, not a statement).\n"
    );
    for t in &d.traces {
        let _ = writeln!(s, "- {} `{}` → {} ({} statements):", t.system, t.request, t.status, t.statements.len());
        for st in &t.statements {
            let _ = writeln!(s, "  - `{st}`");
        }
    }
    let _ = writeln!(s, "\n### pgbench scripts (the ceiling)\n");
    let _ = writeln!(
        s,
        "Generated from `bench/src/statements.rs`. Each transaction starts with one primary-key lookup in \
         `bench_ids` to pick a random tenant and customer, so the ceiling pays one statement more than a \
         request. pgbench cannot bind NULL, so the absent `X-Company-Id` is the literal `NULL::uuid`.\n"
    );
    for (read, script) in &d.scripts {
        let _ = writeln!(s, "{}:\n\n```sql\n{}```\n", read.name(), script);
    }
    let _ = writeln!(s, "### EXPLAIN of every generated `Customer` statement ({} rows)\n", d.rows);
    let _ = writeln!(
        s,
        "As the serving role `tenant_app`, in a transaction with a real tenant set (row-level security on), \
         with the values a request binds: `EXPLAIN (ANALYZE, BUFFERS)` (rolled back), plus a one-line \
         summary of the generic plan a prepared statement may switch to. Flagged: a tenant table read \
         without an index leading with `company_id`.\n"
    );
    let _ = writeln!(s, "| statement | scans (custom plan) | scans (generic plan) | flag |");
    let _ = writeln!(s, "| --- | --- | --- | --- |");
    for e in &d.explains {
        let mut flag = e.flag.clone().map(|f| format!("**FLAGGED**: {f}")).unwrap_or_else(|| "ok".to_string());
        if let Some(note) = &e.note {
            let _ = write!(flag, " (core table: {note})");
        }
        let _ = writeln!(s, "| {} | {} | {} | {} |", e.name, crate::explain::scan_summary(&e.plan), e.generic, flag);
    }
    let _ = writeln!(s);
    for e in &d.explains {
        let _ = writeln!(s, "{}:\n\n```sql\n{}\n```\n\n```text\n{}\n```\n", e.name, e.sql, e.plan);
    }
}
