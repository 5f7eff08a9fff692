//! The management CLI every app gets in one line, as Django's `manage.py`: an app's `main` is
//!
//! ```no_run
//! # fn register(app: tenant_core::App) -> tenant_core::App { app }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     tenant_core::config::load_dotenv();
//!     // Logging: the app installs its tracing subscriber here.
//!     tenant_core::cli::Cli::new("my-app").register(register).run().await
//! }
//! ```
//!
//! Subcommands (each with `--help`; none given is `serve`): `serve`, `migrate`,
//! `makemigrations [--allow-drop]`, `showmigrations`, `check`, `createuser`, `createcompany`,
//! `addmember`, `seed` (where the app provides one), `schema [--dialect] [--citus]`, `openapi`,
//! and the app's own ([`Cli::command`]). Settings come from the environment, as the server reads
//! them ([`Config::from_env`]). An error is one line on stderr, `error: …`, and exit code 1
//! (2 for a usage error); `check` prints one line per finding and exits 1 when there is any.

use std::future::Future;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use uuid::Uuid;

use crate::app::App;
use crate::config::Config;
use crate::db::{Db, Dialect, TxMode};
use crate::error::ApiError;
use crate::role::Role;
use crate::schema::{self, ServingRole};
use crate::value::Value;

/// The error of a subcommand or of an app's hook: printed as one line.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

type Hook<T> = Arc<dyn Fn(T) -> Pin<Box<dyn Future<Output = Result<(), CliError>> + Send>> + Send + Sync>;

type Running = Pin<Box<dyn Future<Output = Result<(), CliError>> + Send>>;

/// An app's `seed` with its arguments parsed, waiting for the configuration.
type SeedRun = Box<dyn FnOnce(Config) -> Running + Send>;

/// Parses an app's `seed` arguments from the subcommand's matches.
type SeedParse = dyn Fn(&clap::ArgMatches) -> Result<SeedRun, clap::Error> + Send + Sync;

/// An app's `seed`: how its arguments are added to the `seed` subcommand, and how it runs
/// with them (parsed from the subcommand's matches: a bad one is a usage error).
#[derive(Clone)]
struct Seed {
    augment: fn(clap::Command) -> clap::Command,
    parse: Arc<SeedParse>,
}

/// The arguments of a `seed` that takes none.
#[derive(clap::Args)]
struct NoArgs {}

/// An app's management command line: its name, how it registers its resources, and its
/// optional migrations folder, `seed` and commands of its own; [`Cli::run`] parses the
/// process's arguments and runs one subcommand.
pub struct Cli {
    name: String,
    version: Option<String>,
    register: Arc<dyn Fn(App) -> App + Send + Sync>,
    migrations_dir: Option<PathBuf>,
    seed: Option<Seed>,
    commands: Vec<(String, String, Hook<App>)>,
}

#[derive(Parser)]
#[command(about = "Manage the app: serve it, migrate its database, create users and companies.")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve HTTP on BIND_ADDR until SIGTERM or Ctrl-C (the default); prints the
    /// URL, the backend, the serving role and whether row-level security is on.
    Serve,
    /// Apply the pending migrations to DATABASE_URL one at a time: the plan, then each step
    /// ([i/N]) with its duration.
    Migrate,
    /// Write the next migration of the app's migrations folder from the models.
    Makemigrations {
        /// Let it drop the columns and tables the models no longer have (their data is deleted).
        #[arg(long)]
        allow_drop: bool,
    },
    /// List the migrations, [X] applied or [ ] pending.
    Showmigrations,
    /// Check the configuration, the production guard, the serving role's isolation and the
    /// schema: one line per finding; exit code 1 if there is any.
    Check,
    /// Create a user (its address unverified until it verifies it).
    Createuser {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// The password (visible to other users of this machine: prefer --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a company with an existing user as its admin; prints its id.
    Createcompany {
        /// The company's name.
        name: String,
        /// The e-mail address of its first admin (an existing user).
        #[arg(long)]
        admin: String,
    },
    /// Make an existing user a member of a company.
    Addmember {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// The company: its id, or its exact name.
        #[arg(long)]
        company: String,
        /// The member's role: admin or staff.
        #[arg(long, default_value = "staff")]
        role: String,
    },
    /// Fill an empty database with the app's demo data (the app's own options, if any, below).
    Seed,
    /// Print the SQL of the app's tables (after the core migrations).
    Schema {
        /// The SQL dialect; by default DATABASE_URL's backend.
        #[arg(long, value_parser = ["sqlite", "postgres"])]
        dialect: Option<String>,
        /// Add the calls that distribute the tenant tables on a Citus cluster (PostgreSQL).
        #[arg(long)]
        citus: bool,
    },
    /// Print the OpenAPI document of the app.
    Openapi,
}

