//! `demo-app [serve]` runs the server; `demo-app seed` fills an empty database with two demo
//! companies; `demo-app schema` prints the SQL of the tables.

use demo_app::{BoxError, build, register, seed};
use tenant_core::{App, Config};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: demo-app [serve | seed | schema]\n\
  serve   run the HTTP server (default)\n\
  seed    create two demo companies with users and data, and print their credentials\n\
  schema  print the CREATE statements of the resource tables for DATABASE_URL's backend";

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
        "schema" => print_schema().await,
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

async fn serve() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let addr = config.bind_addr;
    let router = build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("demo-app listening on http://{addr}  (try: curl http://{addr}/healthz)");
    println!("demo-app listening on http://{addr}");
    axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

async fn run_seed() -> Result<(), BoxError> {
    let router = build(Config::from_env()?).await?;
    let companies = seed::seed(&router).await?;
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

async fn print_schema() -> Result<(), BoxError> {
    let app = register(App::connect(Config::from_env()?).await?);
    for statement in tenant_core::schema::create_statements(app.state().db().dialect(), app.resources())? {
        println!("{statement};\n");
    }
    Ok(())
}
