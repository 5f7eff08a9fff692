//! The details of the last data set: the statements each request runs, the pgbench scripts of
//! the ceiling, and the EXPLAIN of every generated statement.

use std::fmt::Write as _;

use crate::run::DatasetResult;

pub(super) fn details(s: &mut String, d: &DatasetResult) {
    let _ = writeln!(s, "### Statements per request (traced from PostgreSQL's log)\n");
    let _ = writeln!(
        s,
        "One instance of each server with a one-connection pool, `log_statement = 'all'` for the serving \
         role in the bench database; the runner stops if the baseline's list or retrieve differ \
         from `bench/src/statements.rs`, and if the baseline's JSON differs from the framework's. \
         The framework's first read of a caller is a transaction (`BEGIN` … `COMMIT`); later \
         ones send the membership statement and the query as one message of `EXECUTE`s \
         (`PREPARE`d on the connection the first time it misses them). The baseline's `BEGIN` \
         also costs sqlx's pool ping on acquire (a protocol round trip, not a statement).\n"
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
    let _ = writeln!(
        s,
        "The minimal statement set (issue 15), run with `-M simple`: the membership statement, which sets the \
         tenant, and the query, joined by `\\;` into one simple-protocol message that PostgreSQL runs as one \
         implicit transaction; the query reads the company from the setting, other values are literals.\n"
    );
    for (read, script) in &d.minimal_scripts {
        let _ = writeln!(s, "{} (minimal):\n\n```sql\n{}```\n", read.name(), script);
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
