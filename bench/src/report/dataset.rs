//! The tables of one data set: requests/s and latency, ratios, each round, peak RSS, creates
//! under load and the run's problems.

use std::fmt::Write as _;

use super::{errors_cell, mib, ratio};
use crate::load::Scenario;
use crate::run::DatasetResult;

pub(super) fn dataset(s: &mut String, d: &DatasetResult, nested: bool) {
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
        if let Some(b) = &r.before {
            let _ = writeln!(
                s,
                "| {name} | framework (before, `--before-bin`) | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
                b.rps,
                b.p50_ms,
                b.p99_ms,
                b.server_cpu_us,
                errors_cell(b.non2xx, b.socket_error_total(), b.lua.s5xx)
            );
        }
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
        let _ = writeln!(
            s,
            "| {name} | ceiling, minimal set (pgbench, one round trip) | {:.0} | {:.2} | {:.2} | – | {} failed |",
            r.minimal.tps, r.minimal.p50_ms, r.minimal.p99_ms, r.minimal.failed
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
        if scenario.name() == "create"
            && let Some((b, _)) = &d.create_before
        {
            let _ = writeln!(
                s,
                "| create | framework (before, `--before-bin`) | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
                b.rps,
                b.p50_ms,
                b.p99_ms,
                b.server_cpu_us,
                errors_cell(b.non2xx, b.socket_error_total(), b.lua.s5xx)
            );
        }
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
        "| scenario | framework / baseline | framework / ceiling | baseline / ceiling | framework / minimal ceiling | server CPU per request, framework / baseline |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &d.reads {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.scenario.name(),
            ratio(r.framework.rps, r.baseline.rps),
            ratio(r.framework.rps, r.ceiling.tps),
            ratio(r.baseline.rps, r.ceiling.tps),
            ratio(r.framework.rps, r.minimal.tps),
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
            let mut rounds: Vec<String> =
                r.rounds.iter().map(|(f, b)| format!("{f:.0} / {b:.0} = {:.2}", ratio(*f, *b))).collect();
            if !r.before_rounds.is_empty() {
                let before: Vec<String> = r.before_rounds.iter().map(|b| format!("{b:.0}")).collect();
                rounds.push(format!("before build: {}", before.join(", ")));
            }
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
