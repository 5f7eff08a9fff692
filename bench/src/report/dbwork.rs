//! Issue 15's tables: the database's work per request (statements from pg_stat_statements,
//! PostgreSQL CPU) for every system, the statements behind the counts, and with `--before-bin`
//! the framework against its older build.

use std::fmt::Write as _;

use super::ratio;
use crate::dbwork::DbWork;
use crate::run::DatasetResult;

/// A per-request figure, or a dash when it was not measured.
fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.decimals$}"))
}

/// A statement text short enough for a list item.
fn short(sql: &str) -> String {
    let sql = sql.replace('`', "'");
    match sql.char_indices().nth(90) {
        Some((i, _)) => format!("{}…", &sql[..i]),
        None => sql,
    }
}

/// `(system, requests/s, what PostgreSQL did, requests, server CPU µs/request)` of every system
/// that ran `scenario`, in report order.
type Row<'a> = (&'static str, f64, &'a DbWork, u64, Option<f64>);

fn rows(d: &DatasetResult) -> Vec<(&'static str, Vec<Row<'_>>)> {
    let mut out = Vec::new();
    for r in &d.reads {
        let mut systems: Vec<Row<'_>> = vec![(
            "framework",
            r.framework.rps,
            &r.framework.db,
            r.framework.requests,
            Some(r.framework.server_cpu_us),
        )];
        if let Some(b) = &r.before {
            systems.push(("framework (before)", b.rps, &b.db, b.requests, Some(b.server_cpu_us)));
        }
        systems.push(("baseline", r.baseline.rps, &r.baseline.db, r.baseline.requests, Some(r.baseline.server_cpu_us)));
        systems.push((
            "ceiling, current set (`-M prepared`)",
            r.ceiling.tps,
            &r.ceiling.db,
            r.ceiling.transactions,
            None,
        ));
        systems.push((
            "ceiling, minimal set (one round trip, `-M simple`)",
            r.minimal.tps,
            &r.minimal.db,
            r.minimal.transactions,
            None,
        ));
        out.push((r.scenario.name(), systems));
    }
    for (scenario, r) in &d.writes {
        let mut systems: Vec<Row<'_>> = vec![("framework", r.rps, &r.db, r.requests, Some(r.server_cpu_us))];
        if scenario.name() == "create"
            && let Some((b, _)) = &d.create_before
        {
            systems.push(("framework (before)", b.rps, &b.db, b.requests, Some(b.server_cpu_us)));
        }
        out.push((scenario.name(), systems));
    }
    out
}

pub(super) fn dbwork(s: &mut String, d: &DatasetResult, nested: bool) {
    let h = if nested { "####" } else { "###" };
    let _ = writeln!(s, "{h} Database work per request (issue 15)\n");
    if let Some(why) = &d.statements_missing {
        let _ = writeln!(s, "**No statements per request in this run: {why}.**\n");
    }
    let _ = writeln!(
        s,
        "Statements/request: pg_stat_statements `calls` of the serving role in the bench database during \
         each measured run (zeroed right before it), summed and divided by the requests wrk completed \
         (pgbench: by its transactions, which include one `bench_ids` lookup each). These are statements \
         (`BEGIN`, `COMMIT`, each query), not round trips: protocol-only messages, such as sqlx's pool ping \
         on acquire, are invisible to it, and the minimal ceiling's two statements travel in one message. \
         PostgreSQL CPU: user + system time (`/proc/<pid>/stat`) of the postmaster (with the exited \
         children it reaped: the ceilings' connections) and of the live backends of the bench database \
         and the background processes, between the same two snapshots, divided by the same count. The \
         minimal set in `-M simple` carries literals, so PostgreSQL parses and plans both statements on \
         every request (no prepared plan): where its PostgreSQL CPU exceeds the current set's, that is the \
         price of one round trip without prepared statements.\n"
    );
    let _ = writeln!(
        s,
        "| scenario | system | requests/s | statements/request | PostgreSQL CPU µs/request | server CPU µs/request |"
    );
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | ---: |");
    let all = rows(d);
    for (scenario, systems) in &all {
        for (system, rps, db, n, server) in systems {
            let _ = writeln!(
                s,
                "| {scenario} | {system} | {rps:.0} | {} | {} | {} |",
                cell(db.statements_per(*n), 2),
                cell(db.cpu_per(*n), 0),
                cell(*server, 0)
            );
        }
    }
    if d.statements_missing.is_none() {
        let _ = writeln!(
            s,
            "\nThe statements behind the counts (executions per request, most first; under 0.005 left out). \
             PostgreSQL 15's pg_stat_statements counts almost none of the `BEGIN` and `COMMIT` that pgbench \
             `-M prepared` runs as prepared statements, so the current-set ceiling shows 2 statements \
             fewer than it runs; its texts are normalised (constants as `$n`), whichever client sent them.\n"
        );
        for (scenario, systems) in &all {
            for (system, _, db, n, _) in systems {
                let top: Vec<String> = db
                    .top(*n, 6)
                    .iter()
                    .filter(|(_, per)| *per >= 0.005)
                    .map(|(q, per)| format!("{per:.2} × `{}`", short(q)))
                    .collect();
                let _ = writeln!(s, "- {scenario}, {system}: {}", top.join("; "));
            }
        }
    }
    let _ = writeln!(s);
    before(s, d, h, &all);
}

/// framework ÷ before, when `--before-bin` was given.
fn before(s: &mut String, d: &DatasetResult, h: &str, all: &[(&'static str, Vec<Row<'_>>)]) {
    let Some(bin) = &d.before_bin else { return };
    let _ = writeln!(s, "{h} Framework ÷ before (`--before-bin {bin}`)\n");
    let _ = writeln!(
        s,
        "Each cell: framework / before = ratio (above 1: the framework now does more of it; for requests/s, \
         better).\n"
    );
    let _ = writeln!(
        s,
        "| scenario | requests/s | statements/request | PostgreSQL CPU µs/request | server CPU µs/request |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    let pair = |a: Option<f64>, b: Option<f64>, decimals: usize| match (a, b) {
        (Some(a), Some(b)) => format!("{a:.decimals$} / {b:.decimals$} = {:.2}", ratio(a, b)),
        _ => "–".to_string(),
    };
    for (scenario, systems) in all {
        let find = |name: &str| systems.iter().find(|r| r.0 == name);
        if let (Some(f), Some(b)) = (find("framework"), find("framework (before)")) {
            let _ = writeln!(
                s,
                "| {scenario} | {} | {} | {} | {} |",
                pair(Some(f.1), Some(b.1), 0),
                pair(f.2.statements_per(f.3), b.2.statements_per(b.3), 2),
                pair(f.2.cpu_per(f.3), b.2.cpu_per(b.3), 0),
                pair(f.4, b.4, 0)
            );
        }
    }
    if let Some((_, check)) = &d.create_before {
        let _ = writeln!(s, "\nCreate under load on the before build: {}.", check.sentence());
    }
    let _ = writeln!(s);
}
