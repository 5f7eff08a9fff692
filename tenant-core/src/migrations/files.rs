//! An app's migrations folder, as `makemigrations` writes it and reviewers read it:
//!
//! ```text
//! migrations/
//!   state.json                       the schema the last migration leaves (SchemaState)
//!   postgres/0001_initial.sql        one numbered file per migration and dialect
//!   sqlite/0001_initial.sql
//! ```
//!
//! The files are plain SQL, run in order by sqlx's migrator (`apply.rs`); a team may edit one
//! before it is applied anywhere, or add a hand-written migration (same number in both
//! folders) for what `makemigrations` refuses, such as a type change.

use std::fmt;
use std::path::{Path, PathBuf};

use super::apply::parse_file_name;
use super::diff::{DiffOptions, Operation, diff};
use super::render::{describe, render};
use super::state::SchemaState;
use crate::db::Dialect;
use crate::resource::ResourceDesc;

/// The file `makemigrations` records the schema in.
pub const STATE_FILE: &str = "state.json";

/// The folder of each dialect's migrations.
pub fn dialect_folder(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "postgres",
        Dialect::Sqlite => "sqlite",
    }
}

/// What [`make_migrations`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The migration's number: `2` for `0002_….sql`.
    pub number: u32,
    /// The files written: one per dialect, then `state.json`.
    pub files: Vec<PathBuf>,
    /// One line per operation.
    pub operations: Vec<String>,
}

impl fmt::Display for Written {
    /// What `makemigrations` prints: each file, then each operation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Wrote migration {:04}:", self.number)?;
        for file in &self.files {
            writeln!(f, "  {}", file.display())?;
        }
        for operation in &self.operations {
            writeln!(f, "    - {operation}")?;
        }
        Ok(())
    }
}

/// Why `makemigrations` wrote nothing.
#[derive(Debug)]
pub enum MakeMigrationsError {
    /// The models ask for what a generated migration never does; one sentence each.
    Refused(Vec<String>),
    /// Reading or writing the folder, or a `state.json` that does not parse.
    Io(String),
}

impl fmt::Display for MakeMigrationsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MakeMigrationsError::Refused(reasons) => {
                write!(f, "makemigrations refused; nothing was written:")?;
                for reason in reasons {
                    write!(f, "\n  - {reason}")?;
                }
                Ok(())
            }
            MakeMigrationsError::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for MakeMigrationsError {}

/// The recorded state of `dir`, or the empty schema when nothing was recorded yet.
///
/// # Errors
///
/// `state.json` exists but cannot be read or parsed, or has another format.
pub fn recorded_state(dir: &Path) -> Result<SchemaState, MakeMigrationsError> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SchemaState::empty()),
        Err(e) => return Err(MakeMigrationsError::Io(format!("reading {}: {e}", path.display()))),
    };
    let state: SchemaState = serde_json::from_str(&text)
        .map_err(|e| MakeMigrationsError::Io(format!("{} is not a schema state: {e}", path.display())))?;
    if state.format != SchemaState::FORMAT {
        return Err(MakeMigrationsError::Io(format!(
            "{} has format {}, this version reads format {}",
            path.display(),
            state.format,
            SchemaState::FORMAT
        )));
    }
    Ok(state)
}

/// The declared renames of `resources`: `(table, from, to)`.
pub fn declared_renames(resources: &[ResourceDesc]) -> Vec<(String, String, String)> {
    resources
        .iter()
        .flat_map(|d| {
            d.fields.iter().filter_map(move |f| f.renamed_from.map(|from| (d.table.into(), from.into(), f.name.into())))
        })
        .collect()
}

/// The operations that bring `dir`'s recorded schema to `resources`' (empty: nothing changed).
///
/// # Errors
///
/// As [`make_migrations`], without writing.
pub fn pending_operations(
    resources: &[ResourceDesc],
    dir: &Path,
    allow_drop: bool,
) -> Result<Vec<Operation>, MakeMigrationsError> {
    let old = recorded_state(dir)?;
    let new = SchemaState::of(resources);
    let options = DiffOptions { allow_drop, renames: declared_renames(resources) };
    diff(&old, &new, &options).map_err(MakeMigrationsError::Refused)
}

/// Django's `makemigrations`: diffs `resources` against `dir/state.json` and writes the next
/// numbered migration for each dialect and the new state. `Ok(None)` when nothing changed: run
/// twice, it writes nothing the second time.
///
/// # Errors
///
/// [`MakeMigrationsError::Refused`] with every refusal of the diff (nothing is written), or
/// [`MakeMigrationsError::Io`].
pub fn make_migrations(
    resources: &[ResourceDesc],
    dir: &Path,
    allow_drop: bool,
) -> Result<Option<Written>, MakeMigrationsError> {
    let operations = pending_operations(resources, dir, allow_drop)?;
    if operations.is_empty() {
        return Ok(None);
    }
    let number = next_number(dir)?;
    let name = if number == 1 { "initial".to_string() } else { migration_name(&operations) };
    let io = |path: &Path, e: std::io::Error| MakeMigrationsError::Io(format!("writing {}: {e}", path.display()));
    let mut files = Vec::new();
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let folder = dir.join(dialect_folder(dialect));
        std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
        let path = folder.join(format!("{number:04}_{name}.sql"));
        std::fs::write(&path, render(dialect, &operations)).map_err(|e| io(&path, e))?;
        files.push(path);
    }
    let state = SchemaState::of(resources);
    let path = dir.join(STATE_FILE);
    let json = serde_json::to_string_pretty(&state).expect("a schema state serializes") + "\n";
    std::fs::write(&path, json).map_err(|e| io(&path, e))?;
    files.push(path);
    Ok(Some(Written { number, files, operations: describe(&operations) }))
}

/// One more than the highest number in either dialect's folder.
fn next_number(dir: &Path) -> Result<u32, MakeMigrationsError> {
    let mut highest = 0;
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let folder = dir.join(dialect_folder(dialect));
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some((number, _)) = parse_file_name(&name) {
                highest = highest.max(number);
            }
        }
    }
    Ok(highest + 1)
}

/// A short name from the first operation, as Django names them (`0002_customer_phone`).
fn migration_name(operations: &[Operation]) -> String {
    let mut name = match &operations[0] {
        Operation::CreateTable(t) => format!("create_{}", t.table),
        Operation::DropTable(t) => format!("drop_{}", t.table),
        Operation::AlterTable { new, .. } => format!("alter_{}", new.table),
    };
    if operations.len() > 1 {
        name.push_str("_and_more");
    }
    name.truncate(60);
    name
}
