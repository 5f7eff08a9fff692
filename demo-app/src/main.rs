//! `demo-app [serve]` runs the server; `demo-app seed` fills an empty database with two demo
//! companies; `demo-app schema` prints the SQL of the tables.

use demo_app::{BoxError, build, seed};
use tenant_core::schema::{self, ServingRole};
use tenant_core::{Config, Db, Dialect};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: demo-app [serve | seed | schema | makemigrations | migrate | showmigrations]\n\
  serve   migrate, then run the HTTP server (default)\n\
  makemigrations [--allow-drop]\n\
          write the next migration of demo-app/migrations from the models (both dialects);\n\
          --allow-drop lets it drop the columns and tables the models no longer have\n\
  migrate apply the pending migrations to DATABASE_URL and print them\n\
  showmigrations\n\
          list the migrations, [X] applied or [ ] pending\n\
  seed    create two demo companies with users and data, and print their credentials\n\
  schema [--citus]
          print the SQL the migration runs after the core migrations, for DATABASE_URL's
          backend (tables, keys, indexes; on PostgreSQL row-level security and grants);
          --citus adds the calls that distribute the tenant tables on a Citus cluster";

#[tokio::main]
async fn main() {
    tenant_core::config::load_dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_string());
    let result = match command.as_str() {
        "serve" => serve().await,
        "seed" => run_seed().await,
        "schema" => print_schema(std::env::args().skip(2).collect()),
        "makemigrations" => make_migrations(std::env::args().skip(2).collect()),
        "migrate" => migrate().await,
        "showmigrations" => show_migrations().await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}").into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn make_migrations(args: Vec<String>) -> Result<(), BoxError> {
    let allow_drop = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => false,
        ["--allow-drop"] => true,
        _ => return Err(format!("unexpected arguments {args:?}\n{USAGE}").into()),
    };
    let dir = std::path::Path::new(demo_app::MIGRATIONS_DIR);
    match tenant_core::migrations::make_migrations(&demo_app::resources(), dir, allow_drop)? {
        Some(written) => print!("{written}"),
        None => println!("No changes detected."),
    }
    Ok(())
}

async fn migrate() -> Result<(), BoxError> {
    let app = demo_app::register(tenant_core::App::connect(Config::from_env()?).await?);
    let applied = app.migrate().await?;
    if applied.is_empty() {
        println!("No migrations to apply.");
    }
    for migration in applied {
        println!("Applied {:04}_{}", migration.version, migration.description);
    }
    Ok(())
}

async fn show_migrations() -> Result<(), BoxError> {
    let app = demo_app::register(tenant_core::App::connect(Config::from_env()?).await?);
    for migration in app.show_migrations().await? {
        println!("{migration}");
    }
    Ok(())
}

async fn serve() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let addr = config.bind_addr;
    let router = build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("demo-app listening on http://{addr}  (try: curl http://{addr}/healthz)");
    println!("demo-app listening on http://{addr}");
    // With the client's address, which the credential endpoints' throttles count by.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

async fn run_seed() -> Result<(), BoxError> {
    // The seeded users verify their addresses with the tokens mailed to them: this run's mail
    // goes to a directory of its own, removed afterwards.
    let mail_dir = std::env::temp_dir().join(format!("demo-app-seed-{}", uuid::Uuid::now_v7()));
    let mut config = Config::from_env()?;
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

fn print_schema(args: Vec<String>) -> Result<(), BoxError> {
    let citus = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => false,
        ["--citus"] => true,
        _ => return Err(format!("unexpected arguments {args:?}\n{USAGE}").into()),
    };
    let config = Config::from_env()?;
    let dialect = Dialect::of_url(&config.database_url);
    if citus && dialect != Dialect::Postgres {
        return Err("--citus needs a PostgreSQL DATABASE_URL".into());
    }
    let resources = demo_app::resources();
    let role = Db::serving_role(&config)?;
    // The password is the operator's secret: print where it goes, not what it is.
    let serving = ServingRole {
        name: &role,
        create_with_password: config.app_database_url.is_none().then_some("<DATABASE_APP_PASSWORD>"),
    };
    println!("-- After the core migrations (tenant-core/migrations/), as the owner.");
    for statement in schema::migration_statements(dialect, &resources, Some(serving))? {
        println!("{statement};\n");
    }
    if citus {
        println!(
            "-- Citus: run on the coordinator once the schema exists (where references form a cycle: \
             after the tables, before the DO blocks that add the foreign keys)."
        );
        for statement in schema::citus_statements(&resources)? {
            println!("{statement};");
        }
    }
    Ok(())
}
