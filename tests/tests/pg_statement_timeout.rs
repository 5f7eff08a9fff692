//! PostgreSQL cancels a serving connection's statement past `DATABASE_STATEMENT_TIMEOUT_MS`:
//! one tenant's heavy query answers 503 with API.md's body instead of holding a pooled
//! connection for seconds, and the other tenants are served meanwhile. (SQLite has no statement
//! timeout; the list input caps of `query.rs` bound its work.)

use std::time::{Duration, Instant};

use sqlx::Connection;
use tests::demo::{customer, id_of};
use tests::{Backend, TestApp};

#[tokio::test]
async fn a_statement_past_the_timeout_is_503_and_the_others_are_served() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Heavy").await;
    let bob = app.signup("Light").await;
    let own = customer(&app, &alice.auth()).await;
    // 300 000 customers for Alice, written as the owner (fast, and outside any API limit).
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    sqlx::query(
        "INSERT INTO customers (id, company_id, created_at, updated_at, name, email, phone, notes) \
         SELECT gen_random_uuid(), $1, now(), now(), 'Customer ' || g, 'c' || g || '@example.com', NULL, '' \
         FROM generate_series(1, 300000) g",
    )
    .bind(alice.company_id)
    .execute(&mut owner)
    .await
    .unwrap();
    owner.close().await.unwrap();

    let strict = app.connect_again_with(|c| c.statement_timeout = Duration::from_millis(100)).await;
    // The heaviest search the caps allow: ten 100-character terms that match nothing, over
    // every row of the company.
    let term = "z".repeat(100);
    let search = [term.as_str(); 10].join("%20");
    let started = Instant::now();
    let r = strict.get(&format!("/api/customers?search={search}"), &alice.auth()).await;
    r.assert_status(503);
    assert_eq!(
        r.body["detail"], "Service temporarily unavailable: the database is unreachable or busy. Try again later.",
        "{}",
        r.text
    );
    assert!(started.elapsed() < Duration::from_secs(5), "cancelled, not run to the end: {:?}", started.elapsed());
    // The connection was given back in a usable state: everyone is served, Alice included.
    strict.get("/api/customers", &bob.auth()).await.assert_status(200);
    strict.get(&format!("/api/customers/{}", id_of(&own)), &alice.auth()).await.assert_status(200);
    // Without the limit the same search completes (slowly): the 503 was the timeout's doing.
    let lenient = app.connect_again_with(|c| c.statement_timeout = Duration::ZERO).await;
    let r = lenient.get(&format!("/api/customers?search={search}"), &alice.auth()).await;
    r.assert_status(200);
    assert_eq!(r.body["count"], 0);
}
