//! Test harness: the real demo app router, in process, over a fresh database of either backend.
//!
//! ```ignore
//! use tests::*;
//!
//! both_backends! {
//!     async fn create_then_get(app: TestApp) {
//!         let alice = app.signup("Acme").await;
//!         let r = app.post("/api/customers", &alice.auth(), json!({"name": "A", "email": "a@x.io"})).await;
//!         r.assert_status(201);
//!     }
//! }
//! ```
//!
//! Backends:
//! - SQLite: a new database file in a [`TempDir`] per test.
//! - PostgreSQL: `CREATE DATABASE t_<uuid>` on the server at `TEST_POSTGRES_URL` (falling back to
//!   the server of `scripts/pg-test-server.sh`, `postgres://postgres@127.0.0.1:54329/postgres`),
//!   dropped again when the [`TestApp`] is dropped (set `TENANT_TEST_KEEP_DB=1` to keep it).
//!   When no server can be reached the test is skipped with a loud warning, except under CI
//!   (env `CI` set) or when `TEST_POSTGRES_URL` is set explicitly: then it fails.

pub mod smtp_sink;

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;
use tenant_core::auth::jwt::Keys;
use tower::ServiceExt;
use uuid::Uuid;

pub use serde_json;
pub use tenant_core::auth::jwt::TokenType;
pub use uuid;

/// The URL `scripts/pg-test-server.sh` serves.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:54329/postgres";

/// Password of every user [`TestApp::signup`] creates.
pub const PASSWORD: &str = "vivid-otter-meadow-42";

/// Connections of each test app's pool: tests run in parallel against one server.
const APP_POOL_SIZE: u32 = 5;

/// A signing secret long enough for `Config::from_env`'s rules (tests never use the dev default).
const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// A token of `typ` for `user_id`, signed with the test apps' secret: exactly what the app would
/// issue, whether or not such a user exists (tests of tokens that outlive their user).
pub fn signed_token(user_id: Uuid, typ: TokenType) -> String {
    let config = tenant_core::Config::new("sqlite::memory:");
    Keys::new(TEST_JWT_SECRET.as_bytes(), config.access_ttl, config.refresh_ttl).issue(user_id, typ)
}