impl Cli {
    /// The command line of the app called `name` (its binary's name, in `--help`), with no
    /// resources yet.
    pub fn new(name: impl Into<String>) -> Cli {
        Cli {
            name: name.into(),
            version: None,
            register: Arc::new(|app| app),
            migrations_dir: None,
            seed: None,
            commands: Vec::new(),
        }
    }

    /// The version `--version` prints.
    pub fn version(mut self, version: impl Into<String>) -> Cli {
        self.version = Some(version.into());
        self
    }

    /// How the app registers its resources and migrations on an [`App`] (its `register`).
    pub fn register(mut self, register: impl Fn(App) -> App + Send + Sync + 'static) -> Cli {
        self.register = Arc::new(register);
        self
    }

    /// The migrations folder in the source tree, where `makemigrations` writes; without it
    /// `makemigrations` is an error.
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// The app's `seed`, without arguments: it gets the configuration read from the
    /// environment.
    pub fn seed<F, Fut>(self, seed: F) -> Cli
    where
        F: Fn(Config) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CliError>> + Send + 'static,
    {
        self.seed_with(move |config, NoArgs {}| seed(config))
    }

    /// The app's `seed`, with arguments of its own: `A` is a clap `Args` struct
    /// (`#[derive(clap::Args)]`) whose options `seed` accepts (and `seed --help` lists), parsed
    /// and validated by clap before `seed` runs (a bad one is a usage error, exit code 2);
    /// `seed` gets them and the configuration read from the environment. For a seed that can
    /// also fill a database at scale, say `seed --companies N --customers-per-company M`; write
    /// its progress with [`crate::progress::Progress`] (stderr), its summary on stdout.
    pub fn seed_with<A, F, Fut>(mut self, seed: F) -> Cli
    where
        A: clap::Args + Send + 'static,
        F: Fn(Config, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CliError>> + Send + 'static,
    {
        let seed = Arc::new(seed);
        self.seed = Some(Seed {
            augment: A::augment_args,
            parse: Arc::new(move |matches| {
                let args = A::from_arg_matches(matches)?;
                let seed = seed.clone();
                Ok(Box::new(move |config| Box::pin(seed(config, args)) as Running) as SeedRun)
            }),
        });
        self
    }

    /// A subcommand of the app's own, `name`, described by `about`, without arguments: `run`
    /// gets the app connected to `DATABASE_URL` with its resources registered (not migrated).
    pub fn command<F, Fut>(mut self, name: impl Into<String>, about: impl Into<String>, run: F) -> Cli
    where
        F: Fn(App) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CliError>> + Send + 'static,
    {
        self.commands.push((name.into(), about.into(), Arc::new(move |app| Box::pin(run(app)))));
        self
    }

    /// Parses the process's arguments and runs the subcommand: exit code 0 on success, 1 on an
    /// error or a finding of `check`, 2 on a usage error.
    pub async fn run(self) -> ExitCode {
        self.run_with(std::env::args_os()).await
    }

    /// [`Cli::run`] with the given arguments (the first is the program's name).
    pub async fn run_with<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Args::command().name(self.name.clone()).bin_name(self.name.clone());
        if let Some(version) = &self.version {
            command = command.version(version.clone());
        }
        match &self.seed {
            None => {
                command = command.mut_subcommands(|sub| if sub.get_name() == "seed" { sub.hide(true) } else { sub })
            }
            Some(seed) => command = command.mut_subcommand("seed", seed.augment),
        }
        for (name, about, _) in &self.commands {
            command = command.subcommand(clap::Command::new(name.clone()).about(about.clone()));
        }
        let matches = match command.try_get_matches_from(args) {
            Ok(matches) => matches,
            Err(e) => return self.usage_error(e),
        };
        if let Some((name, _)) = matches.subcommand()
            && let Some((_, _, hook)) = self.commands.iter().find(|(n, _, _)| n == name)
        {
            let hook = hook.clone();
            let result = async {
                let app = self.connect().await?;
                hook(app).await
            }
            .await;
            return self.finish(result);
        }
        if let (Some(("seed", seed_matches)), Some(seed)) = (matches.subcommand(), &self.seed) {
            let run = match (seed.parse)(seed_matches) {
                Ok(run) => run,
                Err(e) => return self.usage_error(e),
            };
            let result = match Config::from_env() {
                Ok(config) => run(config).await,
                Err(e) => Err(e.into()),
            };
            return self.finish(result);
        }
        let args = match Args::from_arg_matches(&matches) {
            Ok(args) => args,
            Err(e) => return self.usage_error(e),
        };
        let command = args.command.unwrap_or(Command::Serve);
        if let Command::Check = command {
            return self.check().await;
        }
        let result = self.execute(command).await;
        self.finish(result)
    }

