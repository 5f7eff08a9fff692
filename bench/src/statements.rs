//! The SQL that one list request and one retrieve request send to PostgreSQL, in order.
//!
//! This is the **one place** that lists them. It is used three ways:
//! - the pgbench ceiling scripts are generated from [`request`] ([`pgbench_script`]);
//! - the hand-written baseline (`src/bin/baseline.rs`) runs these constants;
//! - before any load, the runner traces what the framework and the baseline really send
//!   (`log_statement = 'all'` for the serving role in the bench database) and stops with a diff
//!   when the baseline's differs from [`expected_trace`]. The framework sends the same
//!   membership statement and query, since issue 15 as one message of `EXECUTE`s of statements
//!   it prepares per connection; its trace is shown, and its round trips are counted by
//!   `tests/tests/pg_round_trips.rs`.
//!
//! The resource statements are also checked against the framework's own text by the unit tests
//! below (`Customer::DESC.sql`, `ListQuery::to_sql`).

/// The tenant statement, run first inside the request's transaction: resolves the active company
/// (the `X-Company-Id` one, `$2`, or the user's default), checks membership, and sets the
/// transaction-local tenant that row-level security reads, all at once
/// (`RESOLVE_MEMBERSHIP_AND_SET_TENANT` in `tenant-core/src/tenant.rs`).
pub const MEMBERSHIP: &str = "SELECT m.company_id, m.role, set_config('app.company_id', m.company_id::text, true) \
     FROM memberships m WHERE m.user_id = $1 AND m.company_id = COALESCE($2, (SELECT u.default_company_id FROM users u WHERE u.id = $1))";

/// `GET /api/customers?page_size=20`: the macro's `list` text with its `count` as a scalar
/// sub-query, plus the default order and the page (`ListQuery::to_sql` in `tenant-core/src/query.rs`).
pub const LIST: &str = "SELECT id, company_id, created_at, updated_at, name, email, phone, notes, \
     (SELECT COUNT(*) FROM customers WHERE company_id = $1) \
     FROM customers WHERE company_id = $1 ORDER BY created_at ASC, id ASC LIMIT $2 OFFSET $3";

/// `GET /api/customers/{id}`: the macro's `select_one`.
pub const RETRIEVE: &str = "SELECT id, company_id, created_at, updated_at, name, email, phone, notes \
     FROM customers WHERE company_id = $1 AND id = $2";

/// The page size of the list scenario (`?page_size=20`).
pub const PAGE_SIZE: i64 = 20;

/// The two scenarios the baseline and the ceiling cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    List,
    Retrieve,
}

impl Read {
    pub const ALL: [Read; 2] = [Read::List, Read::Retrieve];

    pub fn name(self) -> &'static str {
        match self {
            Read::List => "list",
            Read::Retrieve => "retrieve",
        }
    }
}

/// What a statement parameter is bound to in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// The token's user.
    UserId,
    /// The active company (from the membership row).
    CompanyId,
    /// The customer in the path.
    CustomerId,
    /// `X-Company-Id` absent: a NULL uuid.
    NoCompanyHeader,
    /// An integer (page size, offset).
    Int(i64),
}

/// One statement and its parameters, `$1` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: &'static str,
    pub args: Vec<Arg>,
}

/// One step of a request's conversation with the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Begin,
    Run(Statement),
    Commit,
}

/// Every statement one request of `scenario` sends, in order (sqlx's pool ping before each
/// acquire is a protocol message, not a statement, and is not listed).
pub fn request(scenario: Read) -> Vec<Step> {
    let membership = Statement { sql: MEMBERSHIP, args: vec![Arg::UserId, Arg::NoCompanyHeader] };
    let query = match scenario {
        Read::List => Statement { sql: LIST, args: vec![Arg::CompanyId, Arg::Int(PAGE_SIZE), Arg::Int(0)] },
        Read::Retrieve => Statement { sql: RETRIEVE, args: vec![Arg::CompanyId, Arg::CustomerId] },
    };
    vec![Step::Begin, Step::Run(membership), Step::Run(query), Step::Commit]
}

