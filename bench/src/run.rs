//! One benchmark run: per data set, a fresh database, the statement trace, the seed, EXPLAIN, and
//! the load on the framework, the baseline and the ceiling.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::Result;
use crate::dbwork::Probe;
use crate::load::{Driver, Load, Scenario, WrkResult};
use crate::measure::{measure, measure_create};
use crate::options::Options;
use crate::pg::Database;
use crate::pgbench::Ceiling;
use crate::procs::Server;
pub use crate::results::{CreateCheck, DatasetResult, ReadResult};
use crate::seed::Dataset;
use crate::statements::Read;
use crate::trace::{LogTail, Traced, comparable, diff, traced};

/// The JWT secret both servers sign and verify with (tokens are minted with it too).
pub const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-0123456789";

/// Databases created and not yet dropped, so an interrupted run can still drop them.
static CREATED: Mutex<Vec<Database>> = Mutex::new(Vec::new());

/// Drops every database this process created and has not dropped yet.
pub async fn drop_leftovers() {
    let left: Vec<Database> = std::mem::take(&mut *CREATED.lock().unwrap_or_else(|e| e.into_inner()));
    for db in left {
        if let Err(e) = db.drop_database().await {
            eprintln!("bench: warning: could not drop database {}: {e}", db.name);
        }
    }
}

/// Everything about the run that is not one data set.
pub struct Context {
    pub opts: Options,
    pub admin_url: String,
    /// `target/bench-work/`.
    pub work_root: PathBuf,
}

impl Context {
    pub(crate) fn load(&self, seconds: u64) -> Load {
        Load { threads: self.opts.threads, connections: self.opts.connections, seconds }
    }
}

fn read_scenario(read: Read) -> Scenario {
    match read {
        Read::List => Scenario::List,
        Read::Retrieve => Scenario::Retrieve,
    }
}

/// The failures a wrk run shows.
fn wrk_problems(what: &str, r: &WrkResult) -> Vec<String> {
    let mut out = Vec::new();
    if r.non2xx > 0 {
        out.push(format!("{what}: {} non-2xx responses", r.non2xx));
    }
    if r.lua.s5xx > 0 {
        out.push(format!("{what}: {} 5xx responses", r.lua.s5xx));
    }
    if r.socket_error_total() > 0 {
        let [c, rd, w, t] = r.socket_errors;
        out.push(format!("{what}: socket errors: connect {c}, read {rd}, write {w}, timeout {t}"));
    }
    if r.requests == 0 {
        out.push(format!("{what}: no request completed"));
    }
    out
}

/// Runs every data set of the options, in order.
pub async fn run_all(ctx: &Context) -> Result<Vec<DatasetResult>> {
    let mut results = Vec::new();
    for rows in ctx.opts.datasets() {
        results.push(run_dataset(ctx, rows).await?);
    }
    Ok(results)
}

async fn run_dataset(ctx: &Context, rows: usize) -> Result<DatasetResult> {
    on_fresh_database(ctx, rows, async |db, work| run_on(ctx, db, rows, work).await).await
}

/// Runs `f` on a new database and work directory; drops the database afterwards, and removes
/// the work directory unless `f` failed (it keeps the servers' logs).
async fn on_fresh_database<T>(
    ctx: &Context,
    rows: usize,
    f: impl AsyncFnOnce(&Database, &Path) -> Result<T>,
) -> Result<T> {
    let db = Database::create(&ctx.admin_url).await?;
    CREATED.lock().unwrap_or_else(|e| e.into_inner()).push(db.clone());
    eprintln!("bench: {rows} rows: database {}", db.name);
    let work = ctx.work_root.join(&db.name);
    std::fs::create_dir_all(&work)?;
    let result = f(&db, &work).await;
    if let Err(e) = db.drop_database().await {
        eprintln!("bench: warning: could not drop database {}: {e}", db.name);
    } else {
        CREATED.lock().unwrap_or_else(|e| e.into_inner()).retain(|d| d.name != db.name);
    }
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("bench: the servers' logs are kept in {}", work.display());
    }
    result
}

