//! What row-level security costs per request, measured side by side in one run.
//!
//! ```sh
//! bash scripts/pg-test-server.sh start
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:54329/postgres \
//!     cargo run --release -p demo-app --example rls_cost [-- SECONDS_PER_ROUND]
//! ```
//!
//! Two apps over one database: **RLS** serves as the app role and sets `app.company_id` in
//! every tenant transaction (production); **no RLS** serves as the owner with
//! `ROW_LEVEL_SECURITY=off` (no `set_config`, policies not evaluated for a superuser). Both go
//! through the same router in process (no HTTP parsing), at the same concurrency, in
//! alternating rounds so that machine noise hits both alike. Prints requests/s per scenario and
//! the ratio; only the ratio means anything on a shared machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tenant_core::{App, Config};
use tower::ServiceExt;

const COMPANIES: usize = 20;
const CUSTOMERS_PER_COMPANY: usize = 100;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn call(router: &Router, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.map_or(Body::empty(), |b| Body::from(b.to_string()))).unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

struct Tenant {
    token: String,
    customer_ids: Vec<String>,
}

async fn app(config: Config) -> Result<Router, BoxError> {
    let app = demo_app::register(App::connect(config).await?);
    app.migrate().await?;
    Ok(app.into_router().await?)
}

/// Runs `scenario` on `router` for `duration` with `CONCURRENCY` workers; returns requests/s.
async fn load(router: &Router, tenants: &Arc<Vec<Tenant>>, scenario: &'static str, duration: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let workers = (0..CONCURRENCY).map(|w| {
        let (router, tenants, done) = (router.clone(), tenants.clone(), done.clone());
        tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < deadline {
                let t = &tenants[i % tenants.len()];
                let path = match scenario {
                    "list" => "/api/customers?page_size=20".to_string(),
                    _ => format!("/api/customers/{}", t.customer_ids[(i / tenants.len()) % t.customer_ids.len()]),
                };
                let (status, _) = call(&router, "GET", &path, &t.token, None).await;
                assert_eq!(status, 200, "{scenario} {path}");
                done.fetch_add(1, Ordering::Relaxed);
                i += CONCURRENCY;
            }
        })
    });
    let start = Instant::now();
    for w in workers.collect::<Vec<_>>() {
        w.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let seconds: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let admin = std::env::var("TEST_POSTGRES_URL")
        .map_err(|_| "set TEST_POSTGRES_URL to a PostgreSQL server URL whose user may create databases")?;
    let name = format!("rls_bench_{}", uuid::Uuid::now_v7().simple());
    let base = admin.rsplit_once('/').ok_or("TEST_POSTGRES_URL has no database name")?.0;
    let owner_url = format!("{base}/{name}");
    let admin_db = tenant_core::Db::connect(&admin, 1).await?;
    admin_db.execute(tenant_core::db::Sql::assembled(format!("CREATE DATABASE {name}")), &[]).await?;

    let mut rls = Config::new(owner_url.clone());
    rls.max_connections = 8;
    let with_rls = app(rls).await?;
    let mut off = Config::new(owner_url.clone());
    off.max_connections = 8;
    off.app_database_url = Some(owner_url.clone());
    off.allow_rls_bypass = true;
    off.row_level_security = false;
    let without_rls = app(off).await?;

    eprintln!("seeding {COMPANIES} companies x {CUSTOMERS_PER_COMPANY} customers…");
    let mut tenants = vec![];
    for c in 0..COMPANIES {
        let signup = json!({"email": format!("bench{c}@{name}.test"), "password": "bench-password", "company_name": format!("Bench {c}")});
        let req = Request::builder()
            .method("POST")
            .uri("/api/auth/signup")
            .header("content-type", "application/json")
            .body(Body::from(signup.to_string()))?;
        let resp = with_rls.clone().oneshot(req).await?;
        let body: Value = serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), usize::MAX).await?)?;
        let token = body["access"].as_str().ok_or("signup failed")?.to_string();
        let mut customer_ids = vec![];
        for i in 0..CUSTOMERS_PER_COMPANY {
            let (status, customer) = call(
                &with_rls,
                "POST",
                "/api/customers",
                &token,
                Some(json!({"name": format!("Customer {i}"), "email": format!("c{i}@example.com")})),
            )
            .await;
            assert_eq!(status, 201);
            customer_ids.push(customer["id"].as_str().unwrap().to_string());
        }
        tenants.push(Tenant { token, customer_ids });
    }
    let tenants = Arc::new(tenants);

    let duration = Duration::from_secs(seconds);
    println!("| scenario | round | RLS req/s | no RLS req/s | RLS / no RLS |");
    println!("| --- | --- | --- | --- | --- |");
    let mut totals = [(0.0, 0.0); 2];
    for (s, scenario) in ["list", "retrieve"].into_iter().enumerate() {
        for round in 0..ROUNDS {
            // Alternate which system goes first.
            let (a, b) = if round % 2 == 0 {
                let a = load(&with_rls, &tenants, scenario, duration).await;
                (a, load(&without_rls, &tenants, scenario, duration).await)
            } else {
                let b = load(&without_rls, &tenants, scenario, duration).await;
                (load(&with_rls, &tenants, scenario, duration).await, b)
            };
            totals[s].0 += a;
            totals[s].1 += b;
            println!("| {scenario} | {} | {a:.0} | {b:.0} | {:.3} |", round + 1, a / b);
        }
        let (a, b) = totals[s];
        println!("| {scenario} | all | {:.0} | {:.0} | {:.3} |", a / ROUNDS as f64, b / ROUNDS as f64, a / b);
    }
    admin_db.execute(tenant_core::db::Sql::assembled(format!("DROP DATABASE {name} WITH (FORCE)")), &[]).await?;
    Ok(())
}