/// The statement texts a trace of one request must show, in order.
pub fn expected_trace(scenario: Read) -> Vec<String> {
    request(scenario)
        .into_iter()
        .map(|step| match step {
            Step::Begin => "BEGIN".to_string(),
            Step::Commit => "COMMIT".to_string(),
            Step::Run(s) => s.sql.to_string(),
        })
        .collect()
}

/// The helper table the pgbench scripts draw a random tenant from (created by the runner, as
/// the owner): one row per sampled customer, `n` from 1.
pub const IDS_TABLE: &str = "bench_ids";

/// A pgbench script running exactly the statements of one `scenario` request, for a random
/// tenant and customer. It starts with one primary-key lookup in [`IDS_TABLE`] (the price of
/// picking a random tenant inside pgbench), which the ceiling therefore also pays.
///
/// With `-M prepared`, `:variables` are sent as bound parameters, like sqlx does (integers too,
/// so a generic plan sees `LIMIT $2` as the framework's does). pgbench cannot bind a NULL, so
/// the absent `X-Company-Id` is written as the literal `NULL::uuid`.
pub fn pgbench_script(scenario: Read, ids: usize) -> String {
    let steps = request(scenario);
    let mut out = format!("\\set r random(1, {ids})\n");
    let mut ints: Vec<i64> = steps
        .iter()
        .flat_map(|step| match step {
            Step::Run(s) => s.args.clone(),
            _ => vec![],
        })
        .filter_map(|arg| match arg {
            Arg::Int(n) => Some(n),
            _ => None,
        })
        .collect();
    ints.sort_unstable();
    ints.dedup();
    for n in ints {
        out.push_str(&format!("\\set {} {n}\n", int_var(n)));
    }
    out.push_str(&format!(
        "SELECT user_id AS uid, company_id AS cid, customer_id AS xid FROM {IDS_TABLE} WHERE n = :r \\gset\n"
    ));
    for step in steps {
        match step {
            Step::Begin => out.push_str("BEGIN;\n"),
            Step::Commit => out.push_str("COMMIT;\n"),
            Step::Run(s) => {
                out.push_str(&substitute(s.sql, &s.args, variable));
                out.push_str(";\n");
            }
        }
    }
    out
}

/// The ceiling a read chases (issue 15): the fewest round trips it can take, one. A pgbench
/// script (for `-M simple`) whose request is ONE simple-protocol message holding the membership
/// statement, which also sets the tenant, and the scenario's query, run by PostgreSQL as one
/// implicit transaction (pgbench sends lines joined by `\;` as one message). The query reads the
/// company from the setting the membership statement made; every other value is a literal. The
/// same [`IDS_TABLE`] lookup as [`pgbench_script`] comes first, as its own message.
pub fn minimal_script(scenario: Read, ids: usize) -> String {
    let mut out = format!("\\set r random(1, {ids})\n");
    out.push_str(&format!(
        "SELECT user_id AS uid, company_id AS cid, customer_id AS xid FROM {IDS_TABLE} WHERE n = :r \\gset\n"
    ));
    let runs: Vec<Statement> = request(scenario)
        .into_iter()
        .filter_map(|step| match step {
            Step::Run(s) => Some(s),
            _ => None,
        })
        .collect();
    let last = runs.len().saturating_sub(1);
    for (i, s) in runs.iter().enumerate() {
        out.push_str(&substitute(s.sql, &s.args, literal));
        out.push_str(if i < last { " \\;\n" } else { ";\n" });
    }
    out
}

/// `arg` as a pgbench variable bound as a parameter in `-M prepared` ([`pgbench_script`]).
fn variable(arg: &Arg) -> String {
    match arg {
        Arg::UserId => ":uid".to_string(),
        Arg::CompanyId => ":cid".to_string(),
        Arg::CustomerId => ":xid".to_string(),
        Arg::NoCompanyHeader => "NULL::uuid".to_string(),
        Arg::Int(n) => format!(":{}", int_var(*n)),
    }
}

