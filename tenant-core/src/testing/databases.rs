//! The databases tests run on: a fresh SQLite file, or a fresh PostgreSQL database on the
//! server of `scripts/pg-test-server.sh` (or `TEST_POSTGRES_URL`), dropped afterwards.

use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::str::FromStr;

use sqlx::Connection;
use tempfile::TempDir;

/// The URL `scripts/pg-test-server.sh` serves.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:54329/postgres";

/// The database an app under test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the test PostgreSQL server, served under row-level security.
    Postgres,
}

/// The workers of the Citus cluster whose coordinator is `TEST_POSTGRES_URL`, from
/// `TEST_CITUS_WORKERS` (`host:port,host:port`, reached as the admin URL's user): empty on
/// plain PostgreSQL. To run the PostgreSQL tests on a Citus cluster (README, "Scaling out with
/// Citus"): each test database is then made on every node, with the extension, and the workers
/// are added to it, as an operator prepares a cluster's database before the app migrates it.
pub(crate) fn citus_workers() -> Vec<String> {
    std::env::var("TEST_CITUS_WORKERS")
        .map(|v| v.split(',').map(str::trim).filter(|w| !w.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `url` (an admin URL) pointed at the server `host_port` instead.
pub(crate) fn on_server(url: &str, host_port: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    format!("{}{userinfo}{host_port}{}", &url[..scheme_end], &rest[authority_end..])
}

/// Held while a test database is prepared on a Citus cluster and while it is migrated: adding a
/// node copies the cluster's roles to it, and creating the serving role is copied to every node,
/// and two databases doing either at once fail with `tuple concurrently updated` (roles are
/// cluster-wide).
pub(crate) static CITUS_SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// With [`citus_workers`]: database `name`, just made on the coordinator of `admin_url`, made on
/// each worker too, with the `citus` extension everywhere and the workers added to it.
pub(crate) async fn citus_cluster(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let workers = citus_workers();
    if workers.is_empty() {
        return Ok(());
    }
    let _one_at_a_time = CITUS_SETUP.lock().await;
    let run = |url: String, sql: String| async move {
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
        conn.close().await
    };
    for worker in &workers {
        let url = on_server(admin_url, worker);
        run(url.clone(), format!("CREATE DATABASE \"{name}\"")).await?;
        run(with_database(&url, name), "CREATE EXTENSION citus".into()).await?;
    }
    let coordinator = sqlx::postgres::PgConnectOptions::from_str(admin_url)?;
    let mut setup = format!(
        "CREATE EXTENSION citus; SELECT citus_set_coordinator_host('{}', {});",
        coordinator.get_host(),
        coordinator.get_port()
    );
    for worker in &workers {
        let (host, port) = worker.rsplit_once(':').unwrap_or((worker, "5432"));
        setup.push_str(&format!("SELECT citus_add_node('{host}', {port});"));
    }
    run(with_database(admin_url, name), setup).await
}

/// Removes a PostgreSQL test database when dropped.
pub(crate) struct PgDatabaseGuard {
    pub(crate) admin_url: String,
    pub(crate) name: String,
}

impl Drop for PgDatabaseGuard {
    fn drop(&mut self) {
        if std::env::var_os("TENANT_TEST_KEEP_DB").is_some() {
            eprintln!("keeping test database {}", self.name);
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which may not block on futures: use a thread with
        // a runtime of its own. `WITH (FORCE)` ends the app pool's remaining connections.
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let servers = std::iter::once(admin_url.clone())
                    .chain(citus_workers().into_iter().map(|w| on_server(&admin_url, &w)))
                    .collect::<Vec<_>>();
                for url in servers {
                    let mut conn = sqlx::PgConnection::connect(&url).await?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())).execute(&mut conn).await?;
                    conn.close().await?;
                }
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
            .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .join();
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// Keeps a test's database alive for as long as the [`TestApp`](super::TestApp).
pub(crate) enum DbGuard {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres(PgDatabaseGuard),
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn in_ci() -> bool {
    std::env::var("CI").map(|v| !v.is_empty() && v != "0" && v != "false").unwrap_or(false)
}

/// The admin URL of the PostgreSQL server to use, or why there is none.
pub(crate) fn postgres_admin_url() -> Result<String, String> {
    static RESOLVED: OnceLock<Result<String, String>> = OnceLock::new();
    RESOLVED
        .get_or_init(|| {
            if let Ok(url) = std::env::var("TEST_POSTGRES_URL")
                && !url.trim().is_empty()
            {
                return Ok(url);
            }
            // Is the script's server listening? A plain TCP probe: no runtime needed here.
            // (TENANT_TEST_PG_PORT moves it, as it moves the script's server.)
            let port = std::env::var("TENANT_TEST_PG_PORT").ok().and_then(|p| p.parse::<u16>().ok());
            let (addr, url) = match port {
                Some(port) => {
                    (SocketAddr::from(([127, 0, 0, 1], port)), format!("postgres://postgres@127.0.0.1:{port}/postgres"))
                }
                None => (SocketAddr::from(([127, 0, 0, 1], 54329)), DEFAULT_POSTGRES_URL.to_string()),
            };
            match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(_) => Ok(url),
                Err(e) => Err(format!("TEST_POSTGRES_URL is unset and nothing answers on {addr}: {e}")),
            }
        })
        .clone()
}

/// `url` with its database name replaced by `database`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..authority_end], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub(crate) fn skip_postgres<T>(reason: &str) -> Option<T> {
    if in_ci() {
        panic!("PostgreSQL is required under CI but unavailable: {reason}");
    }
    if !WARNED.swap(true, Ordering::SeqCst) {
        // Written to the process's stderr directly: `eprintln!` would be captured by the test
        // runner and shown only for failing tests.
        let banner = format!(
            "\n\
             ************************************************************************\n\
             *  WARNING: PostgreSQL tests are being SKIPPED: {reason}\n\
             *  Run `bash scripts/test.sh` (starts a throwaway server), or set\n\
             *  TEST_POSTGRES_URL=postgres://user@host:port/db.\n\
             ************************************************************************\n"
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn server_is_replaced() {
        use super::on_server;
        assert_eq!(
            on_server("postgres://postgres@127.0.0.1:54340/postgres", "127.0.0.1:54341"),
            "postgres://postgres@127.0.0.1:54341/postgres"
        );
        assert_eq!(on_server("postgres://u:p@h:1/db?x=y", "w:2"), "postgres://u:p@w:2/db?x=y");
        assert_eq!(on_server("postgres://h/db", "w:2"), "postgres://w:2/db");
    }

    #[test]
    fn database_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:54329/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:54329/t_1"
        );
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
