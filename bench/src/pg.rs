//! The PostgreSQL server (the tests' own, `scripts/pg-test-server.sh`), the bench database and
//! the URLs of its two roles.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenant_core::config::{DEFAULT_APP_ROLE, DEV_APP_PASSWORD};

use crate::Result;

/// The serving role the demo app's migration creates, and that every load runs as.
pub const APP_ROLE: &str = DEFAULT_APP_ROLE;
pub const APP_PASSWORD: &str = DEV_APP_PASSWORD;

/// The workspace root (scripts, cargo).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn server_script() -> PathBuf {
    workspace_root().join("scripts/pg-test-server.sh")
}

/// Whether the test server answers.
pub fn server_running() -> bool {
    Command::new("bash").arg(server_script()).arg("status").output().is_ok_and(|o| o.status.success())
}

/// Stops the test server (as `scripts/test.sh` does when it started it).
pub fn stop_server() {
    let _ = Command::new("bash").arg(server_script()).arg("stop").status();
}

/// Starts the test server if it is not running (idempotent); returns the superuser URL.
pub fn start_server() -> Result<String> {
    let script = server_script();
    let out = Command::new("bash").arg(&script).arg("start").output()?;
    if !out.status.success() {
        return Err(format!(
            "{} start failed:\n{}{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or_default().to_string();
    if !url.starts_with("postgres://") {
        return Err(format!("{} start printed no URL: {url:?}", script.display()).into());
    }
    Ok(url)
}

/// The server's log file (log lines carry `[pid]`), where the statement trace reads.
pub fn server_log() -> PathBuf {
    let base = std::env::var("TENANT_TEST_PG_DIR").unwrap_or_else(|_| "/tmp/tenant-test-pg".to_string());
    Path::new(&base).join("server.log")
}

/// The directory of the PostgreSQL binaries, found like `scripts/pg-test-server.sh` does.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let fifteen = Path::new("/usr/lib/postgresql/15/bin");
    if fifteen.join("pgbench").exists() {
        return Some(fifteen.to_path_buf());
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, dir)| dir)
}

/// A database of the server, with the URLs of its owner (the superuser) and of the serving role.
#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    /// Superuser URL of the bench database: migrations, seeding, counting.
    pub owner_url: String,
    /// `tenant_app` URL of the bench database: what both servers and pgbench serve with.
    pub app_url: String,
    /// Superuser URL of the `postgres` database (to create and drop).
    admin_url: String,
}

impl Database {
    /// Creates `bench_<uuid>` and makes sure the serving role exists (with the statement the
    /// migration itself would run), so settings can be attached to it before the app starts.
    pub async fn create(admin_url: &str) -> Result<Database> {
        let name = format!("bench_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
        sqlx::raw_sql(AssertSqlSafe(tenant_core::rls::create_role_statement(APP_ROLE, APP_PASSWORD)))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let options = PgConnectOptions::from_str(admin_url)?;
        let host = options.get_host().to_string();
        let port = options.get_port();
        let owner = options.get_username().to_string();
        Ok(Database {
            owner_url: format!("postgres://{owner}@{host}:{port}/{name}"),
            app_url: format!("postgres://{APP_ROLE}:{APP_PASSWORD}@{host}:{port}/{name}"),
            admin_url: admin_url.to_string(),
            name,
        })
    }

    pub async fn owner(&self) -> Result<PgConnection> {
        Ok(PgConnection::connect(&self.owner_url).await?)
    }

    pub async fn app(&self) -> Result<PgConnection> {
        Ok(PgConnection::connect(&self.app_url).await?)
    }

    /// Runs statements as the owner.
    pub async fn exec_owner(&self, statements: &[String]) -> Result<()> {
        let mut conn = self.owner().await?;
        for s in statements {
            sqlx::raw_sql(AssertSqlSafe(s.clone())).execute(&mut conn).await.map_err(|e| format!("{s}: {e}"))?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Logs every statement of the serving role's **new** connections to this database
    /// (`on = false` stops it, again for new connections).
    pub async fn log_app_statements(&self, on: bool) -> Result<()> {
        let statement = if on {
            format!("ALTER ROLE {APP_ROLE} IN DATABASE {} SET log_statement = 'all'", self.name)
        } else {
            format!("ALTER ROLE {APP_ROLE} IN DATABASE {} RESET log_statement", self.name)
        };
        let mut conn = PgConnection::connect(&self.admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    /// Drops the database (and its per-database role settings), disconnecting whoever is left.
    pub async fn drop_database(&self) -> Result<()> {
        let mut conn = PgConnection::connect(&self.admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }
}

/// `SELECT count(*) FROM customers`, as the owner (row-level security does not apply to it).
pub async fn count_customers(conn: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM customers").fetch_one(conn).await?)
}
