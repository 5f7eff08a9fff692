//! The "Targets (issue 4)" table: each target of issue 4, measured, met or missed; and the p50
//! growth table of a `--scale` run.

use std::fmt::Write as _;

use super::{met, mib, ratio};
use crate::options::{Mode, Options};
use crate::run::{DatasetResult, ReadResult};

/// Issue 4's targets.
pub const TARGET_BASELINE: f64 = 0.95;
pub const TARGET_CEILING: f64 = 0.5;
pub const TARGET_GROWTH: f64 = 1.3;
pub const TARGET_RSS_MIB: f64 = 64.0;

fn read<'a>(d: &'a DatasetResult, name: &str) -> Option<&'a ReadResult> {
    d.reads.iter().find(|r| r.scenario.name() == name)
}

pub(super) fn targets(s: &mut String, opts: &Options, results: &[DatasetResult]) {
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
