//! Authorisation as of the moment the work is done (issue 17, item 5), on PostgreSQL where a
//! write can be held inside the database: a removal waits for the member's write already under
//! way (its membership row is locked for share until it commits) and every later write is
//! refused; a write held past `REQUEST_TIMEOUT_SECS` is abandoned and rolled back. (On SQLite a
//! write holds the database's write lock, which a removal, a write, waits for in any case.)

use std::time::Duration;

use serde_json::json;
use sqlx::Connection;
use tests::{Backend, TestApp};

/// An uncommitted customer of `company` with `email`, written from outside the app: a create of
/// the same email in that company waits on the unique index until the transaction ends.
async fn hold_email(app: &TestApp, company: uuid::Uuid, email: &str) -> sqlx::PgConnection {
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut owner).await.unwrap();
    sqlx::query(
        "INSERT INTO customers (id, company_id, created_at, updated_at, name, email, phone, notes) \
         VALUES ($1, $2, now(), now(), 'Blocker', $3, NULL, '')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(company)
    .bind(email)
    .execute(&mut owner)
    .await
    .unwrap();
    owner
}

#[tokio::test]
async fn a_removal_waits_for_the_members_write_under_way_and_refuses_the_next() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bob Co").await;
    app.add_member(&alice, &bob, "staff").await;
    let in_acme = bob.in_company(alice.company_id);
    let mut blocker = hold_email(&app, alice.company_id, "held@example.com").await;

    let write = app.post("/api/customers", &in_acme, json!({"name": "Bob's", "email": "held@example.com"}));
    let removal = async {
        // Bob's write is authorised and waits inside the database, its membership row locked.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let removal = app.delete(&format!("/api/members/{}", bob.id), &alice.auth());
        tokio::pin!(removal);
        let early = tokio::time::timeout(Duration::from_secs(1), &mut removal).await;
        sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
        match early {
            Ok(answered) => (false, answered),
            Err(_) => (true, removal.await),
        }
    };
    let (write, (waited, removal)) = tokio::join!(write, removal);
    assert!(waited, "the removal did not wait for the write under way: {}", removal.text);
    write.assert_status(201);
    removal.assert_status(204);
    // Every write that starts after the removal is refused.
    let r = app.post("/api/customers", &in_acme, json!({"name": "Late", "email": "late@example.com"})).await;
    r.assert_status(403);
    let list = app.get("/api/customers", &alice.auth()).await;
    assert_eq!(list.body["count"], json!(1), "{}", list.text);
    blocker.close().await.unwrap();
}

#[tokio::test]
async fn a_write_held_past_the_request_timeout_is_abandoned_and_rolled_back() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let strict = app.connect_again_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let alice = strict.signup("Acme").await;
    let mut blocker = hold_email(&app, alice.company_id, "held@example.com").await;
    let r = strict.post("/api/customers", &alice.auth(), json!({"name": "Held", "email": "held@example.com"})).await;
    r.assert_status(503);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, json!({"detail": "The request took too long and was abandoned. Try again."}));
    // Once the blocker is gone, nothing of the abandoned write remains.
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();
    let list = strict.get("/api/customers", &alice.auth()).await;
    assert_eq!(list.body["count"], json!(0), "{}", list.text);
    // And the same write goes through now.
    strict
        .post("/api/customers", &alice.auth(), json!({"name": "Held", "email": "held@example.com"}))
        .await
        .assert_status(201);
}