    fn usage_error(&self, e: clap::Error) -> ExitCode {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                ExitCode::SUCCESS
            }
            _ => {
                // clap's first paragraph (the message, and the missing arguments), as one line.
                let rendered = e.render().to_string();
                let first: Vec<&str> = rendered.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
                let first = first.join(" ");
                let first = first.strip_prefix("error: ").unwrap_or(&first);
                eprintln!("error: {first} (see {} --help)", self.name);
                ExitCode::from(2)
            }
        }
    }

    fn finish(&self, result: Result<(), CliError>) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {}", one_line(&e.to_string()));
                ExitCode::FAILURE
            }
        }
    }

    async fn connect(&self) -> Result<App, CliError> {
        let config = Config::from_env()?;
        Ok((self.register)(App::connect(config).await?))
    }

    /// The app over an in-memory SQLite database: what needs only the models (the schema, the
    /// OpenAPI document, `makemigrations`).
    async fn offline(&self, config: Config) -> Result<App, CliError> {
        let db = Db::connect("sqlite::memory:", 1).await?;
        Ok((self.register)(App::with_db(db, config)?))
    }

    async fn execute(&self, command: Command) -> Result<(), CliError> {
        match command {
            Command::Serve => self.serve().await,
            Command::Migrate => {
                let app = self.connect().await?;
                // Each piece as it comes: a long migration shows while it runs.
                crate::manage::migrate_reporting(&app, &mut |text| print_out(text)).await?;
                Ok(())
            }
            Command::Showmigrations => {
                let app = self.connect().await?;
                print_output(crate::manage::migration_command("showmigrations", &[], app, &PathBuf::new()).await)
            }
            Command::Makemigrations { allow_drop } => {
                let dir = self.migrations_dir.clone().ok_or("this app has no migrations folder")?;
                let app = self.offline(Config::from_env()?).await?;
                let args = if allow_drop { vec!["--allow-drop".to_string()] } else { Vec::new() };
                print_output(crate::manage::migration_command("makemigrations", &args, app, &dir).await)
            }
            Command::Check => unreachable!("check has its own exit codes"),
            Command::Createuser { email, password, password_stdin } => {
                let password = match (password, password_stdin) {
                    (Some(password), _) => password,
                    (None, true) => read_password()?,
                    (None, false) => return Err("give the password with --password-stdin (or --password)".into()),
                };
                let id = create_user(&Config::from_env()?, &email, password).await?;
                println!("{id}");
                Ok(())
            }
            Command::Createcompany { name, admin } => {
                let id = create_company(&Config::from_env()?, &name, &admin).await?;
                println!("{id}");
                Ok(())
            }
            Command::Addmember { email, company, role } => {
                let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}: admin or staff"))?;
                add_member(&Config::from_env()?, &email, &company, role).await
            }
            // An app's seed ran above, with its arguments.
            Command::Seed => Err("this app has no seed".into()),
            Command::Schema { dialect, citus } => self.schema(dialect.as_deref(), citus).await,
            Command::Openapi => {
                let app = self.offline(Config::from_env()?).await?;
                print_out(&format!("{}\n", app.openapi().to_pretty_json()?));
                Ok(())
            }
        }
    }

    async fn serve(&self) -> Result<(), CliError> {
        let config = Config::from_env()?;
        let addr = config.bind_addr;
        let app = (self.register)(App::connect(config).await?);
        app.migrate().await?;
        let server = crate::Server::from_app(app).await?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        // The signal handlers first: once it says it is listening, SIGTERM shuts it down gracefully.
        let server = server.with_shutdown(crate::shutdown_signal()?);
        server.announce(&self.name, listener.local_addr()?);
        server.run(listener).await?;
        Ok(())
    }

    async fn schema(&self, dialect: Option<&str>, citus: bool) -> Result<(), CliError> {
        let config = Config::from_env()?;
        let dialect = match dialect {
            Some("postgres") => Dialect::Postgres,
            Some(_) => Dialect::Sqlite,
            None => Dialect::of_url(&config.database_url),
        };
        if citus && dialect != Dialect::Postgres {
            return Err("--citus needs the PostgreSQL dialect (--dialect postgres or a PostgreSQL DATABASE_URL)".into());
        }
        let role = Db::serving_role(&config)?;
        // The password is the operator's secret: print where it goes, not what it is.
        let serving = ServingRole {
            name: &role,
            create_with_password: config.app_database_url.is_none().then_some("<DATABASE_APP_PASSWORD>"),
        };
        let app = self.offline(config.clone()).await?;
        let resources = app.resources();
        let mut out = String::from("-- After the core migrations (tenant-core/migrations/), as the owner.\n");
        for statement in schema::migration_statements(dialect, resources, Some(serving))? {
            out.push_str(&format!("{statement};\n\n"));
        }
        if citus {
            out.push_str(
                "-- Citus: `migrate` runs these itself on a Citus coordinator, in one transaction, from the \
                 live catalog (README, \"Scaling out with Citus\").\n",
            );
            for statement in crate::citus::new_schema_statements(resources)? {
                out.push_str(&format!("{statement};\n"));
            }
        }
        print_out(&out);
        Ok(())
    }

    /// `check`: every finding on stdout, one line each.
    async fn check(&self) -> ExitCode {
        let findings = self.findings().await;
        if findings.is_empty() {
            println!("No issues found.");
            return ExitCode::SUCCESS;
        }
        let mut stdout = std::io::stdout().lock();
        for finding in &findings {
            let _ = writeln!(stdout, "{}", one_line(finding));
        }
        drop(stdout);
        eprintln!("error: check found {} issue(s)", findings.len());
        ExitCode::FAILURE
    }

    async fn findings(&self) -> Vec<String> {
        let config = match Config::from_env() {
            Ok(config) => config,
            Err(e) => return vec![format!("configuration: {e}")],
        };
        let mut findings = Vec::new();
        match self.offline(config.clone()).await {
            Ok(app) => {
                for refusal in crate::production::refusals(&config, app.serves_docs_page()) {
                    findings.push(format!("production: {refusal}"));
                }
            }
            Err(e) => findings.push(format!("configuration: {e}")),
        }
        // The refusals are findings of their own: connect as in development to check the rest.
        let mut config = config;
        config.app_env = crate::config::AppEnv::Development;
        let app = match App::connect(config).await {
            Ok(app) => (self.register)(app),
            Err(e) => {
                findings.push(format!("database: {e}"));
                return findings;
            }
        };
        match app.show_migrations().await {
            Ok(list) => {
                for m in list.iter().filter(|m| !m.applied) {
                    findings
                        .push(format!("migrations: {:04}_{} is not applied (run migrate)", m.version, m.description));
                }
            }
            Err(e) => findings.push(format!("migrations: {e}")),
        }
        if let Err(e) = app.check_isolation().await {
            findings.push(format!("isolation: {e}"));
        }
        match app.check_schema().await {
            Ok(drift) => findings.extend(drift.into_iter().map(|d| format!("schema: {d}"))),
            Err(e) => findings.push(format!("schema: {e}")),
        }
        findings
    }
}