fn framework_env(db: &Database, pool: u32, opts: &crate::options::Options) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATABASE_URL", db.owner_url.clone()),
        ("JWT_SECRET", JWT_SECRET.to_string()),
        // The seeded access tokens live as long as a run may (`seed.rs`, `TOKEN_TTL`); the server
        // refuses tokens that live longer than it issues.
        ("ACCESS_TOKEN_TTL_SECS", crate::seed::TOKEN_TTL.as_secs().to_string()),
        ("DATABASE_MAX_CONNECTIONS", pool.to_string()),
        ("RUST_LOG", opts.log.clone()),
        // The load comes from a few hundred seeded users at thousands of requests a second: the
        // request throttles stay on (their cost is part of the measurement) at rates no run reaches.
        ("THROTTLE_USER", "100000000/min".to_string()),
        ("THROTTLE_COMPANY", "100000000/min".to_string()),
    ];
    if opts.metrics {
        env.push(("METRICS_TOKEN", "bench-metrics-token-0123456789abcdef".to_string()));
    }
    env
}

fn baseline_env(db: &Database, pool: u32) -> Vec<(&'static str, String)> {
    vec![
        ("BASELINE_DATABASE_URL", db.app_url.clone()),
        ("JWT_SECRET", JWT_SECRET.to_string()),
        ("DATABASE_MAX_CONNECTIONS", pool.to_string()),
    ]
}

