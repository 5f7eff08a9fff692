//! `tracker [serve]` runs the server; `tracker overdue` prints each company's overdue tasks;
//! `tracker --help` lists the management subcommands (`tenant_core::cli`).

use std::process::ExitCode;

use tracker::{BoxError, overdue_per_company, register};

#[tokio::main]
async fn main() -> ExitCode {
    tenant_core::config::load_dotenv();
    // The default log subscriber (RUST_LOG, LOG_FORMAT), on stderr: stdout stays the commands' output.
    if let Err(e) = tenant_core::logging::init() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    tenant_core::cli::Cli::new("tracker")
        .register(register)
        .migrations_dir(tracker::MIGRATIONS_DIR)
        .command(
            "overdue",
            "Print, for every company, how many of its tasks are overdue (a job over all tenants)",
            overdue,
        )
        .run()
        .await
}

async fn overdue(app: tenant_core::App) -> Result<(), BoxError> {
    app.migrate().await?;
    for (company, count) in overdue_per_company(app.state(), chrono::Utc::now().date_naive()).await? {
        println!("{company}\t{count}");
    }
    Ok(())
}