/// A token signed with the test apps' secret but living `ttl`: longer than the app issues when
/// `ttl` exceeds its configured lifetime (tests of forged lifetimes).
pub fn signed_token_living(user_id: Uuid, typ: TokenType, ttl: Duration) -> String {
    Keys::new(TEST_JWT_SECRET.as_bytes(), ttl, ttl).issue(user_id, typ)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Removes a PostgreSQL test database when dropped.
struct PgDatabaseGuard {
    admin_url: String,
    name: String,
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
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await?;
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

/// Keeps a test's database alive for as long as the [`TestApp`].
enum DbGuard {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres(PgDatabaseGuard),
}

/// One running app over its own fresh, migrated database.
pub struct TestApp {
    pub backend: Backend,
    /// The pool the router uses (`app.db.close().await` simulates an unreachable database).
    pub db: tenant_core::Db,
    pub router: Router,
    /// The URL of this test's own database.
    pub database_url: String,
    /// Where the app's mail goes (`EMAIL_BACKEND=file`): read with [`TestApp::mails_to`].
    pub mail_dir: Arc<TempDir>,
    // Declared last: dropped after the router and its pool.
    // Shared with apps made by `connect_again`: the database goes when the last one does.
    _guard: Arc<DbGuard>,
}

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`, no company header (the default company).
    Bearer(String),
    /// `Authorization: Bearer <token>` and `X-Company-Id: <raw value>`.
    BearerCompany(String, String),
}

impl Auth {
    pub fn none() -> Auth {
        Auth::None
    }

    pub fn bearer(token: impl Into<String>) -> Auth {
        Auth::Bearer(token.into())
    }

    pub fn bearer_company(token: impl Into<String>, company: impl ToString) -> Auth {
        Auth::BearerCompany(token.into(), company.to_string())
    }

    fn headers(&self) -> Vec<(String, String)> {
        match self {
            Auth::None => vec![],
            Auth::Bearer(token) => vec![("authorization".into(), format!("Bearer {token}"))],
            Auth::BearerCompany(token, company) => {
                vec![("authorization".into(), format!("Bearer {token}")), ("x-company-id".into(), company.clone())]
            }
        }
    }
}

/// A user created by [`TestApp::signup`], with the company the signup made.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub password: String,
    /// The company created at signup (the user's default company; the user is its admin).
    pub company_id: Uuid,
    pub access: String,
    pub refresh: String,
}

impl User {
    /// Bearer token, no `X-Company-Id`: acts in the default company.
    pub fn auth(&self) -> Auth {
        Auth::Bearer(self.access.clone())
    }

    /// Bearer token and `X-Company-Id: company`.
    pub fn in_company(&self, company: Uuid) -> Auth {
        Auth::BearerCompany(self.access.clone(), company.to_string())
    }

    /// Bearer token and a raw `X-Company-Id` value (e.g. not a UUID).
    pub fn in_company_raw(&self, company: &str) -> Auth {
        Auth::BearerCompany(self.access.clone(), company.to_string())
    }
}

/// A response, read in full.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Null` when empty (or not JSON: see `text`).
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// Panics, showing the body, unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Resp {
        assert_eq!(self.status, expected, "expected status {expected}, got {}; body: {}", self.status, self.text);
        self
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body[key]`, `Null` if absent.
    pub fn get(&self, key: &str) -> &Value {
        &self.body[key]
    }

    /// `body["id"]` as a UUID; panics if absent.
    #[track_caller]
    pub fn id(&self) -> Uuid {
        let id = self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.text));
        Uuid::parse_str(id).unwrap_or_else(|e| panic!("id {id:?} is not a UUID: {e}"))
    }

    /// Panics unless the body is a JSON object with a `detail` string (an error body).
    #[track_caller]
    pub fn assert_detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_else(|| panic!("expected a {{\"detail\": ...}} body, got {}", self.text))
    }

    /// Panics unless the body is a field-error map (`{"field": ["message", ...]}`) with `field`.
    #[track_caller]
    pub fn assert_field_error(&self, field: &str) -> &Resp {
        let obj = self.body.as_object().unwrap_or_else(|| panic!("expected a field-error object, got {}", self.text));
        for (key, messages) in obj {
            let list = messages
                .as_array()
                .unwrap_or_else(|| panic!("field error {key:?} is not a list of messages: {}", self.text));
            assert!(
                !list.is_empty() && list.iter().all(Value::is_string),
                "field error {key:?} must be a non-empty list of strings: {}",
                self.text
            );
        }
        assert!(obj.contains_key(field), "expected an error on {field:?}, got {}", self.text);
        self
    }
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn in_ci() -> bool {
    std::env::var("CI").map(|v| !v.is_empty() && v != "0" && v != "false").unwrap_or(false)
}

/// The admin URL of the PostgreSQL server to use, or why there is none.
fn postgres_admin_url() -> Result<String, String> {
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
fn with_database(url: &str, database: &str) -> String {
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

fn skip_postgres(reason: &str) -> Option<TestApp> {
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

impl TestApp {
    /// A fresh, migrated database and the demo app's router over it. `None` only when PostgreSQL
    /// is unavailable outside CI (see the crate docs).
    pub async fn new(backend: Backend) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(Self::new_sqlite().await),
            Backend::Postgres => {
                let explicit = std::env::var("TEST_POSTGRES_URL").map(|u| !u.trim().is_empty()).unwrap_or(false);
                let admin_url = match postgres_admin_url() {
                    Ok(url) => url,
                    Err(reason) => return skip_postgres(&reason),
                };
                let name = format!("t_{}", Uuid::new_v4().simple());
                let created = async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                    let sql = format!("CREATE DATABASE \"{name}\"");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                    conn.close().await
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
                Some(Self::build(Backend::Postgres, url, DbGuard::Postgres(guard)).await)
            }
        }
    }

    async fn new_sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        Self::build(Backend::Sqlite, url, DbGuard::Sqlite(dir)).await
    }

    /// The app as production builds it: on PostgreSQL `url` is the owner's (a superuser here),
    /// used only to migrate, and requests are served as the app role the migration creates,
    /// under row-level security; the start-up check must pass.
    async fn build(backend: Backend, url: String, guard: DbGuard) -> TestApp {
        let mail_dir = Arc::new(tempfile::tempdir().expect("a mail directory"));
        let app = Self::connect(&url, APP_POOL_SIZE, &mail_dir).await;
        app.migrate().await.unwrap_or_else(|e| panic!("migrating {url}: {e}"));
        let db = app.state().db().clone();
        let router = app.into_router().await.unwrap_or_else(|e| panic!("isolation check on {url}: {e}"));
        TestApp { backend, db, router, database_url: url, mail_dir, _guard: Arc::new(guard) }
    }

    async fn connect(url: &str, pool_size: u32, mail_dir: &TempDir) -> tenant_core::App {
        Self::connect_configured(url, pool_size, mail_dir, |_| {}).await
    }

    /// The tests' configuration, then `configure`'s changes.
    async fn connect_configured(
        url: &str,
        pool_size: u32,
        mail_dir: &TempDir,
        configure: impl FnOnce(&mut tenant_core::Config),
    ) -> tenant_core::App {
        let mut config = tenant_core::Config::new(url);
        config.email.backend = tenant_core::mail::EmailBackend::File { dir: mail_dir.path().to_path_buf() };
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
        configure(&mut config);
        let app = tenant_core::App::connect(config).await.unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        demo_app::register(app)
    }

    /// A second app (own pool, own router) over this test's database, reached through
    /// `database_url` (e.g. the same database through a [`proxy::TcpProxy`]).
    pub async fn connect_again(&self, database_url: &str) -> TestApp {
        self.connect_again_with_pool(database_url, APP_POOL_SIZE).await
    }

    /// A second app over this test's database whose configuration `configure` changed (e.g. the
    /// production throttles).
    pub async fn connect_again_with(&self, configure: impl FnOnce(&mut tenant_core::Config)) -> TestApp {
        let app = Self::connect_configured(&self.database_url, APP_POOL_SIZE, &self.mail_dir, configure).await;
        let db = app.state().db().clone();
        TestApp {
            backend: self.backend,
            db,
            router: app.into_router().await.unwrap_or_else(|e| panic!("isolation check: {e}")),
            database_url: self.database_url.clone(),
            mail_dir: self.mail_dir.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// The app, configured as the tests configure it, over this test's database, before its
    /// router is built: for tests that add routes of their own (`TestApp::with_router`).
    pub async fn app_again(&self) -> tenant_core::App {
        Self::connect_configured(&self.database_url, APP_POOL_SIZE, &self.mail_dir, |_| {}).await
    }

    /// This test's database and mail, served by `router` (built from [`TestApp::app_again`]).
    pub fn with_router(&self, router: Router, db: tenant_core::Db) -> TestApp {
        TestApp {
            backend: self.backend,
            db,
            router,
            database_url: self.database_url.clone(),
            mail_dir: self.mail_dir.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// Like [`TestApp::connect_again`], with a pool of `pool_size` connections.
    pub async fn connect_again_with_pool(&self, database_url: &str, pool_size: u32) -> TestApp {
        let app = Self::connect(database_url, pool_size, &self.mail_dir).await;
        let db = app.state().db().clone();
        TestApp {
            backend: self.backend,
            db,
            router: app.into_router().await.unwrap_or_else(|e| panic!("isolation check on {database_url}: {e}")),
            database_url: database_url.to_string(),
            mail_dir: self.mail_dir.clone(),
            _guard: self._guard.clone(),
        }
    }

    /// Serves the router as `demo-app serve` does (`axum::serve`, so hyper's HTTP/1.1 connection
    /// handling is real) on a free port of 127.0.0.1, until the returned [`Served`] is dropped.
    pub async fn serve(&self) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("listening address");
        let router = self.router.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serving the test app");
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
        let owner = tenant_core::Db::connect(&self.database_url, 1)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.database_url));
        let deleted = owner
            .execute("DELETE FROM users WHERE id = $1", &[tenant_core::Value::Uuid(Some(user_id))])
            .await
            .unwrap_or_else(|e| panic!("deleting user {user_id}: {e}"));
        owner.close().await;
        assert_eq!(deleted, 1, "user {user_id} was not there to delete");
    }

    // The request methods borrow only `self`: the path, auth and headers are copied before the
    // future is returned, so `join_all(ids.iter().map(|id| app.get(&format!(..), &user.auth())))`
    // works without `let` bindings for every temporary.

    pub fn get<'a>(&'a self, path: &str, auth: &Auth) -> impl Future<Output = Resp> + use<'a> {
        self.request("GET", path, auth, None)
    }

    pub fn post<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("POST", path, auth, Some(body))
    }

    pub fn put<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("PUT", path, auth, Some(body))
    }

    pub fn patch<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("PATCH", path, auth, Some(body))
    }

    pub fn delete<'a>(&'a self, path: &str, auth: &Auth) -> impl Future<Output = Resp> + use<'a> {
        self.request("DELETE", path, auth, None)
    }

    /// Any method, with authentication and an optional JSON body (sent as `application/json`).
    pub fn request<'a>(
        &'a self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> impl Future<Output = Resp> + use<'a> {
        let mut headers = auth.headers();
        let bytes = body.map(|b| {
            headers.push(("content-type".into(), "application/json".into()));
            serde_json::to_vec(&b).expect("serialisable body")
        });
        self.send_owned(method.to_string(), path.to_string(), headers, bytes)
    }

    /// Fully general: raw body bytes and headers, nothing added.
    pub fn send<'a>(
        &'a self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> impl Future<Output = Resp> + use<'a> {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.send_owned(method.to_string(), path.to_string(), headers, body)
    }

    async fn send_owned(
        &self,
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut builder = Request::builder().method(method).uri(path.as_str());
        for (name, value) in &headers {
            builder = builder.header(
                HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
                HeaderValue::from_str(value).expect("valid header value"),
            );
        }
        let request = builder.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("valid request");
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("readable body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Resp { status, headers, body, text }
    }

    /// `POST /api/auth/signup` with a unique email and [`PASSWORD`], then the e-mail verification
    /// with the token of the message it sent; panics unless 201 and 200.
    pub async fn signup(&self, company_name: &str) -> User {
        let user = self.signup_unverified(company_name).await;
        self.verify_email(&user.email).await;
        user
    }

    /// `POST /api/auth/signup` with a unique email and [`PASSWORD`]; panics unless 201. The
    /// address stays unverified.
    pub async fn signup_unverified(&self, company_name: &str) -> User {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        self.signup_as(&email, company_name).await
    }

    /// `POST /api/auth/signup` with `email` and [`PASSWORD`]; panics unless 201. Unverified.
    pub async fn signup_as(&self, email: &str, company_name: &str) -> User {
        let r = self
            .post(
                "/api/auth/signup",
                &Auth::None,
                json!({"email": email, "password": PASSWORD, "company_name": company_name}),
            )
            .await;
        assert_eq!(r.status, 201, "signup failed: {} {}", r.status, r.text);
        let uuid_at = |pointer: &str| {
            r.body
                .pointer(pointer)
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(|| panic!("signup response has no UUID at {pointer}: {}", r.text))
        };
        let string_at = |key: &str| {
            r.body[key]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| panic!("signup response has no {key}: {}", r.text))
        };
        User {
            id: uuid_at("/user/id"),
            email: r.body.pointer("/user/email").and_then(Value::as_str).unwrap_or(email).to_string(),
            password: PASSWORD.to_string(),
            company_id: uuid_at("/company/id"),
            access: string_at("access"),
            refresh: string_at("refresh"),
        }
    }

    /// Every message the app sent to `address`, as RFC 5322 text, oldest first.
    pub fn mails_to(&self, address: &str) -> Vec<String> {
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(self.mail_dir.path())
            .expect("the mail directory")
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .map(|entry| {
                let modified = entry.metadata().and_then(|m| m.modified()).expect("a file time");
                (modified, std::fs::read_to_string(entry.path()).expect("a readable message"))
            })
            .filter(|(_, text)| {
                text.lines()
                    .take_while(|line| !line.is_empty())
                    .any(|line| line.to_ascii_lowercase().starts_with("to:") && line.contains(address))
            })
            .collect();
        mails.sort();
        mails.into_iter().map(|(_, text)| text).collect()
    }

    /// The token of the newest message to `address` that carries one (API.md: a line of its own
    /// starting with `Token: `); panics if there is none.
    #[track_caller]
    pub fn last_token_for(&self, address: &str) -> String {
        self.mails_to(address)
            .iter()
            .rev()
            .find_map(|mail| mail.lines().find_map(|l| l.trim_end().strip_prefix("Token: ").map(str::to_string)))
            .unwrap_or_else(|| panic!("no message with a token was sent to {address}"))
    }

    /// Verifies `address` with the token last sent to it; panics unless 200.
    pub async fn verify_email(&self, address: &str) {
        let token = self.last_token_for(address);
        let r = self.post("/api/auth/verify-email", &Auth::None, json!({ "token": token })).await;
        assert_eq!(r.status, 200, "verifying {address} failed: {} {}", r.status, r.text);
    }

    /// Invites `member` to `admin`'s active (default) company with `role`, and has `member`
    /// accept (their address must be verified, as [`TestApp::signup`] leaves it); panics unless
    /// 201 and 200.
    pub async fn add_member(&self, admin: &User, member: &User, role: &str) {
        let r = self.post("/api/members", &admin.auth(), json!({"email": member.email, "role": role})).await;
        assert_eq!(r.status, 201, "inviting {} as {role} failed: {} {}", member.email, r.status, r.text);
        let id = r.id();
        let r = self.post(&format!("/api/invitations/{id}/accept"), &member.auth(), json!({})).await;
        assert_eq!(r.status, 200, "{} accepting as {role} failed: {} {}", member.email, r.status, r.text);
    }

    /// `POST path`; panics unless 201; returns the created object.
    pub async fn create(&self, path: &str, auth: &Auth, body: Value) -> Value {
        let r = self.post(path, auth, body).await;
        assert_eq!(r.status, 201, "create at {path} failed: {} {}", r.status, r.text);
        r.body
    }
}

/// The app served over TCP by [`TestApp::serve`]; dropping it stops the server.
pub struct Served {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP forwarder whose connections can all be cut at once: a database that becomes
/// unreachable while the app runs.
pub mod proxy {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    pub struct TcpProxy {
        pub addr: SocketAddr,
        tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
        listener: JoinHandle<()>,
    }

    impl TcpProxy {
        /// Listens on 127.0.0.1 (a free port) and forwards every connection to `upstream`.
        pub async fn start(upstream: SocketAddr) -> TcpProxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a proxy port");
            let addr = listener.local_addr().expect("proxy address");
            let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
            let registry = tasks.clone();
            let listener = tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    registry.lock().unwrap().push(task);
                }
            });
            TcpProxy { addr, tasks, listener }
        }

        /// Stops listening and drops every forwarded connection.
        pub fn cut(&self) {
            self.listener.abort();
            for task in self.tasks.lock().unwrap().drain(..) {
                task.abort();
            }
        }
    }

    impl Drop for TcpProxy {
        fn drop(&mut self) {
            self.cut();
        }
    }

    /// The address a `postgres://user@host:port/db` URL names, and the URL pointed at `to` instead.
    pub fn reroute(url: &str, to: SocketAddr) -> (SocketAddr, String) {
        use std::net::ToSocketAddrs;
        let start = url.find('@').map(|i| i + 1).or_else(|| url.find("://").map(|i| i + 3)).expect("a URL");
        let end = url[start..].find(['/', '?']).map(|i| start + i).unwrap_or(url.len());
        let mut host_port = url[start..end].to_string();
        if !host_port.contains(':') {
            host_port.push_str(":5432");
        }
        let upstream = host_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("cannot resolve {host_port}"));
        (upstream, format!("{}{}{}", &url[..start], to, &url[end..]))
    }
}