async fn run_on(ctx: &Context, db: &Database, rows: usize, work: &Path) -> Result<DatasetResult> {
    let opts = &ctx.opts;
    // The older build starts first, on the empty database, and runs to the end: it migrates to
    // its own schema, which the current build then migrates forward; an older build refuses a
    // database a newer one has migrated ("migration N was previously applied but is missing").
    let mut before = match &opts.before_bin {
        Some(bin) => {
            eprintln!("bench: starting the --before-bin build first (it migrates the empty database)");
            let env = framework_env(db, opts.pool, opts);
            Some(Server::start("framework-before", bin, &env, work).await?)
        }
        None => None,
    };
    // Statement logging for the serving role's new connections in this database, for the trace
    // servers only: it is switched off before the measured servers connect.
    db.log_app_statements(true).await?;
    eprintln!("bench: starting the framework with one connection for the statement trace (it migrates)");
    let framework_trace = Server::start("framework-trace", "demo-app", &framework_env(db, 1, opts), work).await?;
    eprintln!("bench: seeding {rows} customers over {} companies", crate::options::companies_for(rows));
    let dataset = crate::seed::seed(db, rows, JWT_SECRET).await?;
    eprintln!("bench: seeded in {:.1} s; tracing statements", dataset.seed_time.as_secs_f64());
    let traces = trace_phase(db, &dataset, framework_trace, work).await;
    db.log_app_statements(false).await?;
    let traces = traces?;

    eprintln!("bench: EXPLAIN of the generated statements");
    let explains = crate::explain::explain_all(db, &dataset.tenants[0]).await?;

    let data = work.join("tenants.tsv");
    crate::seed::write_wrk_data(&dataset, &data)?;
    let tag = format!("b{}", &db.name[db.name.len() - 8..]);
    let driver = Driver::new(work, data)?;
    let mut framework = Server::start("framework", "demo-app", &framework_env(db, opts.pool, opts), work).await?;
    let mut baseline = Server::start("baseline", "baseline", &baseline_env(db, opts.pool), work).await?;
    let mut probe = Probe::new(db).await?;
    let mut problems = Vec::new();

    let mut reads = Vec::new();
    for read in Read::ALL {
        let scenario = read_scenario(read);
        // A B C C B A …: alternating which server goes first cancels a linear drift of the machine.
        let mut runs: [Vec<WrkResult>; 3] = Default::default();
        for round in 0..opts.rounds {
            let mut order = vec![0, 1, 2];
            if round % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let server = match i {
                    0 => &mut framework,
                    1 => match before.as_mut() {
                        Some(server) => server,
                        None => continue,
                    },
                    _ => &mut baseline,
                };
                runs[i].push(measure(ctx, &driver, server, &mut probe, scenario, &tag).await?);
            }
        }
        let (fw, bl) = (WrkResult::combine(&runs[0]), WrkResult::combine(&runs[2]));
        let bf = before.as_ref().map(|_| WrkResult::combine(&runs[1]));
        problems.extend(wrk_problems(&format!("{} framework", read.name()), &fw));
        if let Some(bf) = &bf {
            problems.extend(wrk_problems(&format!("{} framework (before)", read.name()), bf));
        }
        problems.extend(wrk_problems(&format!("{} baseline", read.name()), &bl));
        let mut ceilings = Vec::new();
        for ceiling in [Ceiling::Current, Ceiling::Minimal] {
            eprintln!("bench: {} ceiling (pgbench -M {})", read.name(), ceiling.protocol());
            if opts.warmup > 0 {
                crate::pgbench::run(db, (read, ceiling), dataset.ids, ctx.load(opts.warmup), work, false).await?;
            }
            let snapshot = probe.start().await?;
            let mut r =
                crate::pgbench::run(db, (read, ceiling), dataset.ids, ctx.load(opts.duration), work, true).await?;
            r.db = probe.finish(&snapshot).await?;
            if r.failed > 0 {
                problems.push(format!(
                    "{} ceiling -M {}: {} failed pgbench transactions",
                    read.name(),
                    ceiling.protocol(),
                    r.failed
                ));
            }
            ceilings.push(r);
        }
        let minimal = ceilings.pop().unwrap_or_default();
        let ceiling = ceilings.pop().unwrap_or_default();
        eprintln!(
            "bench:   {}: framework {:.0}/s, baseline {:.0}/s, ceiling {:.0}/s, minimal ceiling {:.0}/s",
            read.name(),
            fw.rps,
            bl.rps,
            ceiling.tps,
            minimal.tps
        );
        let rounds = runs[0].iter().zip(&runs[2]).map(|(f, b)| (f.rps, b.rps)).collect();
        let before_rounds = runs[1].iter().map(|r| r.rps).collect();
        reads.push(ReadResult {
            scenario: read,
            framework: fw,
            before: bf,
            baseline: bl,
            ceiling,
            minimal,
            rounds,
            before_rounds,
        });
    }

    let mut writes = Vec::new();
    let mut create = CreateCheck::default();
    let mut create_before = None;
    for scenario in [Scenario::FilterOrder, Scenario::Update, Scenario::Create] {
        let r = if scenario == Scenario::Create {
            let (r, check) = measure_create(ctx, db, &driver, &mut framework, &mut probe, &tag).await?;
            if !check.ok() {
                problems.push(format!("create: {}", check.sentence()));
            }
            create = check;
            if let Some(server) = before.as_mut() {
                // Its own email prefix, so its rows are told apart from the framework's.
                let (r, check) = measure_create(ctx, db, &driver, server, &mut probe, &format!("{tag}o")).await?;
                if !check.ok() {
                    problems.push(format!("create (before): {}", check.sentence()));
                }
                problems.extend(wrk_problems("create framework (before)", &r));
                eprintln!("bench:   create: framework (before) {:.0}/s", r.rps);
                create_before = Some((r, check));
            }
            r
        } else {
            measure(ctx, &driver, &mut framework, &mut probe, scenario, &tag).await?
        };
        problems.extend(wrk_problems(&format!("{} framework", scenario.name()), &r));
        if r.lua.s4xx > 0 {
            problems.push(format!("{} framework: {} 4xx responses", scenario.name(), r.lua.s4xx));
        }
        eprintln!("bench:   {}: framework {:.0}/s", scenario.name(), r.rps);
        writes.push((scenario, r));
    }
    let rss_framework_kib = framework.peak_rss_kib()?;
    let rss_baseline_kib = baseline.peak_rss_kib()?;
    let statements_missing = probe.missing.clone();
    probe.close().await;
    drop(framework);
    drop(before);
    drop(baseline);

    Ok(DatasetResult {
        rows,
        companies: dataset.tenants.len(),
        seed_time: dataset.seed_time,
        all_visible: dataset.all_visible,
        reads,
        writes,
        create,
        create_before,
        before_bin: opts.before_bin.clone(),
        statements_missing,
        rss_framework_kib,
        rss_baseline_kib,
        traces,
        explains,
        scripts: Read::ALL.iter().map(|r| (*r, crate::statements::pgbench_script(*r, dataset.ids))).collect(),
        minimal_scripts: Read::ALL.iter().map(|r| (*r, crate::statements::minimal_script(*r, dataset.ids))).collect(),
        problems,
    })
}

