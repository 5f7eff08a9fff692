//! `cargo run --release -p bench -- --rows 100000` (or `--scale`, `--smoke`): see
//! `bench::options::USAGE` and README.md, "Benchmark".

use std::path::PathBuf;

use bench::Result;
use bench::options::{Mode, Options, USAGE};
use bench::run::{Context, drop_leftovers, run_all};
use sqlx::Connection;

async fn bench(mut opts: Options) -> Result<bool> {
    if let Some(bin) = opts.before_bin.as_mut() {
        // Servers are started from the target directory: make the path absolute first.
        *bin = std::fs::canonicalize(&*bin).map_err(|e| format!("--before-bin {bin}: {e}"))?.display().to_string();
    }
    if opts.mode == Mode::Logins {
        return logins(opts).await;
    }
    bench::load::ensure_wrk()?;
    let admin_url = bench::pg::start_server()?;
    bench::procs::build_servers()?;
    let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
    let version: String = sqlx::query_scalar("SELECT version()").fetch_one(&mut conn).await?;
    conn.close().await?;
    let postgres = version.split(" on ").next().unwrap_or(&version).to_string();
    let machine = bench::machine::Machine::gather(postgres);

    let target = bench::procs::profile_dir()?.parent().map(PathBuf::from).ok_or("no target directory")?;
    let ctx = Context { opts: opts.clone(), admin_url, work_root: target.join("bench-work") };
    let path = |default: PathBuf| opts.out.as_ref().map_or(default, PathBuf::from);
    if let Mode::Callgrind(rows) = opts.mode {
        bench::callgrind::ensure_valgrind()?;
        let counts = bench::run::run_callgrind(&ctx, rows, &target.join("bench-callgrind")).await?;
        let section = bench::report::callgrind_section(&opts, &machine, &bench::callgrind::version(), &counts);
        let path = path(bench::pg::workspace_root().join("bench/RESULTS.md"));
        bench::results_file::write_section(&path, &bench::report::section_key(&opts), &section)?;
        println!("{section}");
        eprintln!("bench: report written to {}", path.display());
        return Ok(true);
    }
    let results = run_all(&ctx).await?;

    let section = bench::report::section(&opts, &machine, &results);
    let path = path(if opts.smoke() {
        target.join("bench-smoke.md")
    } else {
        bench::pg::workspace_root().join("bench/RESULTS.md")
    });
    bench::results_file::write_section(&path, &bench::report::section_key(&opts), &section)?;
    println!("{section}");
    eprintln!("bench: report written to {}", path.display());
    let problems: Vec<&String> = results.iter().flat_map(|d| &d.problems).collect();
    for p in &problems {
        eprintln!("bench: PROBLEM: {p}");
    }
    Ok(problems.is_empty())
}

/// `--logins`: needs neither PostgreSQL nor wrk.
async fn logins(opts: Options) -> Result<bool> {
    bench::procs::build_servers()?;
    let target = bench::procs::profile_dir()?.parent().map(PathBuf::from).ok_or("no target directory")?;
    let work = target.join("bench-work");
    let mut bursts = Vec::new();
    for clients in [64, 256] {
        eprintln!("bench: {clients} concurrent logins for {} s", opts.duration);
        let burst = bench::logins::burst(clients, opts.duration, &work).await?;
        eprintln!("bench: {burst:?}");
        bursts.push(burst);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let section = bench::logins::section(&opts.command, &bursts, cores);
    let path = opts.out.as_ref().map_or(bench::pg::workspace_root().join("bench/RESULTS.md"), PathBuf::from);
    bench::results_file::write_section(&path, &bench::report::section_key(&opts), &section)?;
    println!("{section}");
    eprintln!("bench: report written to {}", path.display());
    Ok(bursts.iter().all(|b| b.other == 0))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(2);
        }
    };
    // Like scripts/test.sh: a PostgreSQL server this run starts is stopped at its end
    // (TENANT_TEST_PG_KEEP=1 keeps it); one that was already running is left running.
    let stop_server = !bench::pg::server_running() && std::env::var("TENANT_TEST_PG_KEEP").as_deref() != Ok("1");
    // On Ctrl-C the run is dropped: its servers are killed by their guards; then the databases
    // it made are dropped.
    let outcome = tokio::select! {
        outcome = bench(opts) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    drop_leftovers().await;
    if stop_server {
        bench::pg::stop_server();
    }
    match outcome {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("bench: FAILED: see the problems above");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("bench: FAILED: {e}");
            std::process::exit(1);
        }
    }
}