/// Bodies and set-up for the demo app's three resources (customers, products, invoices).
pub mod demo {
    use serde_json::{Value, json};
    use uuid::Uuid;

    use crate::{Auth, TestApp};

    pub const RESOURCES: [&str; 3] = ["customers", "products", "invoices"];

    /// A unique-enough tag for values that must not collide (emails, SKUs, numbers).
    pub fn tag() -> String {
        Uuid::new_v4().simple().to_string()[..12].to_string()
    }

    pub fn customer_body(n: &str) -> Value {
        json!({"name": format!("Customer {n}"), "email": format!("c-{n}@example.com")})
    }

    pub fn product_body(n: &str) -> Value {
        json!({"sku": format!("SKU-{n}"), "name": format!("Product {n}"), "price_cents": 1250})
    }

    pub fn invoice_body(customer_id: &str, n: &str) -> Value {
        json!({"customer_id": customer_id, "number": format!("INV-{n}"), "amount_cents": 9900})
    }

    /// Creates a customer as `auth`; returns the object.
    pub async fn customer(app: &TestApp, auth: &Auth) -> Value {
        app.create("/api/customers", auth, customer_body(&tag())).await
    }

    /// Creates a product as `auth`; returns the object.
    pub async fn product(app: &TestApp, auth: &Auth) -> Value {
        app.create("/api/products", auth, product_body(&tag())).await
    }