/// `--callgrind`: a fresh database with `rows` customers, then both servers under callgrind.
pub async fn run_callgrind(ctx: &Context, rows: usize, dumps: &Path) -> Result<Vec<crate::callgrind::Count>> {
    on_fresh_database(ctx, rows, async |db, work| {
        eprintln!("bench: starting the framework once to migrate");
        drop(Server::start("framework-migrate", "demo-app", &framework_env(db, 1, &ctx.opts), work).await?);
        let dataset = crate::seed::seed(db, rows, JWT_SECRET).await?;
        let data = work.join("tenants.tsv");
        crate::seed::write_wrk_data(&dataset, &data)?;
        let driver = Driver::new(work, data)?;
        let (fw, bl) = (framework_env(db, ctx.opts.pool, &ctx.opts), baseline_env(db, ctx.opts.pool));
        crate::callgrind::count_all(db, &driver, &fw, &bl, work, dumps, ctx.opts.duration).await
    })
    .await
}

/// Single requests to one-connection instances of both servers, with the statements each sent.
/// Fails when the baseline's list or retrieve does not send exactly [`crate::statements::expected_trace`], or
/// when the baseline's JSON differs from the framework's.
async fn trace_phase(db: &Database, dataset: &Dataset, framework: Server, work: &Path) -> Result<Vec<Traced>> {
    let tenant = &dataset.tenants[0];
    let (customer, email) = tenant.samples[0].clone();
    let token = tenant.token.as_str();
    let mut log = LogTail::open()?;
    let list_path = "/api/customers?page_size=20";
    let retrieve_path = format!("/api/customers/{customer}");
    let mut traces = Vec::new();
    let mut errors = Vec::new();

    let (fw_list, t) = traced(&framework, db, &mut log, "GET", list_path, token, None).await?;
    traces.push(t);
    let (fw_one, t) = traced(&framework, db, &mut log, "GET", &retrieve_path, token, None).await?;
    traces.push(t);
    let baseline = Server::start("baseline-trace", "baseline", &baseline_env(db, 1), work).await?;
    let (bl_list, t) = traced(&baseline, db, &mut log, "GET", list_path, token, None).await?;
    traces.push(t);
    let (bl_one, t) = traced(&baseline, db, &mut log, "GET", &retrieve_path, token, None).await?;
    traces.push(t);
    for (what, fw, bl) in [("list", &fw_list, &bl_list), ("retrieve", &fw_one, &bl_one)] {
        if fw.status != 200 || bl.status != 200 {
            errors.push(format!("{what}: framework {} {}, baseline {} {}", fw.status, fw.body, bl.status, bl.body));
        } else if comparable(fw, &framework)? != comparable(bl, &baseline)? {
            errors.push(format!(
                "{what}: the baseline's JSON differs from the framework's\nframework: {}\nbaseline:  {}",
                fw.body, bl.body
            ));
        }
    }
    drop(baseline);

    let body = r#"{"name": "Traced", "email": "traced@trace.bench.test"}"#;
    let (r, t) = traced(&framework, db, &mut log, "POST", "/api/customers", token, Some(body)).await?;
    traces.push(t);
    if r.status != 201 {
        errors.push(format!("create: {} {}", r.status, r.body));
    }
    let body = r#"{"name": "Traced rename"}"#;
    let (r, t) = traced(&framework, db, &mut log, "PATCH", &retrieve_path, token, Some(body)).await?;
    traces.push(t);
    if r.status != 200 {
        errors.push(format!("update: {} {}", r.status, r.body));
    }
    for path in [format!("/api/customers?email={email}"), "/api/customers?ordering=-name".to_string()] {
        let (r, t) = traced(&framework, db, &mut log, "GET", &path, token, None).await?;
        traces.push(t);
        if r.status != 200 {
            errors.push(format!("{path}: {} {}", r.status, r.body));
        }
    }
    drop(framework);

    // The baseline's statements are checked; the framework's are shown in the report. Its reads
    // now send the same two statements as one message of `EXECUTE`s of statements prepared per
    // connection (issue 15), the first request of a caller in a transaction, so its trace is not
    // this list; `tests/tests/pg_round_trips.rs` counts its round trips.
    for (i, read) in [(2, Read::List), (3, Read::Retrieve)] {
        if let Some(d) = diff(&crate::statements::expected_trace(read), &traces[i].statements) {
            errors.push(format!(
                "{} on {} does not send what bench/src/statements.rs lists (update it to match \
                 tenant-core/src/tenant.rs and crud.rs):\n{d}",
                read.name(),
                traces[i].system
            ));
        }
    }
    if errors.is_empty() { Ok(traces) } else { Err(errors.join("\n").into()) }
}
