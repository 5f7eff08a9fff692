//! The migration subcommands every app's binary offers, as Django's `manage.py` does:
//! `makemigrations [--allow-drop]`, `migrate`, `showmigrations`. [`crate::cli`] runs them; an
//! app's own `main` may also hand them its [`App`] and its migrations folder (README.md,
//! "Changing a model").

use std::path::Path;

use crate::app::App;

/// Their usage lines, for an app's `--help`.
pub const MIGRATION_USAGE: &str = "\
  makemigrations [--allow-drop]
          write the next migration of the app's migrations folder from the models (both
          dialects) and the recorded state; --allow-drop lets it drop the columns and tables
          the models no longer have (their data is deleted)
  migrate apply the pending migrations to DATABASE_URL and print each
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
    let applied = app.migrate().await.map_err(|e| e.to_string())?;
    if applied.is_empty() {
        return Ok("No migrations to apply.\n".to_string());
    }
    Ok(applied.iter().map(|m| format!("Applied {:04}_{}\n", m.version, m.description)).collect())
}

async fn show_migrations(app: &App) -> Result<String, String> {
    let list = app.show_migrations().await.map_err(|e| e.to_string())?;
    if list.is_empty() {
        return Ok("(no migrations registered)\n".to_string());
    }
    Ok(list.iter().map(|m| format!("{m}\n")).collect())
}