    /// Creates an invoice (and a customer for it) as `auth`; returns the invoice.
    pub async fn invoice(app: &TestApp, auth: &Auth) -> Value {
        let c = customer(app, auth).await;
        app.create("/api/invoices", auth, invoice_body(c["id"].as_str().unwrap(), &tag())).await
    }

    /// Creates one object of `resource` as `auth` (with what it depends on); returns it.
    pub async fn make(app: &TestApp, auth: &Auth, resource: &str) -> Value {
        match resource {
            "customers" => customer(app, auth).await,
            "products" => product(app, auth).await,
            "invoices" => invoice(app, auth).await,
            other => panic!("unknown resource {other}"),
        }
    }

    /// A valid body for `POST /api/{resource}` as `auth` (creating dependencies if needed).
    pub async fn create_body(app: &TestApp, auth: &Auth, resource: &str) -> Value {
        match resource {
            "customers" => customer_body(&tag()),
            "products" => product_body(&tag()),
            "invoices" => {
                let c = customer(app, auth).await;
                invoice_body(c["id"].as_str().unwrap(), &tag())
            }
            other => panic!("unknown resource {other}"),
        }
    }

    /// A full, valid `PUT` body for `resource` that changes every writable field, as `auth`.
    pub async fn put_body(app: &TestApp, auth: &Auth, resource: &str) -> Value {
        let n = tag();
        match resource {
            "customers" => json!({
                "name": format!("Replaced {n}"), "email": format!("r-{n}@example.com"),
                "phone": "+1 555 0100", "notes": "replaced"
            }),
            "products" => json!({
                "sku": format!("R-{n}"), "name": format!("Replaced {n}"), "price_cents": 777, "active": false
            }),
            "invoices" => {
                let c = customer(app, auth).await;
                json!({
                    "customer_id": c["id"], "number": format!("R-{n}"), "amount_cents": 4242,
                    "status": "sent", "issued_on": "2026-02-03"
                })
            }
            other => panic!("unknown resource {other}"),
        }
    }

