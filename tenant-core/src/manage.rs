//! The migration subcommands every app's binary offers, as Django's `manage.py` does:
//! `makemigrations [--allow-drop]`, `migrate`, `showmigrations`. [`crate::cli`] runs them; an
//! app's own `main` may also hand them its [`App`] and its migrations folder (README.md,
//! "Changing a model").

use std::path::Path;

use crate::app::App;
use crate::migrations::MigrationProgress;

/// Their usage lines, for an app's `--help`.
pub const MIGRATION_USAGE: &str = "\
  makemigrations [--allow-drop]
          write the next migration of the app's migrations folder from the models (both
          dialects) and the recorded state; --allow-drop lets it drop the columns and tables
          the models no longer have (their data is deleted)
  migrate apply the pending migrations to DATABASE_URL, one at a time, printing the plan
          and each step ([i/N], its duration)
  showmigrations
          list the migrations, [X] applied or [ ] pending";

/// Runs `command` if it is one of the migration subcommands, and returns what to print; `None`
/// for any other command. `app` has its resources and [`App::migrations`] registered; `dir` is
/// the migrations folder in the source tree (where `makemigrations` writes).
///
/// # Errors
///
/// A sentence: unexpected arguments, a refusal of `makemigrations` (each reason, nothing
/// written), or a database error of `migrate` / `showmigrations`.
pub async fn migration_command(command: &str, args: &[String], app: App, dir: &Path) -> Option<Result<String, String>> {
    let result = match command {
        "makemigrations" => make_migrations(args, &app, dir),
        "migrate" => no_arguments(args).and(migrate(&app).await),
        "showmigrations" => no_arguments(args).and(show_migrations(&app).await),
        _ => return None,
    };
    Some(result)
}

fn no_arguments(args: &[String]) -> Result<(), String> {
    if args.is_empty() { Ok(()) } else { Err(format!("unexpected arguments {args:?}")) }
}

fn make_migrations(args: &[String], app: &App, dir: &Path) -> Result<String, String> {
    let allow_drop = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => false,
        ["--allow-drop"] => true,
        _ => return Err(format!("unexpected arguments {args:?}; makemigrations takes only --allow-drop")),
    };
    match crate::migrations::make_migrations(app.resources(), dir, allow_drop).map_err(|e| e.to_string())? {
        Some(written) => Ok(written.to_string()),
        None => Ok("No changes detected.\n".to_string()),
    }
}

async fn migrate(app: &App) -> Result<String, String> {
    let mut out = String::new();
    migrate_reporting(app, &mut |text| out.push_str(text)).await?;
    Ok(out)
}

/// `migrate` as Django prints it, handed to `out` piece by piece as the app's migrations run
/// (the CLI writes each piece to stdout at once, so a long migration shows while it runs):
///
/// ```text
/// Operations to perform: 2 migration(s) to apply
///   Applying 0002_add_phone [1/2]... OK (12 ms)
///   Applying 0003_add_notes [2/2]... OK (3 ms)
/// ```
///
/// or `No migrations to apply.`; a migration that fails ends its line with `FAILED`. The
/// pieces are whole lines, except `  Applying … [i/N]... ` before its outcome. Durations are
/// whole milliseconds. The core migrations are applied silently
/// ([`App::migrate_with_progress`]).
///
/// # Errors
///
/// As [`App::migrate`], as a sentence.
pub async fn migrate_reporting(app: &App, out: &mut (dyn FnMut(&str) + Send)) -> Result<(), String> {
    let mut planned = false;
    let mut open_line = false;
    let result = app
        .migrate_with_progress(|event| match event {
            MigrationProgress::Plan(pending) => {
                planned = true;
                if pending.is_empty() {
                    out("No migrations to apply.\n");
                } else {
                    out(&format!("Operations to perform: {} migration(s) to apply\n", pending.len()));
                }
            }
            MigrationProgress::Started { step, total, migration } => {
                open_line = true;
                out(&format!("  Applying {:04}_{} [{step}/{total}]... ", migration.version, migration.description));
            }
            MigrationProgress::Applied { duration, .. } => {
                open_line = false;
                out(&format!("OK ({} ms)\n", duration.as_millis()));
            }
        })
        .await;
    if let Err(e) = result {
        if open_line {
            out("FAILED\n");
        }
        return Err(e.to_string());
    }
    if !planned {
        // An app without a migrations folder: its tables were created from the models.
        out("No migrations to apply.\n");
    }
    Ok(())
}

async fn show_migrations(app: &App) -> Result<String, String> {
    let list = app.show_migrations().await.map_err(|e| e.to_string())?;
    if list.is_empty() {
        return Ok("(no migrations registered)\n".to_string());
    }
    Ok(list.iter().map(|m| format!("{m}\n")).collect())
}
