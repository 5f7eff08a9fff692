//! Security review of issue 17, the PostgreSQL findings: an invitation renewed while its invitee
//! declines it, and writes that waited on their membership row outside their company's
//! connection share. Each "Finding" failed on the code it was written against (647fc05) and
//! passes since its fix.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use tests::*;
use uuid::Uuid;

async fn invite(app: &TestApp, admin: &Auth, email: &str, role: &str) -> Resp {
    app.post("/api/members", admin, json!({"email": email, "role": role})).await
}

/// Finding (PostgreSQL): renewing an invitation does not check that the row it renews still
/// exists. `POST /api/members` reads the pending invitation (`PENDING_FOR`), then `UPDATE`s it
/// by id; if the invitee's decline (or accept) locked it in between and commits its `DELETE`,
/// the `UPDATE` waits, then changes nothing, and the admin is answered 201 `"status": "pending"`
/// with the id of an invitation that no longer exists, and the invitee is mailed that id (every
/// use of it is a 404). After an accept, the admin is told a *member* has a pending invitation.
/// The roster lock does not help: accept and decline do not take it.
#[tokio::test]
async fn pg_a_renewal_racing_a_decline_answers_an_invitation_that_exists() {
    use sqlx::Connection;
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bob Co").await;
    let id = invite(&app, &alice.auth(), &bob.email, "staff").await.id();
    // Bob's decline, held between its two statements (ONE_OF_MINE_FOR_UPDATE, then DELETE).
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    let mut decline = owner.begin().await.unwrap();
    sqlx::query("SELECT id FROM invitations WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *decline).await.unwrap();
    let admin = alice.auth();
    let renew = invite(&app, &admin, &bob.email, "admin");
    let declined = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sqlx::query("DELETE FROM invitations WHERE id = $1").bind(id).execute(&mut *decline).await.unwrap();
        decline.commit().await.unwrap();
    };
    let (renewed, ()) = tokio::join!(renew, declined);
    owner.close().await.unwrap();
    renewed.assert_status(201);
    let pending = app.get("/api/members/invitations", &alice.auth()).await;
    let listed: Vec<&str> = pending.body.as_array().unwrap().iter().filter_map(|i| i["id"].as_str()).collect();
    let accept = app.post(&format!("/api/invitations/{}/accept", renewed.id()), &bob.auth(), json!({})).await;
    assert!(
        listed.contains(&renewed.id().to_string().as_str()) && accept.status == 200,
        "201 {} says pending, but the company's pending invitations are {} and accepting it is {}",
        renewed.text,
        pending.text,
        accept.status
    );
}

/// Whether the other company is served within 3 s while one of Alice's company's writes is
/// stuck, she promotes the stuck member (`promote`) or not, and then writes three times.
async fn other_company_served_while_a_roster_change_waits(app: &TestApp, promote: bool) -> bool {
    use sqlx::Connection;
    let pool = app
        .connect_again_with(|c| {
            c.max_connections = 4;
            c.max_connections_per_company = Some(2);
        })
        .await;
    let alice = pool.signup("Stuck").await;
    let carol = pool.signup("Carol Co").await;
    pool.add_member(&alice, &carol, "staff").await;
    let bob = pool.signup("Other").await;
    assert!(alice.id < carol.id, "the roster is locked in user-id order: Alice's row first");
    // As in pg_fair_share.rs: an uncommitted row of Alice's company makes a create of the same
    // email wait on the unique index.
    let mut owner = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    let mut blocker = owner.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO customers (id, company_id, created_at, updated_at, name, email, phone, notes) \
         VALUES ($1, $2, now(), now(), 'Blocker', 'same@example.com', NULL, '')",
    )
    .bind(Uuid::now_v7())
    .bind(alice.company_id)
    .execute(&mut *blocker)
    .await
    .unwrap();

    let in_acme = carol.in_company(alice.company_id);
    // One stuck write of the company (permit 1, holds Carol's membership row FOR SHARE).
    let stuck = pool.post("/api/customers", &in_acme, json!({"name": "C", "email": "same@example.com"}));
    // Alice promotes Carol (permit 2): locks Alice's row FOR UPDATE, waits for Carol's.
    let promoted = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if promote {
            pool.patch(&format!("/api/members/{}", carol.id), &alice.auth(), json!({"role": "admin"})).await;
        }
    };
    // Alice's ordinary writes: over the share, they should wait without a connection.
    let writes = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        join_all((0..3).map(|n| {
            pool.post("/api/customers", &alice.auth(), json!({"name": "A", "email": format!("a{n}@example.com")}))
        }))
        .await
    };
    let others = async {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let served = matches!(
            tokio::time::timeout(Duration::from_secs(3), pool.get("/api/customers", &bob.auth())).await,
            Ok(r) if r.status == 200
        );
        blocker.rollback().await.unwrap();
        served
    };
    let (_stuck, (), _writes, served) = tokio::join!(stuck, promoted, writes, others);
    owner.close().await.unwrap();
    served
}

/// Finding (PostgreSQL): the per-company connection share is checked only after the membership
/// statement, and a tenant write's membership statement takes `FOR SHARE` on the caller's
/// membership row, so it waits, **holding a pooled connection and no permit**, whenever that row
/// is locked. An admin's member change (`PATCH`/`DELETE /api/members/…`, an invitation) locks
/// the whole roster `FOR UPDATE`, in user-id order; behind one stuck write (the scenario of
/// `pg_fair_share.rs`) it holds the rows it already locked and waits. Every further write of
/// those members then takes a connection and sits in the membership statement: one company
/// again takes the whole pool, and the other company is not served (until the statement
/// timeout). The control below is the same scenario without the promotion: served.
#[tokio::test]
async fn pg_writes_waiting_on_their_membership_row_stay_within_the_share() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    assert!(
        other_company_served_while_a_roster_change_waits(&app, true).await,
        "the other company was not served within 3 s: Alice's writes held the pool outside her share"
    );
}

/// Control of the finding above (passes): without the roster change, Alice's extra writes wait
/// for her share without a connection and the other company is served.
#[tokio::test]
async fn pg_control_without_a_roster_change_the_share_holds() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    assert!(other_company_served_while_a_roster_change_waits(&app, false).await);
}
