//! One company's stuck requests cannot take the whole pool (issue 17, item 4): each company may
//! hold `DATABASE_MAX_CONNECTIONS_PER_COMPANY` pooled connections at once, and a request over its
//! company's share waits without holding a connection. PostgreSQL only: there, a tenant write can
//! be held inside the database (a row lock) while reads of other tenants go on; on SQLite a held
//! write lock would stop every writer alike. The share itself is unit-tested in `fair_share.rs`.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use sqlx::Connection;
use tests::{Backend, TestApp};

/// Runs the scenario with `share` connections per company out of a pool of 4, and returns
/// whether the other company's requests were all served while the first company's were stuck.
async fn others_are_served_while_one_company_is_stuck(app: &TestApp, share: u32) -> bool {
    let pool = app
        .connect_again_with(|c| {
            c.max_connections = 4;
            c.max_connections_per_company = Some(share);
        })
        .await;
    let alice = pool.signup("Stuck").await;
    let bob = pool.signup("Other").await;
    // An uncommitted row of Alice's company, written from outside the app: every create of a
    // customer with the same email waits on the unique index until this transaction ends.
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    let mut blocker = owner.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO customers (id, company_id, created_at, updated_at, name, email, phone, notes) \
         VALUES ($1, $2, now(), now(), 'Blocker', 'same@example.com', NULL, '')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(alice.company_id)
    .execute(&mut *blocker)
    .await
    .unwrap();

    let stuck = join_all(
        (0..6).map(|_| pool.post("/api/customers", &alice.auth(), json!({"name": "A", "email": "same@example.com"}))),
    );
    let others = async {
        // Let Alice's requests take what they can and get stuck.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut served = true;
        for _ in 0..3 {
            // Well inside the statement timeout (5 s) that would eventually free the pool anyway.
            match tokio::time::timeout(Duration::from_secs(3), pool.get("/api/customers", &bob.auth())).await {
                Ok(r) => served &= r.status == 200,
                Err(_) => served = false,
            }
            if !served {
                break;
            }
        }
        blocker.rollback().await.unwrap();
        served
    };
    let (stuck, served) = tokio::join!(stuck, others);
    // Alice's requests end once the blocker is gone: one creates the row, the others find the
    // email taken; none fails otherwise (a wait for the share past its bound would be a 503).
    let mut statuses: Vec<u16> = stuck.iter().map(|r| r.status).collect();
    statuses.sort();
    assert!(statuses.iter().all(|s| [201, 409, 503].contains(s)), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    owner.close().await.unwrap();
    served
}

#[tokio::test]
async fn a_company_over_its_share_does_not_starve_the_others() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    assert!(others_are_served_while_one_company_is_stuck(&app, 2).await, "the other company was not served");
}

/// The control: with no share (`0`), the same stuck company takes every pooled connection and the
/// other company waits. This proves the scenario really saturates the pool.
#[tokio::test]
async fn without_a_share_one_company_can_take_the_whole_pool() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    assert!(!others_are_served_while_one_company_is_stuck(&app, 0).await, "the pool was never saturated");
}