/// `arg` as a literal in `-M simple` ([`minimal_script`]; pgbench substitutes `:uid` inside the
/// quotes too); the company is the one the membership statement set.
fn literal(arg: &Arg) -> String {
    match arg {
        Arg::UserId => "':uid'".to_string(),
        Arg::CompanyId => {
            format!("NULLIF(current_setting('{}', true), '')::uuid", tenant_core::db::TENANT_SETTING)
        }
        Arg::CustomerId => "':xid'".to_string(),
        Arg::NoCompanyHeader => "NULL::uuid".to_string(),
        Arg::Int(n) => n.to_string(),
    }
}

/// Replaces `$n` by `write(args[n - 1])`.
fn substitute(sql: &str, args: &[Arg], write: fn(&Arg) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut end = i + 1;
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + 1;
            chars.next();
        }
        match sql[i + 1..end].parse::<usize>().ok().and_then(|n| args.get(n.wrapping_sub(1))) {
            Some(arg) => out.push_str(&write(arg)),
            None => out.push_str(&sql[i..end]),
        }
    }
    out
}

/// The pgbench variable holding the integer `n`.
fn int_var(n: i64) -> String {
    if n < 0 { format!("int_minus_{}", n.unsigned_abs()) } else { format!("int_{n}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use demo_app::Customer;
    use tenant_core::Resource;
    use tenant_core::query::ListQuery;
    use tenant_core::value::Value;

    #[test]
    fn resource_statements_are_the_framework_s() {
        assert_eq!(RETRIEVE, Customer::DESC.sql.select_one);
        let pairs = vec![("page_size".to_string(), PAGE_SIZE.to_string())];
        let query = ListQuery::parse(&Customer::DESC, &pairs).unwrap();
        let (sql, params) = query.to_sql(&Customer::DESC, tenant_core::Dialect::Postgres, Value::Uuid(None));
        assert_eq!(LIST, sql.as_str());
        assert_eq!(params[1..], [Value::I64(Some(PAGE_SIZE)), Value::I64(Some(0))]);
    }

    #[test]
    fn tenant_setting_is_the_one_row_level_security_reads() {
        assert!(MEMBERSHIP.contains(&format!("set_config('{}'", tenant_core::db::TENANT_SETTING)));
    }

    #[test]
    fn pgbench_scripts_bind_every_parameter() {
        let list = pgbench_script(Read::List, 7);
        assert!(list.starts_with("\\set r random(1, 7)\n"));
        assert!(list.contains("WHERE m.user_id = :uid AND m.company_id = COALESCE(NULL::uuid, (SELECT"));
        assert!(list.contains("\\set int_0 0\n\\set int_20 20\n"));
        assert!(
            list.contains("WHERE company_id = :cid ORDER BY created_at ASC, id ASC LIMIT :int_20 OFFSET :int_0;\n")
        );
        let retrieve = pgbench_script(Read::Retrieve, 7);
        assert!(retrieve.contains("WHERE company_id = :cid AND id = :xid;\nCOMMIT;\n"));
        for script in [list, retrieve] {
            assert!(!script.contains('$'), "{script}");
        }
    }

    #[test]
    fn minimal_scripts_send_one_message() {
        let company = "NULLIF(current_setting('app.company_id', true), '')::uuid";
        let retrieve = minimal_script(Read::Retrieve, 7);
        assert!(retrieve.contains(" \\gset\nSELECT m.company_id, m.role, set_config("), "{retrieve}");
        assert!(retrieve.contains("WHERE m.user_id = ':uid' AND m.company_id = COALESCE(NULL::uuid, (SELECT"));
        assert!(retrieve.ends_with(&format!("WHERE u.id = ':uid')) \\;\nSELECT id, company_id, created_at, updated_at, name, email, phone, notes FROM customers WHERE company_id = {company} AND id = ':xid';\n")), "{retrieve}");
        let list = minimal_script(Read::List, 7);
        assert!(list.contains(&format!("WHERE company_id = {company}) FROM customers WHERE company_id = {company} ORDER BY created_at ASC, id ASC LIMIT 20 OFFSET 0;\n")), "{list}");
        for script in [list, retrieve] {
            assert!(!script.contains('$') && !script.contains("BEGIN") && script.matches("\\;").count() == 1);
        }
    }
}
