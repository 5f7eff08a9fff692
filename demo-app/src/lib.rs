//! A small invoicing SaaS built on `tenant-core`: the whole app is three model structs.

pub mod models;
pub mod seed;

pub use models::{Customer, Invoice, InvoiceStatus, Product};

use tenant_core::{App, Config, Db};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The demo's resources, as `register` adds them.
pub fn resources() -> Vec<tenant_core::ResourceDesc> {
    use tenant_core::Resource;
    vec![Customer::DESC, Product::DESC, Invoice::DESC]
}

/// Registers the demo's resources.
pub fn register(app: App) -> App {
    app.resource::<Customer>()
        .resource::<Product>()
        .resource::<Invoice>()
        .migrations(MIGRATIONS)
        .api_info("demo-app", env!("CARGO_PKG_VERSION"))
        // API.md: the demo serves `/docs` (unless `DOCS_PAGE=off`).
        .docs_page_by_default()
}

/// The demo's migrations (`demo-app/migrations`), compiled in.
pub const MIGRATIONS: tenant_core::migrations::EmbeddedMigrations = tenant_core::embed_migrations!("migrations");

/// Where `makemigrations` writes the demo's migrations: `demo-app/migrations` in the source tree.
pub const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// The demo app on an existing pool (not yet migrated).
pub fn app(db: Db, config: Config) -> Result<App, tenant_core::app::StartupError> {
    Ok(register(App::with_db(db, config)?))
}

/// `demo-app serve`: connects, migrates, checks (as [`build`]), then serves on `BIND_ADDR` with
/// [`tenant_core::Server`] until SIGTERM or Ctrl-C, and shuts down gracefully.
pub async fn serve(config: Config) -> Result<(), BoxError> {
    let addr = config.bind_addr;
    let app = register(App::connect(config).await?);
    app.migrate().await?;
    let server = tenant_core::Server::from_app(app).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The signal handlers first: once it says it is listening, SIGTERM shuts it down gracefully.
    let server = server.with_shutdown(tenant_core::shutdown_signal()?);
    server.announce("demo-app", listener.local_addr()?);
    server.run(listener).await?;
    Ok(())
}

/// The demo's management command line (`tenant_core::cli`): the framework's subcommands over
/// the demo's resources and migrations folder, and `seed`.
pub fn cli() -> tenant_core::cli::Cli {
    tenant_core::cli::Cli::new("demo-app")
        .version(env!("CARGO_PKG_VERSION"))
        .register(register)
        .migrations_dir(MIGRATIONS_DIR)
        .seed_with(run_seed_with)
}

/// `demo-app seed [--companies N [--customers-per-company M]]`: without options [`run_seed`];
/// with `--companies`, data at scale ([`seed::seed_at_scale`]), progress on stderr and a
/// summary on stdout.
pub async fn run_seed_with(mut config: Config, args: seed::SeedArgs) -> Result<(), BoxError> {
    let Some(companies) = args.companies else {
        return run_seed(config).await;
    };
    let per_company = args.customers_per_company.unwrap_or(seed::DEFAULT_CUSTOMERS_PER_COMPANY);
    let mail_dir = std::env::temp_dir().join(format!("demo-app-seed-{}", uuid::Uuid::now_v7()));
    config.email.backend = tenant_core::mail::EmailBackend::File { dir: mail_dir.clone() };
    let app = register(App::connect(config).await?);
    app.migrate().await?;
    let state = app.state().clone();
    let router = app.into_router().await?;
    let seeded = seed::seed_at_scale(&router, &state, &mail_dir, companies, per_company).await;
    let _ = std::fs::remove_dir_all(&mail_dir);
    let seeded = seeded?;
    let secs = seeded.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { seeded.customers as f64 / secs } else { 0.0 };
    println!(
        "Seeded {} companies and {} customers in {secs:.1} s ({rate:.0} rows/s). Every admin's password is {:?}.",
        seeded.companies.len(),
        seeded.customers,
        seed::PASSWORD
    );
    const LISTED: usize = 10;
    for c in seeded.companies.iter().take(LISTED) {
        println!("  {} ({}): admin {}", c.name, c.company_id, c.admin_email);
    }
    if seeded.companies.len() > LISTED {
        println!("  … and {} more, admin@company-<i>.scale.test each", seeded.companies.len() - LISTED);
    }
    Ok(())
}

/// `demo-app seed`: fills an empty database with two demo companies and prints their credentials.
pub async fn run_seed(mut config: Config) -> Result<(), BoxError> {
    // The seeded users verify their addresses with the tokens mailed to them: this run's mail
    // goes to a directory of its own, removed afterwards.
    let mail_dir = std::env::temp_dir().join(format!("demo-app-seed-{}", uuid::Uuid::now_v7()));
    config.email.backend = tenant_core::mail::EmailBackend::File { dir: mail_dir.clone() };
    let router = build(config).await?;
    let seeded = seed::seed(&router, &mail_dir).await;
    let _ = std::fs::remove_dir_all(&mail_dir);
    let companies = seeded?;
    println!("Seeded {} companies. Every user's password is {:?}.", companies.len(), seed::PASSWORD);
    for c in companies {
        println!("  {} ({})", c.name, c.company_id);
        println!("    admin: {}", c.admin_email);
        println!("    staff: {}", c.staff_email);
    }
    println!("Log in: curl -s -X POST localhost:8080/api/auth/token -H 'content-type: application/json' \\");
    println!("          -d '{{\"email\": \"admin@acme.test\", \"password\": \"{}\"}}'", seed::PASSWORD);
    Ok(())
}

/// Connects, creates or migrates the schema, checks that the serving role is subject to
/// row-level security (PostgreSQL), and returns the router.
pub async fn build(config: Config) -> Result<axum::Router, BoxError> {
    let app = register(App::connect(config).await?);
    app.migrate().await?;
    Ok(app.into_router().await?)
}
