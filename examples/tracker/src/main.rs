//! `tracker [serve]` runs the server; `tracker overdue` prints each company's overdue tasks.

use tenant_core::Config;
use tracker::{BoxError, build, overdue_per_company, register};

const USAGE: &str = "usage: tracker [serve | overdue]\n\
  serve    run the HTTP server (default)\n\
  overdue  print, for every company, how many of its tasks are overdue (a job over all tenants)";

#[tokio::main]
async fn main() {
    tenant_core::config::load_dotenv();
    tracing_subscriber::fmt().init();
    let result = match std::env::args().nth(1).as_deref().unwrap_or("serve") {
        "serve" => serve().await,
        "overdue" => overdue().await,
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
    println!("tracker listening on http://{addr}");
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
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
