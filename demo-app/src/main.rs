//! `demo-app [serve]` runs the server; `demo-app --help` lists the management subcommands
//! (`tenant_core::cli`: migrations, `check`, users and companies, `seed`, `schema`, `openapi`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tenant_core::config::load_dotenv();
    // The default log subscriber (RUST_LOG, LOG_FORMAT), on stderr: stdout stays the commands' output.
    if let Err(e) = tenant_core::logging::init() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    demo_app::cli().run().await
}
