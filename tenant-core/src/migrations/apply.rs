//! Applying an app's migrations: Django's `migrate` and `showmigrations`, over sqlx's migrator
//! (checksums of applied files, one transaction per migration unless it starts with
//! `-- no-transaction`, a lock against two servers migrating at once).
//!
//! An app's migrations are tracked in their own table, [`MIGRATIONS_TABLE`], so that their
//! numbers never collide with the framework's core migrations (`_sqlx_migrations`).

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationType, Migrator};

use crate::db::{Db, DbError, Dialect, Pool, Sql, TxMode};
use crate::value::{FieldType, Value};

/// The first line of a migration sqlx's migrator must not wrap in a transaction (sqlx's own
/// directive; `render.rs` writes it for SQLite's table rebuilds).
pub const NO_TRANSACTION: &str = "-- no-transaction";

/// The table recording which of the app's migrations ran.
pub const MIGRATIONS_TABLE: &str = "_tenant_migrations";

/// One migration file compiled into the app's binary by
/// [`embed_migrations!`](crate::embed_migrations).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// The file's number: `2` for `0002_alter_tasks.sql`.
    pub version: i64,
    /// The rest of its name: `alter_tasks`.
    pub description: &'static str,
    /// Its SQL.
    pub sql: &'static str,
}

/// An app's migrations folder as compiled into its binary: each dialect's files, in order.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    /// `migrations/postgres/*.sql`.
    pub postgres: &'static [EmbeddedMigration],
    /// `migrations/sqlite/*.sql`.
    pub sqlite: &'static [EmbeddedMigration],
}

impl EmbeddedMigrations {
    /// A migrations folder read at run time, as [`embed_migrations!`](crate::embed_migrations)
    /// reads it at compile time: for tools and tests that write migrations and apply them in
    /// one process. The text is leaked (it lives as long as the process, like embedded files):
    /// read a folder once, not per request.
    ///
    /// # Errors
    ///
    /// A file that cannot be read, or a `.sql` file not named `NNNN_name.sql`.
    pub fn read_dir(dir: &std::path::Path) -> Result<EmbeddedMigrations, DbError> {
        let read = |dialect: &str| -> Result<&'static [EmbeddedMigration], DbError> {
            let folder = dir.join(dialect);
            let mut files = Vec::new();
            let Ok(entries) = std::fs::read_dir(&folder) else { return Ok(&[]) };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".sql") {
                    continue;
                }
                let (version, description) = parse_file_name(&name)
                    .ok_or_else(|| DbError::Other(format!("{}: not named NNNN_name.sql", entry.path().display())))?;
                let sql = std::fs::read_to_string(entry.path())
                    .map_err(|e| DbError::Other(format!("reading {}: {e}", entry.path().display())))?;
                let description: &'static str = Box::leak(description.to_owned().into_boxed_str());
                let sql: &'static str = Box::leak(sql.into_boxed_str());
                files.push(EmbeddedMigration { version: i64::from(version), description, sql });
            }
            files.sort_by_key(|m| m.version);
            Ok(Box::leak(files.into_boxed_slice()))
        };
        Ok(EmbeddedMigrations { postgres: read("postgres")?, sqlite: read("sqlite")? })
    }

    /// The files of `dialect`.
    pub fn of(&self, dialect: Dialect) -> &'static [EmbeddedMigration] {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

/// One migration as `showmigrations` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Its number.
    pub version: i64,
    /// Its name.
    pub description: String,
    /// Whether the database ran it.
    pub applied: bool,
}

impl std::fmt::Display for MigrationStatus {
    /// As `showmigrations` prints it: `[X] 0001_initial` (applied) or `[ ] 0002_…` (pending).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.applied { "X" } else { " " };
        write!(f, "[{mark}] {:04}_{}", self.version, self.description)
    }
}