    /// A valid `PATCH` body for `resource` that changes one field: (body, field, new value).
    pub fn patch_body(resource: &str) -> (Value, &'static str, Value) {
        let (field, value) = match resource {
            "customers" => ("name", json!("Patched name")),
            "products" => ("price_cents", json!(4321)),
            "invoices" => ("status", json!("paid")),
            other => panic!("unknown resource {other}"),
        };
        (json!({ field: value.clone() }), field, value)
    }

    /// The object's id as a string; panics if absent.
    #[track_caller]
    pub fn id_of(obj: &Value) -> String {
        obj["id"].as_str().unwrap_or_else(|| panic!("no id in {obj}")).to_string()
    }
}

/// Declares tests that run on both backends:
///
/// ```ignore
/// both_backends! {
///     async fn my_test(app: TestApp) { /* ... */ }
///     async fn another(app: TestApp) { /* ... */ }
/// }
/// ```
///
/// Each function becomes a module with `#[tokio::test] async fn sqlite()` and `async fn postgres()`
/// (run as `cargo test my_test::sqlite`). A PostgreSQL test is skipped (passes, with a loud
/// warning) when no server is available outside CI.
#[macro_export]
macro_rules! both_backends {
    ($( $(#[$meta:meta])* async fn $name:ident ( $app:ident : $ty:ty ) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: $ty) $body

                #[::tokio::test]
                $(#[$meta])*
                async fn sqlite() {
                    if let Some(app) = $crate::TestApp::new($crate::Backend::Sqlite).await {
                        body(app).await;
                    }
                }

                #[::tokio::test]
                $(#[$meta])*
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::new($crate::Backend::Postgres).await {
                        body(app).await;
                    }
                }
            }
        )*
    };
}

#[cfg(test)]
mod unit {
    use super::with_database;

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