fn one_line(text: &str) -> String {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn print_output(output: Option<Result<String, String>>) -> Result<(), CliError> {
    print_out(&output.expect("a migration command")?);
    Ok(())
}

/// Writes to stdout, ignoring a closed pipe (`demo-app openapi | head`).
fn print_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(password.to_string())
}

/// The owner's pool (`DATABASE_URL`): accounts are written outside any tenant.
async fn owner(config: &Config) -> Result<Db, CliError> {
    Ok(Db::connect(&config.database_url, 1).await?)
}

/// An [`ApiError`] as one sentence: the field messages of a validation or duplicate error.
fn api_error(e: ApiError) -> CliError {
    match e {
        ApiError::Validation(errors) | ApiError::Duplicate(errors) => errors
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        other => other.to_string().into(),
    }
}

/// `createuser`: the address and password pass the checks of `POST /api/auth/signup`.
async fn create_user(config: &Config, email: &str, password: String) -> Result<Uuid, CliError> {
    let email = crate::accounts::normalize_email(email).map_err(|e| format!("email: {e}"))?;
    let problems = crate::auth::password_validation::validate_password(&password, &email);
    if !problems.is_empty() {
        return Err(format!("password: {}", problems.join(" ")).into());
    }
    let hash = tokio::task::spawn_blocking(move || crate::auth::password::hash_blocking(&password)).await??;
    let db = owner(config).await?;
    let mut tx = db.begin(TxMode::Write).await?;
    let id = crate::auth::handlers::insert_user(&mut tx, &email, hash).await.map_err(api_error)?;
    tx.commit().await?;
    db.close().await;
    Ok(id)
}