fn migrator(dialect: Dialect, migrations: &EmbeddedMigrations) -> Migrator {
    let list: Vec<Migration> = migrations
        .of(dialect)
        .iter()
        .map(|m| {
            let no_tx = m.sql.trim_start().starts_with(NO_TRANSACTION);
            Migration::new(m.version, Cow::Borrowed(m.description), MigrationType::Simple, m.sql.into_sql_str(), no_tx)
        })
        .collect();
    let mut migrator = Migrator::with_migrations(list);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// What [`apply_with_progress`] reports while it migrates, in this order: one [`Plan`], then
/// for each pending migration a [`Started`] and, once its transaction committed, an
/// [`Applied`]. A migration that fails reports only its [`Started`]; the error is the result.
///
/// [`Plan`]: MigrationProgress::Plan
/// [`Started`]: MigrationProgress::Started
/// [`Applied`]: MigrationProgress::Applied
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationProgress {
    /// What will run, read under the migration lock: the pending migrations in order (empty
    /// when there is nothing to do).
    Plan(Vec<MigrationStatus>),
    /// Migration `step` of `total` (1-based) starts.
    Started {
        /// Its position among the pending ones, from 1.
        step: usize,
        /// How many are pending.
        total: usize,
        /// The migration (`applied` still `false`).
        migration: MigrationStatus,
    },
    /// Migration `step` of `total` is applied and committed, its SQL having taken `duration`
    /// (as sqlx's migrator measures it: the statements and the bookkeeping row).
    Applied {
        /// Its position among the pending ones, from 1.
        step: usize,
        /// How many are pending.
        total: usize,
        /// The migration (`applied` now `true`).
        migration: MigrationStatus,
        /// How long it took.
        duration: std::time::Duration,
    },
}

/// Runs the pending migrations of `migrations` on `db` (the owner's connection on PostgreSQL)
/// and returns what ran, in order.
///
/// # Errors
///
/// A migration fails (nothing of it stays: it ran in a transaction), an applied file was
/// edited afterwards (its checksum differs), or the database applied a migration this binary
/// does not have.
pub async fn apply(db: &Db, migrations: &EmbeddedMigrations) -> Result<Vec<MigrationStatus>, DbError> {
    apply_with_progress(db, migrations, &mut |_| {}).await
}

/// [`apply`], telling `progress` what it does as it goes ([`MigrationProgress`]): the plan,
/// then each migration as it starts and once it is applied. The migrations are applied one at
/// a time, each in its own transaction (unless it starts with [`NO_TRANSACTION`]), all on one
/// connection holding sqlx's migration lock, after sqlx's checks of what was applied before.
///
/// # Errors
///
/// As [`apply`]; the migrations before the failing one stay applied.
pub async fn apply_with_progress(
    db: &Db,
    migrations: &EmbeddedMigrations,
    progress: &mut (dyn FnMut(MigrationProgress) + Send),
) -> Result<Vec<MigrationStatus>, DbError> {
    let mut migrator = migrator(db.dialect(), migrations);
    if db.has_citus_extension().await? {
        migrator.migrations = migrator
            .migrations
            .iter()
            .map(|m| crate::db::postgres::for_citus(m, &crate::rls::without_sub_query))
            .collect::<Vec<_>>()
            .into();
    }
    let result = match db.pool() {
        Pool::Postgres(pool) => match pool.acquire().await {
            Ok(mut conn) => run_stepwise(&migrator, &mut *conn, progress).await,
            Err(e) => Err(e.into()),
        },
        Pool::Sqlite(pool) => match pool.acquire().await {
            Ok(mut conn) => run_stepwise(&migrator, &mut *conn, progress).await,
            Err(e) => Err(e.into()),
        },
    };
    result.map_err(|e| DbError::Other(format!("app migrations failed: {e}")))
}

/// sqlx's `Migrator::run`, one migration at a time with a report around each: the lock, the
/// bookkeeping table, the refusal of a dirty or unknown version and of an edited file, then
/// each pending migration applied by sqlx (its own transaction), then the unlock.
async fn run_stepwise<C: Migrate + Send>(
    migrator: &Migrator,
    conn: &mut C,
    progress: &mut (dyn FnMut(MigrationProgress) + Send),
) -> Result<Vec<MigrationStatus>, MigrateError> {
    let table = MIGRATIONS_TABLE;
    conn.lock().await?;
    let result = async {
        conn.ensure_migrations_table(table).await?;
        if let Some(version) = conn.dirty_version(table).await? {
            return Err(MigrateError::Dirty(version));
        }
        let applied = conn.list_applied_migrations(table).await?;
        for done in &applied {
            match migrator.iter().find(|m| m.version == done.version) {
                None => return Err(MigrateError::VersionMissing(done.version)),
                Some(m) if m.checksum != done.checksum => return Err(MigrateError::VersionMismatch(m.version)),
                Some(_) => {}
            }
        }
        let pending: Vec<&Migration> =
            migrator.iter().filter(|m| !applied.iter().any(|done| done.version == m.version)).collect();
        let status = |m: &Migration, applied: bool| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied,
        };
        progress(MigrationProgress::Plan(pending.iter().map(|m| status(m, false)).collect()));
        let total = pending.len();
        let mut ran = Vec::with_capacity(total);
        for (i, migration) in pending.into_iter().enumerate() {
            let step = i + 1;
            progress(MigrationProgress::Started { step, total, migration: status(migration, false) });
            let duration = conn.apply(table, migration).await?;
            let done = status(migration, true);
            progress(MigrationProgress::Applied { step, total, migration: done.clone(), duration });
            ran.push(done);
        }
        Ok(ran)
    }
    .await;
    // Released on success and on failure alike (on PostgreSQL an advisory lock of the
    // session, which would otherwise outlive this run on a pooled connection).
    let unlocked = conn.unlock().await;
    let ran = result?;
    unlocked?;
    Ok(ran)
}

/// Django's `showmigrations`: every migration of the binary, applied or not, in order.
///
/// # Errors
///
/// The database cannot be read.
pub async fn status(db: &Db, migrations: &EmbeddedMigrations) -> Result<Vec<MigrationStatus>, DbError> {
    let applied = applied_versions(db).await?;
    Ok(migrations
        .of(db.dialect())
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect())
}

async fn applied_versions(db: &Db) -> Result<Vec<i64>, DbError> {
    let exists = match db.dialect() {
        Dialect::Postgres => "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1",
        Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
    };
    let table = [Value::Text(Some(MIGRATIONS_TABLE.to_string()))];
    if db.fetch_optional(exists, &table, &[FieldType::I32]).await?.is_none() {
        return Ok(Vec::new());
    }
    let sql = Sql::assembled(format!("SELECT version FROM {MIGRATIONS_TABLE} WHERE success ORDER BY version"));
    let mut tx = db.begin(TxMode::Read).await?;
    let rows = tx.fetch_all(sql, &[], &[FieldType::I64]).await?;
    tx.commit().await?;
    Ok(rows.iter().filter_map(|row| if let Value::I64(Some(v)) = row[0] { Some(v) } else { None }).collect())
}

/// `0002_add_tasks_due_on.sql` → `(2, "add_tasks_due_on")`.
pub fn parse_file_name(name: &str) -> Option<(u32, &str)> {
    let stem = name.strip_suffix(".sql")?;
    let (number, description) = stem.split_once('_')?;
    (number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
    Some((number.parse().ok()?, description))
}
