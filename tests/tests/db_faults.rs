//! Database faults under load (issue 13, item 5; API.md: "database unreachable or busy" → 503):
//! PostgreSQL going away (every connection dropped, new ones refused) and its backends being
//! terminated mid-statement (what `pg_ctl stop -m fast` does, SQLSTATE 57P01) give 503 within
//! the pool's acquire timeout, never a 500 or a hang; once the server is back the same app serves
//! again without a restart; and every write that was acknowledged is in the database. SQLite: a
//! database locked by another process past the busy timeout gives 503 with `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use tests::demo::*;
use tests::*;

/// One create: the worker's unique name, the status, how long it took.
type Attempt = (String, u16, Duration);

/// Creates customers in `company` as `user` until `stop`, one at a time: a bounded load of one
/// request in flight per worker.
async fn worker(app: &TestApp, auth: Auth, tag: String, stop: &AtomicBool) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let name = format!("{tag}-{n}");
        let started = Instant::now();
        let body = json!({"name": name, "email": format!("{name}@load.test")});
        let r = app.post("/api/customers", &auth, body).await;
        attempts.push((name, r.status, started.elapsed()));
        if r.status != 201 {
            // A client backing off after a 503, as `Retry-After` asks.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    attempts
}

#[tokio::test]
async fn postgres_outage_and_terminated_backends_under_load() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let users = [app.signup("Acme").await, app.signup("Bobco").await, app.signup("Cyco").await];
    // The app under test reaches the database through a proxy that can go down.
    let (upstream, _) = proxy::reroute(&app.database_url, "127.0.0.1:1".parse().unwrap());
    let proxy = proxy::TcpProxy::start(upstream).await;
    let (_, url) = proxy::reroute(&app.database_url, proxy.addr);
    let served = app.connect_again(&url).await;

    const WORKERS_PER_COMPANY: usize = 2;
    let stop = AtomicBool::new(false);
    let phase = Arc::new(AtomicUsize::new(0));
    let workers = futures::future::join_all(users.iter().flat_map(|user| {
        let (served, stop) = (&served, &stop);
        (0..WORKERS_PER_COMPANY).map(move |w| worker(served, user.auth(), format!("{}-w{w}", user.company_id), stop))
    }));
    let admin_url = app.postgres_admin_url().expect("PostgreSQL");
    let controller = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        // 1. The server goes away for two seconds.
        phase.store(1, Ordering::SeqCst);
        proxy.outage();
        tokio::time::sleep(Duration::from_secs(2)).await;
        proxy.restore();
        phase.store(2, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // 2. Every backend of the served app is terminated, statements in flight included.
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        for _ in 0..3 {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename <> 'postgres'",
            )
            .execute(&mut admin)
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        phase.store(3, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::SeqCst);
    };
    let (attempts, ()) = tokio::join!(workers, controller);
    let attempts: Vec<Attempt> = attempts.into_iter().flatten().collect();

    // Only 201 or 503, each within the pool's acquire timeout (5 s) and a margin: never a 500,
    // never a hang.
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (name, status, took) in &attempts {
        *statuses.entry(*status).or_default() += 1;
        assert!([201, 503].contains(status), "{name}: {status}");
        assert!(*took < Duration::from_secs(12), "{name} took {took:?}");
    }
    eprintln!("statuses over the run: {statuses:?}");
    assert!(statuses.get(&503).is_some_and(|n| *n > 0), "the outage was felt: {statuses:?}");

    // Recovered without a restart: every company is served again.
    for user in &users {
        let r = served.post("/api/customers", &user.auth(), json!({"name": "after", "email": "after@load.test"})).await;
        r.assert_status(201);
        served.get("/api/customers", &user.auth()).await.assert_status(200);
    }
    served.get("/healthz", &Auth::None).await.assert_status(200);

    // Every acknowledged write is in the database, in its company. A 503'd create whose commit
    // reached the server before the connection dropped is "in doubt" (its row exists though the
    // client saw a failure: no protocol can tell the client otherwise); there can be at most one
    // per worker per fault, the one in flight at that instant.
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    let rows: Vec<(String, uuid::Uuid)> =
        sqlx::query_as("SELECT name, company_id FROM customers").fetch_all(&mut owner).await.unwrap();
    let stored: std::collections::HashMap<&str, uuid::Uuid> = rows.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let acknowledged: Vec<&Attempt> = attempts.iter().filter(|a| a.1 == 201).collect();
    for (name, _, _) in &acknowledged {
        let company = stored.get(name.as_str()).unwrap_or_else(|| panic!("acknowledged {name} was lost"));
        assert!(name.starts_with(&company.to_string()), "{name} stored in another company");
    }
    let in_doubt = attempts.iter().filter(|a| a.1 != 201 && stored.contains_key(a.0.as_str())).count();
    let workers = users.len() * WORKERS_PER_COMPANY;
    eprintln!(
        "{} creates: {} acknowledged, all stored; {} refused, of which {in_doubt} committed in doubt",
        attempts.len(),
        acknowledged.len(),
        attempts.len() - acknowledged.len()
    );
    assert!(in_doubt <= workers * 4, "{in_doubt} in doubt: more than the requests in flight at the faults");
    assert_eq!(rows.len(), acknowledged.len() + in_doubt + users.len(), "nothing else was stored");
}

#[tokio::test]
async fn a_locked_sqlite_database_is_503_with_retry_after() {
    let Some(app) = TestApp::for_app(Backend::Sqlite, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    customer(&app, &alice.auth()).await;
    // Another process holds the write lock past the app's busy timeout.
    let mut other = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut other).await.unwrap();
    let r = app.post("/api/customers", &alice.auth(), customer_body("while locked")).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.header("retry-after"), Some("1"));
    r.assert_detail();
    assert!(!r.text.to_lowercase().contains("locked") && !r.text.contains("sqlite"), "{}", r.text);
    // Reads go on meanwhile (WAL), and once the lock is released writes do too; nothing of the
    // refused write was stored.
    app.get("/api/customers", &alice.auth()).await.assert_status(200);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let r = app.get("/api/customers", &alice.auth()).await;
    assert_eq!(r.body["count"], 1);
    customer(&app, &alice.auth()).await;
}
