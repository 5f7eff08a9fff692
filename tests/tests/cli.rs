//! The management command line (`tenant_core::cli`, what `demo-app` runs), as a process over
//! this test's throwaway database on each backend: every subcommand, its output and exit code,
//! and the error exits (usage errors: 2; failures: 1, one `error: …` line on stderr).

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tests::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const DEMO_CLI: &str = env!("CARGO_BIN_EXE_demo_cli");

/// How long a subcommand may take on a loaded machine (`seed` hashes a few passwords).
const LIMIT: Duration = Duration::from_secs(120);

const STRONG: &str = "correct-horse-battery-staple";

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Asserts the exit code and that stderr is the one line `error: …` containing `message`.
    fn assert_error(&self, code: i32, message: &str) {
        assert_eq!(self.code, code, "exit code; stdout: {}; stderr: {}", self.stdout, self.stderr);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "an error line: {:?}", lines[0]);
        assert!(lines[0].contains(message), "{:?} in {:?}", message, lines[0]);
    }

    fn assert_ok(&self) -> &str {
        assert_eq!(self.code, 0, "exit code; stdout: {}; stderr: {}", self.stdout, self.stderr);
        &self.stdout
    }
}

fn command(app: &TestApp, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(DEMO_CLI);
    command.args(args).env_clear().kill_on_drop(true);
    command
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("RUST_LOG", "off");
    for (name, value) in envs {
        command.env(name, value);
    }
    command
}

