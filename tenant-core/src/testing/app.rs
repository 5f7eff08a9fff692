//! The app under test: an app's router over a fresh database, configured for tests (mail to
//! files, a fixed signing secret, throttles out of the way), and the ways to start it again or
//! serve it over TCP.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use sqlx::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use super::credentials::{APP_POOL_SIZE, TEST_JWT_SECRET};
use super::databases::{Backend, DbGuard, PgDatabaseGuard, postgres_admin_url, skip_postgres, with_database};

/// Adds an app's resources (and routes) to the framework's `App`: the function an app's `main`
/// calls too, e.g. `fn register(app: App) -> App { app.resource::<Project>() }`.
pub type Register = fn(crate::App) -> crate::App;

/// One running app over its own fresh, migrated database.
pub struct TestApp {
    /// The backend this app runs on.
    pub backend: Backend,
    /// The pool the router uses (`app.db.close().await` simulates an unreachable database).
    pub db: crate::Db,
    /// The app's state, for what runs outside a request ([`TestApp::scoped`]).
    pub state: crate::AppState,
    /// The app's router, called in process (`tower::ServiceExt::oneshot`).
    pub router: Router,
    /// The URL of this test's own database.
    pub database_url: String,
    /// Where the app's mail goes (`EMAIL_BACKEND=file`): read with [`TestApp::mails_to`].
    pub mail_dir: Arc<TempDir>,
    /// What the app under test serves ([`TestApp::for_app`]).
    pub register: Register,
    /// The custom actions the app registered ([`App::actions`](crate::App::actions)), which
    /// [`assert_isolated`](super::assert_isolated) calls with another company's ids.
    pub actions: Vec<crate::actions::ActionDesc>,
    // Declared last: dropped after the router and its pool.
    // Shared with apps made by `connect_again`: the database goes when the last one does.
    _guard: Arc<DbGuard>,
}