async fn user_id(tx: &mut crate::db::Tx, email: &str) -> Result<Uuid, CliError> {
    let email = crate::accounts::canonical_email(email);
    let row: Option<(Uuid,)> = tx
        .fetch_optional_as("SELECT id FROM users WHERE email = $1", &[Value::Text(Some(email.clone()))], ["id"])
        .await?;
    Ok(row.ok_or_else(|| format!("no user with the email {email:?}"))?.0)
}

/// `createcompany`: as `POST /api/companies` by its admin.
async fn create_company(config: &Config, name: &str, admin: &str) -> Result<Uuid, CliError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > crate::accounts::MAX_COMPANY_NAME_LEN {
        return Err(
            format!("the company name must have 1 to {} characters", crate::accounts::MAX_COMPANY_NAME_LEN).into()
        );
    }
    let db = owner(config).await?;
    let mut tx = db.begin(TxMode::Write).await?;
    let user = user_id(&mut tx, admin).await?;
    let company = crate::accounts::create_company(&mut tx, user, name.to_string()).await?;
    crate::accounts::default_if_none(&mut tx, user, company.id).await?;
    tx.commit().await?;
    db.close().await;
    Ok(company.id)
}

/// `addmember`: the membership an accepted invitation creates.
async fn add_member(config: &Config, email: &str, company: &str, role: Role) -> Result<(), CliError> {
    let db = owner(config).await?;
    let mut tx = db.begin(TxMode::Write).await?;
    let user = user_id(&mut tx, email).await?;
    let companies: Vec<(Uuid,)> = match Uuid::parse_str(company) {
        Ok(id) => tx.fetch_all_as("SELECT id FROM companies WHERE id = $1", &[Value::Uuid(Some(id))], ["id"]).await?,
        Err(_) => {
            tx.fetch_all_as(
                "SELECT id FROM companies WHERE name = $1",
                &[Value::Text(Some(company.to_string()))],
                ["id"],
            )
            .await?
        }
    };
    let company_id = match companies[..] {
        [(id,)] => id,
        [] => return Err(format!("no company {company:?}").into()),
        _ => return Err(format!("{} companies are named {company:?}: give its id", companies.len()).into()),
    };
    let member: Option<(Uuid,)> = tx
        .fetch_optional_as(
            "SELECT user_id FROM memberships WHERE company_id = $1 AND user_id = $2",
            &[Value::Uuid(Some(company_id)), Value::Uuid(Some(user))],
            ["user_id"],
        )
        .await?;
    if member.is_some() {
        return Err(format!("{email} is already a member of {company:?}").into());
    }
    crate::accounts::add_membership(&mut tx, company_id, user, role).await?;
    crate::accounts::default_if_none(&mut tx, user, company_id).await?;
    tx.commit().await?;
    db.close().await;
    println!("{email} is now {} of {company_id}", role.as_str());
    Ok(())
}
