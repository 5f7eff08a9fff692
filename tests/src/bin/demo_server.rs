//! `demo-app serve` as a binary of this package, for the tests that run the real server process
//! and signal it (`tests/tests/serve_shutdown.rs`): Cargo gives a test the path of its own
//! package's binaries only (`CARGO_BIN_EXE_<name>`). Same code path: [`demo_app::serve`], with the
//! settings from the environment and the log on stderr.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let result = match tenant_core::Config::from_env() {
        Ok(config) => demo_app::serve(config).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
