//! `demo-app` as a binary of this package, for `tests/tests/cli.rs`: Cargo gives a test the path
//! of its own package's binaries only (`CARGO_BIN_EXE_<name>`). Same code as `demo-app`'s `main`:
//! [`demo_app::cli`], with the log on stderr.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .init();
    demo_app::cli().run().await
}
