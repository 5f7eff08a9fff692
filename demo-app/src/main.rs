//! `demo-app [serve]` runs the server; `demo-app --help` lists the management subcommands
//! (`tenant_core::cli`: migrations, `check`, users and companies, `seed`, `schema`, `openapi`).

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tenant_core::config::load_dotenv();
    // Logging: the demo's own subscriber (to stderr), before any subcommand runs.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    demo_app::cli().run().await
}
