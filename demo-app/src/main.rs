//! `demo-app [serve]` runs the server; `demo-app seed` fills an empty database with two demo
//! companies; `demo-app schema` prints the SQL of the tables; `makemigrations`, `migrate` and
//! `showmigrations` manage `demo-app/migrations` (README.md, "Changing a model").

use demo_app::{BoxError, build, seed};
use tenant_core::schema::{self, ServingRole};
use tenant_core::{Config, Db, Dialect};

const USAGE: &str = "usage: demo-app [serve | seed | schema | makemigrations | migrate | showmigrations]\n\
  serve   migrate, then run the HTTP server (default) until SIGTERM or Ctrl-C\n\
  seed    create two demo companies with users and data, and print their credentials\n\
  schema [--citus]
          print the SQL the migration runs after the core migrations, for DATABASE_URL's
          backend (tables, keys, indexes; on PostgreSQL row-level security and grants);
          --citus adds the calls that distribute the tenant tables on a Citus cluster";

#[tokio::main]
async fn main() {
    tenant_core::config::load_dotenv();
    if let Err(e) = tenant_core::logging::init() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_string());
    let result = match command.as_str() {
        "serve" => match Config::from_env() {
            Ok(config) => demo_app::serve(config).await,
            Err(e) => Err(e.into()),
        },
        "seed" => run_seed().await,
        "schema" => print_schema(std::env::args().skip(2).collect()),
        "makemigrations" | "migrate" | "showmigrations" => migration_command(&command).await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}\n{}", tenant_core::manage::MIGRATION_USAGE);
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}\n{}", tenant_core::manage::MIGRATION_USAGE).into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn migration_command(command: &str) -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let app = demo_app::register(tenant_core::App::connect(Config::from_env()?).await?);
    let dir = std::path::Path::new(demo_app::MIGRATIONS_DIR);
    let output = tenant_core::manage::migration_command(command, &args, app, dir).await.expect("a migration command");
    print!("{}", output?);
    Ok(())
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
