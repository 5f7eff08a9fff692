//! The hand-written baseline: `GET /api/customers` and `GET /api/customers/{id}` in plain axum +
//! sqlx, with no framework code. It does the work the framework does for these two requests:
//! authenticate the JWT (HS256, `typ` = access, `exp`), resolve the active company
//! (`X-Company-Id` or the default) and check membership, set the tenant for row-level security,
//! run the same query inside one transaction, and serialise the same JSON.
//!
//! The SQL text comes from `bench/src/statements.rs` (plain constants), which the runner checks
//! against what the framework really sends. Environment: `BASELINE_DATABASE_URL` (the serving
//! role, subject to row-level security), `JWT_SECRET`, `BIND_ADDR`, `DATABASE_MAX_CONNECTIONS`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bench::statements::{LIST, MEMBERSHIP, RETRIEVE};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use uuid::Uuid;

const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 100;

struct AppState {
    pool: PgPool,
    key: DecodingKey,
    validation: Validation,
}

type Shared = State<Arc<AppState>>;

#[derive(Deserialize)]
struct Claims {
    sub: Uuid,
    typ: String,
}

#[derive(Serialize)]
struct Customer {
    id: Uuid,
    company_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    name: String,
    email: String,
    phone: Option<String>,
    notes: String,
}

impl Customer {
    fn from_row(row: &PgRow) -> Result<Customer, sqlx::Error> {
        Ok(Customer {
            id: row.try_get(0)?,
            company_id: row.try_get(1)?,
            created_at: row.try_get(2)?,
            updated_at: row.try_get(3)?,
            name: row.try_get(4)?,
            email: row.try_get(5)?,
            phone: row.try_get(6)?,
            notes: row.try_get(7)?,
        })
    }
}

#[derive(Serialize)]
struct Page {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Customer>,
}

enum Error {
    Unauthorized(&'static str),
    Forbidden(&'static str),
    NotFound(&'static str),
    BadRequest(&'static str),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Db(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            Error::Unauthorized(d) => {
                let mut r = (StatusCode::UNAUTHORIZED, axum::Json(json!({ "detail": d }))).into_response();
                r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                return r;
            }
            Error::Forbidden(d) => (StatusCode::FORBIDDEN, d),
            Error::NotFound(d) => (StatusCode::NOT_FOUND, d),
            Error::BadRequest(d) => (StatusCode::BAD_REQUEST, d),
            Error::Db(e @ (sqlx::Error::PoolTimedOut | sqlx::Error::Io(_))) => {
                eprintln!("baseline: database unavailable: {e}");
                (StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable.")
            }
            Error::Db(e) => {
                eprintln!("baseline: database error: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "A server error occurred.")
            }
        };
        (status, axum::Json(json!({ "detail": detail }))).into_response()
    }
}

/// The caller: a valid access token's user, and the company asked for in `X-Company-Id`.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(Uuid, Option<Uuid>), Error> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Error::Unauthorized("Authentication credentials were not provided."))?
        .to_str()
        .map_err(|_| Error::Unauthorized("Invalid Authorization header."))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
        _ => return Err(Error::Unauthorized("Invalid Authorization header: expected `Bearer <token>`.")),
    };
    let claims = jsonwebtoken::decode::<Claims>(token, &state.key, &state.validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::Unauthorized("Token has expired."),
            _ => Error::Unauthorized("Token is invalid."),
        })?
        .claims;
    if claims.typ != "access" {
        return Err(Error::Unauthorized("Token has the wrong type: use an access token."));
    }
    let requested = match headers.get("x-company-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .ok_or(Error::Forbidden("X-Company-Id is not a valid UUID."))?,
        ),
    };
    Ok((claims.sub, requested))
}

/// Opens the request's transaction, checks membership and sets the tenant (one statement);
/// returns the transaction and the active company.
async fn begin_tenant(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Uuid), Error> {
    let (user_id, requested) = authenticate(state, headers)?;
    let mut tx = state.pool.begin().await?;
    let row = sqlx::query(MEMBERSHIP).bind(user_id).bind(requested).fetch_optional(&mut *tx).await?;
    let Some(row) = row else {
        return Err(Error::Forbidden(match requested {
            Some(_) => "You are not a member of this company.",
            None => "No active company: send X-Company-Id or set a default company you are a member of.",
        }));
    };
    Ok((tx, row.try_get(0)?))
}

async fn list(
    State(state): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Page>, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| Error::BadRequest("Malformed query string."))?;
    let mut page = 1;
    let mut page_size = DEFAULT_PAGE_SIZE;
    for (key, value) in &pairs {
        match key.as_str() {
            "page" => page = value.trim().parse().ok().filter(|p| *p >= 1).ok_or(Error::NotFound("Invalid page."))?,
            "page_size" => {
                page_size = value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE))
            }
            _ => {}
        }
    }
    let (mut tx, company_id) = begin_tenant(&state, &headers).await?;
    let rows = sqlx::query(LIST)
        .bind(company_id)
        .bind(page_size as i64)
        .bind(((page - 1) * page_size) as i64)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() && page > 1 {
        return Err(Error::NotFound("Invalid page."));
    }
    let mut count = 0;
    let mut results = Vec::with_capacity(rows.len());
    for row in &rows {
        results.push(Customer::from_row(row)?);
        count = row.try_get::<i64, _>(8)?.max(0) as u64;
    }
    tx.commit().await?;
    let last_page = count.div_ceil(page_size).max(1);
    let link = |p: u64| page_url(&uri, &headers, &pairs, p);
    Ok(axum::Json(Page {
        count,
        next: (page < last_page).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results,
    }))
}

/// This request's URL with `page` replaced (dropped for page 1).
fn page_url(uri: &Uri, headers: &HeaderMap, pairs: &[(String, String)], page: u64) -> String {
    let mut pairs: Vec<(&str, String)> =
        pairs.iter().filter(|(k, _)| k != "page").map(|(k, v)| (k.as_str(), v.clone())).collect();
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    let base = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("{scheme}://{host}{}", uri.path()),
        None => uri.path().to_string(),
    };
    if query.is_empty() { base } else { format!("{base}?{query}") }
}

async fn retrieve(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Customer>, Error> {
    let (mut tx, company_id) = begin_tenant(&state, &headers).await?;
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound("Not found."))?;
    let row = sqlx::query(RETRIEVE).bind(company_id).bind(id).fetch_optional(&mut *tx).await?;
    let customer = Customer::from_row(&row.ok_or(Error::NotFound("Not found."))?)?;
    tx.commit().await?;
    Ok(axum::Json(customer))
}

async fn healthz(State(state): Shared) -> Result<axum::Json<serde_json::Value>, Error> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    Ok(axum::Json(json!({ "status": "ok" })))
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = var("BASELINE_DATABASE_URL")?;
    let secret = var("JWT_SECRET")?;
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".to_string());
    let max: u32 = std::env::var("DATABASE_MAX_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    // The framework's pool settings (tenant-core/src/db/postgres.rs), so both do the same work.
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(PgConnectOptions::from_str(&url)?);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let state = Arc::new(AppState { pool, key: DecodingKey::from_secret(secret.as_bytes()), validation });
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/api/customers", get(list))
        .route("/api/customers/{id}", get(retrieve))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("baseline listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("baseline: error: {e}");
        std::process::exit(1);
    }
}