impl TestApp {
    /// A fresh, migrated database of `backend` and the router of the app `register` builds over
    /// it, as production builds it (on PostgreSQL: served as the RLS-bound app role, the start-up
    /// isolation check passed). `None` only when PostgreSQL is unavailable outside CI (see the
    /// module docs).
    pub async fn for_app(backend: Backend, register: Register) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(Self::new_sqlite(register).await),
            Backend::Postgres => {
                let explicit = std::env::var("TEST_POSTGRES_URL").map(|u| !u.trim().is_empty()).unwrap_or(false);
                let admin_url = match postgres_admin_url() {
                    Ok(url) => url,
                    Err(reason) => return skip_postgres(&reason),
                };
                let name = format!("t_{}", Uuid::now_v7().simple());
                let created = async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                    let sql = format!("CREATE DATABASE \"{name}\"");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                    conn.close().await?;
                    super::databases::citus_cluster(&admin_url, &name).await
                }
                .await;
                if let Err(e) = created {
                    let reason = format!("cannot create a database on {admin_url}: {e}");
                    if explicit {
                        panic!("TEST_POSTGRES_URL is set but unusable: {reason}");
                    }
                    return skip_postgres(&reason);
                }
                let guard = PgDatabaseGuard { admin_url: admin_url.clone(), name: name.clone() };
                let url = with_database(&admin_url, &name);
                Some(Self::build(Backend::Postgres, url, DbGuard::Postgres(guard), register).await)
            }
        }
    }

    async fn new_sqlite(register: Register) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        Self::build(Backend::Sqlite, url, DbGuard::Sqlite(dir), register).await
    }

    /// The app as production builds it: on PostgreSQL `url` is the owner's (a superuser here),
    /// used only to migrate, and requests are served as the app role the migration creates,
    /// under row-level security; the start-up check must pass.
    async fn build(backend: Backend, url: String, guard: DbGuard, register: Register) -> TestApp {
        let mail_dir = Arc::new(tempfile::tempdir().expect("a mail directory"));
        let app = Self::connect_configured(&url, APP_POOL_SIZE, &mail_dir, register, |_| {}).await;
        {
            let _one_at_a_time = if super::databases::citus_workers().is_empty() {
                None
            } else {
                Some(super::databases::CITUS_SETUP.lock().await)
            };
            app.migrate().await.unwrap_or_else(|e| panic!("migrating {url}: {e}"));
        }
        let (db, state, actions) = (app.state().db().clone(), app.state().clone(), app.actions().to_vec());
        let router = app.into_router().await.unwrap_or_else(|e| panic!("isolation check on {url}: {e}"));
        TestApp { backend, db, state, router, database_url: url, mail_dir, register, actions, _guard: Arc::new(guard) }
    }

    /// The tests' configuration, then `configure`'s changes.
    async fn connect_configured(
        url: &str,
        pool_size: u32,
        mail_dir: &TempDir,
        register: Register,
        configure: impl FnOnce(&mut crate::Config),
    ) -> crate::App {
        let mut config = crate::Config::new(url);
        config.email.backend = crate::mail::EmailBackend::File { dir: mail_dir.path().to_path_buf() };
        config.max_connections = pool_size;
        config.jwt_secret = TEST_JWT_SECRET.to_string();
        // Fixed, not one per core, so that tests of the hashing bound behave alike on any machine.
        config.password_hash_workers = 2;
        // Tests sign up and log in far faster than people: the throttles are tested on their own
        // (`connect_again_with`).
        config.throttle_auth_address = "100000/min".parse().expect("a rate");
        config.throttle_auth_account = "100000/min".parse().expect("a rate");
        config.throttle_invitation_company = "100000/min".parse().expect("a rate");
        config.throttle_invitation_address = "100000/min".parse().expect("a rate");
        config.throttle_user = None;
        config.throttle_company = None;
        configure(&mut config);
        let app = crate::App::connect(config).await.unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        register(app)
    }

    /// A second app (own pool, own router) over this test's database, reached through
    /// `database_url` (e.g. the same database through a TCP proxy that a test interrupts).
    pub async fn connect_again(&self, database_url: &str) -> TestApp {
        self.connect_again_with_pool(database_url, APP_POOL_SIZE).await
    }

    /// A second app over this test's database whose configuration `configure` changed (e.g. the
    /// production throttles).
    pub async fn connect_again_with(&self, configure: impl FnOnce(&mut crate::Config)) -> TestApp {
        let app =
            Self::connect_configured(&self.database_url, APP_POOL_SIZE, &self.mail_dir, self.register, configure).await;
        let (db, state) = (app.state().db().clone(), app.state().clone());
        TestApp {
            backend: self.backend,
            db,
            state,
            router: app.into_router().await.unwrap_or_else(|e| panic!("isolation check: {e}")),
            database_url: self.database_url.clone(),
            mail_dir: self.mail_dir.clone(),
            register: self.register,
            actions: self.actions.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// The app, configured as the tests configure it, over this test's database, before its
    /// router is built: for tests that add routes of their own (`TestApp::with_router`).
    pub async fn app_again(&self) -> crate::App {
        Self::connect_configured(&self.database_url, APP_POOL_SIZE, &self.mail_dir, self.register, |_| {}).await
    }

    /// This test's database and mail, served by `router` (built from [`TestApp::app_again`]).
    pub fn with_router(&self, router: Router, state: crate::AppState) -> TestApp {
        TestApp {
            backend: self.backend,
            db: state.db().clone(),
            state,
            router,
            database_url: self.database_url.clone(),
            mail_dir: self.mail_dir.clone(),
            register: self.register,
            actions: self.actions.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// Like [`TestApp::connect_again`], with a pool of `pool_size` connections.
    pub async fn connect_again_with_pool(&self, database_url: &str, pool_size: u32) -> TestApp {
        let app = Self::connect_configured(database_url, pool_size, &self.mail_dir, self.register, |_| {}).await;
        let (db, state) = (app.state().db().clone(), app.state().clone());
        TestApp {
            backend: self.backend,
            db,
            state,
            router: app.into_router().await.unwrap_or_else(|e| panic!("isolation check on {database_url}: {e}")),
            database_url: database_url.to_string(),
            mail_dir: self.mail_dir.clone(),
            register: self.register,
            actions: self.actions.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// A transaction of `company` on no one's behalf, as a job gets it (`crate::jobs`).
    pub async fn scoped(&self, company: Uuid) -> crate::Scoped {
        crate::jobs::scoped(&self.state, company).await.unwrap_or_else(|e| panic!("scoped({company}): {e:?}"))
    }

    /// Serves the router as `demo-app serve` does ([`Server`](crate::Server): hyper's HTTP/1.1
    /// connection handling is real, with the configured header read timeout and the client's
    /// address) on a free port of 127.0.0.1, until the returned [`Served`] is dropped. No signal
    /// shuts it down.
    pub async fn serve(&self) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("listening address");
        let server = crate::Server::new(self.router.clone(), self.state.clone()).with_shutdown(std::future::pending());
        let task = tokio::spawn(async move {
            server.run(listener).await.expect("serving the test app");
        });
        Served { addr, task }
    }

    /// PostgreSQL only: a URL of the server's maintenance database, for test set-up that must
    /// act from outside the app (terminating its connections, say).
    pub fn postgres_admin_url(&self) -> Option<String> {
        match &*self._guard {
            DbGuard::Postgres(g) => Some(g.admin_url.clone()),
            DbGuard::Sqlite(_) => None,
        }
    }

    /// PostgreSQL only: the name of this test's database.
    pub fn postgres_database_name(&self) -> Option<String> {
        match &*self._guard {
            DbGuard::Postgres(g) => Some(g.name.clone()),
            DbGuard::Sqlite(_) => None,
        }
    }

    /// Deletes the user row of `user_id` from outside the app (their memberships go with it, by
    /// the schema's `ON DELETE CASCADE`), as an operator would. On PostgreSQL it goes through the
    /// owner's URL, `database_url`: the app's own role is not meant to delete users.
    pub async fn delete_user(&self, user_id: Uuid) {
        let owner = crate::Db::connect(&self.database_url, 1)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.database_url));
        let deleted = owner
            .execute("DELETE FROM users WHERE id = $1", &[crate::Value::Uuid(Some(user_id))])
            .await
            .unwrap_or_else(|e| panic!("deleting user {user_id}: {e}"));
        owner.close().await;
        assert_eq!(deleted, 1, "user {user_id} was not there to delete");
    }
}

/// The app served over TCP by [`TestApp::serve`]; dropping it stops the server.
pub struct Served {
    /// Where it listens (127.0.0.1 and a free port).
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}