/// Runs `demo_cli args…` with `stdin` on its standard input.
async fn run_with(app: &TestApp, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = command(app, args, envs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo_cli binary starts");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).await.unwrap();
    drop(pipe);
    let output = tokio::time::timeout(LIMIT, child.wait_with_output()).await.expect("it exits").expect("its output");
    Output {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn run(app: &TestApp, args: &[&str]) -> Output {
    run_with(app, args, &[], "").await
}

/// Runs SQL as the owner of the test's database.
async fn owner_sql(app: &TestApp, sql: &'static str) {
    let db = tenant_core::Db::connect(&app.database_url, 1).await.expect("the owner's pool");
    db.execute(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    db.close().await;
}

both_backends! {
    async fn usage_help_and_usage_errors(app: TestApp) {
        let help = run(&app, &["--help"]).await;
        for name in ["serve", "migrate", "makemigrations", "showmigrations", "check", "createuser", "createcompany",
            "addmember", "seed", "schema", "openapi"]
        {
            assert!(help.assert_ok().contains(name), "--help lists {name}: {}", help.stdout);
        }
        let sub = run(&app, &["addmember", "--help"]).await;
        assert!(sub.assert_ok().contains("--company"), "{}", sub.stdout);

        run(&app, &["bogus"]).await.assert_error(2, "unrecognized subcommand 'bogus'");
        run(&app, &["createuser", "--bogus"]).await.assert_error(2, "unexpected argument '--bogus'");
        run(&app, &["createuser"]).await.assert_error(2, "--email");
        run(&app, &["schema", "--dialect", "oracle"]).await.assert_error(2, "oracle");
        run(&app, &["migrate", "extra"]).await.assert_error(2, "unexpected argument 'extra'");

        // The demo's seed options, checked by clap before anything runs.
        let seed_help = run(&app, &["seed", "--help"]).await;
        assert!(seed_help.assert_ok().contains("--customers-per-company"), "{}", seed_help.stdout);
        run(&app, &["seed", "--companies", "0"]).await.assert_error(2, "--companies");
        run(&app, &["seed", "--companies", "many"]).await.assert_error(2, "--companies");
        run(&app, &["seed", "--customers-per-company", "5"]).await.assert_error(2, "--companies");
        run(&app, &["seed", "--companies", "2", "--customers-per-company", "-1"]).await.assert_error(2, "unexpected argument");
        run(&app, &["seed", "--rows", "5"]).await.assert_error(2, "unexpected argument '--rows'");
    }

    async fn migrations_schema_and_openapi(app: TestApp) {
        assert_eq!(run(&app, &["migrate"]).await.assert_ok(), "No migrations to apply.\n");
        assert_eq!(run(&app, &["showmigrations"]).await.assert_ok(), "[X] 0001_initial\n");
        assert_eq!(run(&app, &["makemigrations"]).await.assert_ok(), "No changes detected.\n");

        let schema = run(&app, &["schema"]).await;
        assert!(schema.assert_ok().contains("CREATE TABLE"), "{}", schema.stdout);
        let citus = run(&app, &["schema", "--dialect", "postgres", "--citus"]).await;
        assert!(citus.assert_ok().contains("create_distributed_table('invoices'"), "{}", citus.stdout);
        let sqlite = run(&app, &["schema", "--dialect", "sqlite"]).await;
        assert!(!sqlite.assert_ok().contains("ROW LEVEL SECURITY"), "{}", sqlite.stdout);
        if app.backend == Backend::Sqlite {
            run(&app, &["schema", "--citus"]).await.assert_error(1, "--citus needs the PostgreSQL dialect");
        }

        let openapi = run(&app, &["openapi"]).await;
        let document: serde_json::Value = serde_json::from_str(openapi.assert_ok()).expect("a JSON document");
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["paths"]["/api/invoices"].is_object(), "{document}");
    }

    async fn users_companies_and_members(app: TestApp) {
        let created = run_with(&app, &["createuser", "--email", "Owner@Example.com", "--password-stdin"], &[],
            &format!("{STRONG}\n")).await;
        let owner_id: uuid::Uuid = created.assert_ok().trim().parse().expect("the new user's id");
        let member = run(&app, &["createuser", "--email", "member@example.com", "--password", STRONG]).await;
        member.assert_ok();

        // The same checks as sign-up.
        run_with(&app, &["createuser", "--email", "owner@example.com", "--password-stdin"], &[], STRONG)
            .await
            .assert_error(1, "email: A user with this email already exists.");
        run(&app, &["createuser", "--email", "weak@example.com", "--password", "12345678"])
            .await
            .assert_error(1, "password: This password is too common.");
        run(&app, &["createuser", "--email", "not-an-address", "--password", STRONG]).await.assert_error(1, "email:");
        run(&app, &["createuser", "--email", "nopass@example.com"]).await.assert_error(1, "--password-stdin");
        run_with(&app, &["createuser", "--email", "nopass@example.com", "--password-stdin"], &[], "")
            .await
            .assert_error(1, "no password on standard input");

        let company = run(&app, &["createcompany", "Acme", "--admin", "owner@example.com"]).await;
        let company_id: uuid::Uuid = company.assert_ok().trim().parse().expect("the new company's id");
        run(&app, &["createcompany", "Acme", "--admin", "nobody@example.com"])
            .await
            .assert_error(1, "no user with the email \"nobody@example.com\"");

        let added = run(&app, &["addmember", "--email", "member@example.com", "--company", "Acme", "--role", "staff"]).await;
        assert!(added.assert_ok().contains(&company_id.to_string()), "{}", added.stdout);
        run(&app, &["addmember", "--email", "member@example.com", "--company", &company_id.to_string()])
            .await
            .assert_error(1, "already a member");
        run(&app, &["addmember", "--email", "member@example.com", "--company", "Nope"])
            .await
            .assert_error(1, "no company \"Nope\"");
        run(&app, &["addmember", "--email", "member@example.com", "--company", "Acme", "--role", "boss"])
            .await
            .assert_error(1, "unknown role \"boss\"");
        run(&app, &["addmember", "--email", "ghost@example.com", "--company", "Acme"])
            .await
            .assert_error(1, "no user with the email");

        // What the server sees: both log in; the owner is Acme's admin, the member its staff.
        for (email, role) in [("owner@example.com", "admin"), ("member@example.com", "staff")] {
            let token = app.post("/api/auth/token", &Auth::none(), json!({"email": email, "password": STRONG})).await;
            token.assert_status(200);
            let access = token.get("access").as_str().unwrap().to_string();
            let companies = app.get("/api/companies", &Auth::bearer(access)).await;
            companies.assert_status(200);
            assert_eq!(companies.body[0]["id"], json!(company_id), "{:?}", companies.body);
            assert_eq!(companies.body[0]["role"], role, "{:?}", companies.body);
        }
        let _ = owner_id;
    }

    async fn seed_fills_the_database(app: TestApp) {
        let seeded = run(&app, &["seed"]).await;
        assert!(seeded.assert_ok().starts_with("Seeded 2 companies."), "{}", seeded.stdout);
        let token = app
            .post("/api/auth/token", &Auth::none(), json!({"email": "admin@acme.test", "password": demo_app::seed::PASSWORD}))
            .await;
        token.assert_status(200);
    }

    async fn seed_at_scale_writes_each_companys_rows_with_progress(app: TestApp) {
        let seeded = run(&app, &["seed", "--companies", "3", "--customers-per-company", "50"]).await;
        let stdout = seeded.assert_ok();
        assert!(stdout.starts_with("Seeded 3 companies and 150 customers in "), "{stdout}");
        assert!(stdout.contains(" rows/s)"), "{stdout}");
        for i in 1..=3 {
            assert!(stdout.contains(&format!("  Scale Co {i} (")), "{stdout}");
        }
        // Progress on stderr, plain lines (not a terminal): rows done of the total, the rate,
        // the time; the last one has every row. Nothing else there (RUST_LOG=off).
        let progress: Vec<&str> = seeded.stderr.lines().collect();
        assert!(!progress.is_empty(), "progress lines on stderr");
        for line in &progress {
            let rest = line.strip_prefix("seeded ").unwrap_or_else(|| panic!("a progress line: {line:?}"));
            let (counts, rest) = rest.split_once(" rows (").unwrap_or_else(|| panic!("{line:?}"));
            let (done, total) = counts.split_once('/').unwrap_or_else(|| panic!("{line:?}"));
            assert!(done.parse::<u64>().unwrap() <= 150 && total == "150", "{line:?}");
            assert!(rest.contains(" rows/s, ") && rest.ends_with(" s)"), "{line:?}");
        }
        assert!(progress.last().unwrap().starts_with("seeded 150/150 rows ("), "{progress:?}");
        assert!(!stdout.contains("seeded "), "progress stays off stdout: {stdout}");

        // Each company's admin sees exactly its own 50, and none of another company's.
        let mut first_customer = Vec::new();
        let mut admins = Vec::new();
        for i in 1..=3 {
            let email = demo_app::seed::scale_admin_email(i);
            let token = app.post("/api/auth/token", &Auth::none(), json!({"email": email, "password": demo_app::seed::PASSWORD})).await;
            token.assert_status(200);
            let auth = Auth::bearer(token.get("access").as_str().unwrap().to_string());
            let domain = format!("@company-{i}.scale.test");
            let mut seen = 0;
            for page in 1.. {
                let listed = app.get(&format!("/api/customers?page={page}"), &auth).await;
                listed.assert_status(200);
                assert_eq!(listed.body["count"], json!(50), "{}", listed.text);
                let results = listed.body["results"].as_array().unwrap();
                assert!(results.iter().all(|c| c["email"].as_str().unwrap().ends_with(&domain)), "{}", listed.text);
                if page == 1 {
                    first_customer.push(results[0]["id"].as_str().unwrap().to_string());
                }
                seen += results.len();
                if listed.body["next"].is_null() {
                    break;
                }
            }
            assert_eq!(seen, 50, "company {i} lists its 50 customers");
            admins.push(auth);
        }
        for (i, auth) in admins.iter().enumerate() {
            for (j, id) in first_customer.iter().enumerate() {
                let got = app.get(&format!("/api/customers/{id}"), auth).await;
                got.assert_status(if i == j { 200 } else { 404 });
            }
        }

        // Running it again: the admins exist, nothing is written twice.
        let again = run(&app, &["seed", "--companies", "1", "--customers-per-company", "1"]).await;
        again.assert_error(1, "already seeded?");
    }

    async fn check_passes_then_reports_each_finding(app: TestApp) {
        let clean = run(&app, &["check"]).await;
        assert_eq!(clean.assert_ok(), "No issues found.\n");

        // The production guard: one line per refused setting.
        let production = run_with(&app, &["check"], &[("APP_ENV", "production")], "").await;
        production.assert_error_with_findings();
        assert!(production.stdout.lines().all(|l| l.starts_with("production: ")), "{}", production.stdout);
        assert!(production.stdout.contains("ALLOWED_HOSTS"), "{}", production.stdout);
        assert!(production.stdout.contains("DOCS_PAGE=off"), "{}", production.stdout);

        // A bad setting.
        let config = run_with(&app, &["check"], &[("BIND_ADDR", "nowhere")], "").await;
        config.assert_error_with_findings();
        assert!(config.stdout.starts_with("configuration: "), "{}", config.stdout);

        // The serving role escapes row-level security (PostgreSQL: served as the superuser).
        if app.backend == Backend::Postgres {
            let bypass = run_with(&app, &["check"], &[("DATABASE_APP_URL", &app.database_url)], "").await;
            bypass.assert_error_with_findings();
            assert!(bypass.stdout.starts_with("isolation: refusing to serve"), "{}", bypass.stdout);
        }

        // Schema drift: a column renamed behind the models' back.
        owner_sql(&app, "ALTER TABLE customers RENAME COLUMN email TO e_mail").await;
        let drift = run(&app, &["check"]).await;
        drift.assert_error_with_findings();
        assert!(drift.stdout.lines().any(|l| l.starts_with("schema: ") && l.contains("email")), "{}", drift.stdout);
    }

    async fn serve_migrates_and_listens(app: TestApp) {
        let (addr, child, said) = start_serving(&app, &[]).await;
        assert_eq!(said[0], format!("demo-app listening on http://{addr}"), "{said:?}");
        assert_eq!(said.last().unwrap(), &format!("  docs: http://{addr}/docs"), "{said:?}");
        match app.backend {
            Backend::Sqlite => {
                let file = app.database_url.strip_prefix("sqlite:").unwrap();
                assert_eq!(said[1], format!("  backend: SQLite {file}"), "{said:?}");
                assert!(said[2].starts_with("  row-level security: off (SQLite has none"), "{said:?}");
                assert_eq!(said.len(), 4, "{said:?}");
            }
            Backend::Postgres => {
                let database = app.database_url.rsplit('/').next().unwrap();
                assert!(said[1].starts_with("  backend: PostgreSQL 127.0.0.1:"), "{said:?}");
                // A Citus coordinator is named as one (README, "Scaling out with Citus").
                let suffix = if app.db.is_citus() { " (Citus coordinator)" } else { "" };
                assert!(said[1].ends_with(&format!("/{database}{suffix}")), "{said:?}");
                let role = tenant_core::Config::new(&app.database_url).app_role;
                assert_eq!(said[2], format!("  serving role: {role}"), "{said:?}");
                // The demo's tenant tables: customers, products, invoices.
                let rls = said[3].strip_prefix("  row-level security: on (forced on ").expect("RLS on");
                let tables: u64 = rls.strip_suffix(" tenant tables)").unwrap().parse().unwrap();
                assert_eq!(tables, 3, "{said:?}");
                assert_eq!(said.len(), 5, "{said:?}");
                let password = tenant_core::Config::new(&app.database_url).app_password;
                assert!(!said.join("\n").contains(&password), "no password: {said:?}");
            }
        }
        let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("it serves");
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut response = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        sigterm_exits_0(child).await;

        // PostgreSQL served past row-level security (the superuser, let through by
        // ALLOW_RLS_BYPASS): it says so, and why.
        if app.backend == Backend::Postgres {
            let envs = [("DATABASE_APP_URL", app.database_url.as_str()), ("ALLOW_RLS_BYPASS", "1")];
            let (_, child, said) = start_serving(&app, &envs).await;
            assert_eq!(said[2], "  serving role: postgres", "{said:?}");
            assert!(said[3].starts_with("  row-level security: off (bypassed, ALLOW_RLS_BYPASS is set: "), "{said:?}");
            assert!(said[3].contains("superuser"), "{said:?}");
            sigterm_exits_0(child).await;
        }

        // An address that cannot be bound: one line, exit 1.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken_addr = taken.local_addr().unwrap().to_string();
        run_with(&app, &["serve"], &[("BIND_ADDR", &taken_addr)], "").await.assert_error(1, "in use");
    }
}

/// Starts `demo_cli serve` on a free port with `envs`; its address, the process, and what it
/// printed once listening (up to the docs line, which the demo prints last).
async fn start_serving(app: &TestApp, envs: &[(&str, &str)]) -> (String, tokio::process::Child, Vec<String>) {
    let addr = tests::ports::free_local_addr().to_string();
    let mut envs = envs.to_vec();
    envs.push(("BIND_ADDR", &addr));
    let mut child = command(app, &["serve"], &envs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo_cli binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    while said.last().is_none_or(|l: &String| !l.starts_with("  docs: ")) {
        let line = tokio::time::timeout(LIMIT, lines.next_line()).await.expect("it starts").unwrap();
        said.push(line.unwrap_or_else(|| panic!("stdout ended after {said:?}")));
    }
    (addr, child, said)
}

/// SIGTERM to a serving `child`: a graceful shutdown, exit 0.
async fn sigterm_exits_0(mut child: tokio::process::Child) {
    let pid = child.id().expect("still running") as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid, which it still is (not yet reaped).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
    let status = tokio::time::timeout(LIMIT, child.wait()).await.expect("it exits").unwrap();
    assert!(status.success(), "{status}");
}

/// No resource: the test's database has the core tables only, so the demo's own migrations
/// are pending for `demo_cli migrate`.
fn bare(app: tenant_core::App) -> tenant_core::App {
    app
}

both_backends! {
    register = bare;

    async fn migrate_prints_the_plan_then_each_step(app: TestApp) {
        let migrations = demo_app::MIGRATIONS.of(match app.backend {
            Backend::Sqlite => tenant_core::Dialect::Sqlite,
            Backend::Postgres => tenant_core::Dialect::Postgres,
        });
        let total = migrations.len();
        assert!(total >= 1);
        let shown = run(&app, &["showmigrations"]).await;
        assert!(shown.assert_ok().starts_with("[ ] 0001_initial\n"), "{}", shown.stdout);

        let migrated = run(&app, &["migrate"]).await;
        let lines: Vec<&str> = migrated.assert_ok().lines().collect();
        assert_eq!(lines[0], format!("Operations to perform: {total} migration(s) to apply"), "{lines:?}");
        assert_eq!(lines.len(), 1 + total, "{lines:?}");
        for (i, (line, m)) in lines[1..].iter().zip(migrations).enumerate() {
            let prefix = format!("  Applying {:04}_{} [{}/{total}]... OK (", m.version, m.description, i + 1);
            let ms = line.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(" ms)"));
            assert!(ms.is_some_and(|ms| ms.parse::<u64>().is_ok()), "{line:?} is {prefix}<ms> ms)");
        }
        assert_eq!(migrated.stderr, "", "nothing on stderr");

        assert_eq!(run(&app, &["migrate"]).await.assert_ok(), "No migrations to apply.\n");
        let shown = run(&app, &["showmigrations"]).await;
        assert!(shown.assert_ok().lines().all(|l| l.starts_with("[X] ")), "{}", shown.stdout);
        // The tables exist and are served: the demo's checks pass.
        assert_eq!(run(&app, &["check"]).await.assert_ok(), "No issues found.\n");
    }

    async fn a_failing_migration_ends_its_line_with_failed(app: TestApp) {
        // A table in the way of the first migration's CREATE TABLE.
        owner_sql(&app, "CREATE TABLE customers (x INTEGER)").await;
        let failed = run(&app, &["migrate"]).await;
        failed.assert_error(1, "app migrations failed");
        let lines: Vec<&str> = failed.stdout.lines().collect();
        assert!(lines[0].starts_with("Operations to perform: "), "{lines:?}");
        assert!(lines[1].starts_with("  Applying 0001_initial [1/") && lines[1].ends_with("]... FAILED"), "{lines:?}");
        // Nothing of it stays: it is still pending.
        let shown = run(&app, &["showmigrations"]).await;
        assert!(shown.assert_ok().starts_with("[ ] 0001_initial\n"), "{}", shown.stdout);
    }
}

impl Output {
    /// `check` with findings: exit 1, the findings on stdout, one summary line on stderr.
    fn assert_error_with_findings(&self) {
        assert!(!self.stdout.is_empty(), "findings on stdout; stderr: {}", self.stderr);
        self.assert_error(1, "check found");
    }
}
