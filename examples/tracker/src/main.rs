//! `tracker [serve]` runs the server; `tracker overdue` prints each company's overdue tasks;
//! `makemigrations`, `migrate` and `showmigrations` manage `examples/tracker/migrations`.

use tenant_core::Config;
use tracker::{BoxError, overdue_per_company, register};

const USAGE: &str = "usage: tracker [serve | overdue | makemigrations | migrate | showmigrations]\n\
  serve    migrate, then run the HTTP server (default) until SIGTERM or Ctrl-C\n\
  overdue  print, for every company, how many of its tasks are overdue (a job over all tenants)";

#[tokio::main]
async fn main() {
    tenant_core::config::load_dotenv();
    if let Err(e) = tenant_core::logging::init() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_string());
    let result = match command.as_str() {
        "serve" => serve().await,
        "makemigrations" | "migrate" | "showmigrations" => migration_command(&command).await,
        "overdue" => overdue().await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}\n{}", tenant_core::manage::MIGRATION_USAGE);
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}").into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn migration_command(command: &str) -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let app = register(tenant_core::App::connect(Config::from_env()?).await?);
    let dir = std::path::Path::new(tracker::MIGRATIONS_DIR);
    let output = tenant_core::manage::migration_command(command, &args, app, dir).await.expect("a migration command");
    print!("{}", output?);
    Ok(())
}

async fn serve() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let addr = config.bind_addr;
    let app = register(tenant_core::App::connect(config).await?);
    app.migrate().await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Logs "listening on …" once the start-up checks passed; returns after a graceful shutdown.
    tenant_core::serve(app, listener).await?;
    Ok(())
}

async fn overdue() -> Result<(), BoxError> {
    let app = register(tenant_core::App::connect(Config::from_env()?).await?);
    app.migrate().await?;
    for (company, count) in overdue_per_company(app.state(), chrono::Utc::now().date_naive()).await? {
        println!("{company}\t{count}");
    }
    Ok(())
}
