//! Database round trips per request on PostgreSQL (issue 15), counted by a TCP proxy between the
//! app and the server (`tests::proxy`): a read is one message (the membership statement and the
//! query together); a create four: `BEGIN`, the membership statement, the insert, `COMMIT` (no
//! ping before: the pool does not test a connection before handing it out). sqlx's pool adds one bare `Sync` when a connection comes back to it (after the
//! answer has gone out; no option turns it off), counted here too.
//!
//! And the one-trip reads answer as the transactions did where the membership is gone: a member
//! removed, a user deleted, a stranger naming the company (the read's own trip then finds no
//! membership, and no row comes back).

use std::time::Duration;

use serde_json::json;
use tests::{Auth, Backend, TestApp, proxy};

/// The app again, its pool of one connection reaching the database through a counting proxy.
/// One connection, so that the count holds no connection's start-up (a larger pool opens one
/// when a request finds none idle) and no first use of a prepared statement but the warm-up's
/// (sqlx prepares a statement once per connection, a round trip more).
async fn through_proxy(app: &TestApp) -> (TestApp, proxy::TcpProxy) {
    let (upstream, _) = proxy::reroute(&app.database_url, "127.0.0.1:1".parse().unwrap());
    let proxy = proxy::TcpProxy::start(upstream).await;
    let (_, url) = proxy::reroute(&app.database_url, proxy.addr);
    (app.connect_again_with_pool(&url, 1).await, proxy)
}

/// Round trips of `n` sequential requests made by `send` (`send(0..n)`, after `send(n)` once
/// unmeasured), the pool's returns settled.
async fn trips_per_request<F, Fut>(proxy: &proxy::TcpProxy, n: u64, mut send: F) -> f64
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Once unmeasured: the first message of a statement the connection has not prepared
    // prepares it (a list's statement follows its parameters).
    send(n).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = proxy.round_trips();
    for i in 0..n {
        send(i).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    (proxy.round_trips() - before) as f64 / n as f64
}

#[tokio::test]
async fn a_read_is_one_round_trip_and_a_create_four() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let (app, proxy) = through_proxy(&app).await;
    let created = app.post("/api/customers", &alice.auth(), json!({"name": "Wile", "email": "w@acme.test"})).await;
    created.assert_status(201);
    let item = format!("/api/customers/{}", created.id());
    // The first read of a caller checks the membership before it takes the company's connection
    // share (the slower path); every later one goes in one trip.
    app.get("/api/customers", &alice.auth()).await.assert_status(200);

    let list = trips_per_request(&proxy, 20, |_| async {
        app.get("/api/customers?search=wile&ordering=-name", &alice.auth()).await.assert_status(200);
    })
    .await;
    let retrieve = trips_per_request(&proxy, 20, |_| async {
        app.get(&item, &alice.auth()).await.assert_status(200);
    })
    .await;
    let missing = trips_per_request(&proxy, 20, |_| async {
        app.get(&format!("/api/customers/{}", uuid::Uuid::now_v7()), &alice.auth()).await.assert_status(404);
    })
    .await;
    let create = trips_per_request(&proxy, 20, |i| {
        let app = &app;
        let auth = alice.auth();
        async move {
            let body = json!({"name": format!("C{i}"), "email": format!("c{i}@acme.test")});
            app.post("/api/customers", &auth, body).await.assert_status(201);
        }
    })
    .await;
    if app.db.is_citus() {
        // On a Citus coordinator (README, "Scaling out with Citus"): no one-trip read, and a
        // `SET LOCAL` of the tenant after the membership, which Citus passes on to the worker.
        // BEGIN, the membership, SET LOCAL, the query, COMMIT, plus the pool's Sync; a create
        // also takes the member lock first.
        assert_eq!((list, retrieve, missing), (6.0, 6.0, 6.0), "on Citus: list, retrieve, missing");
        assert_eq!(create, 7.0, "on Citus: create");
        return;
    }
    // One round trip of statements, plus the pool's Sync on the connection's return.
    assert_eq!((list, retrieve, missing), (2.0, 2.0, 2.0), "list, retrieve, missing: round trips per request");
    // BEGIN, the membership, the INSERT, COMMIT, plus the pool's Sync.
    assert_eq!(create, 5.0, "create: round trips per request");
}

#[tokio::test]
async fn one_trip_reads_refuse_a_removed_member_a_deleted_user_and_a_stranger() {
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bob Co").await;
    let carol = app.signup("Carol Co").await;
    let mallory = app.signup("Mallory Co").await;
    app.add_member(&alice, &bob, "staff").await;
    app.add_member(&alice, &carol, "staff").await;
    let acme_customer =
        app.post("/api/customers", &alice.auth(), json!({"name": "Acme's", "email": "a@acme.test"})).await;
    let item = format!("/api/customers/{}", acme_customer.id());
    let bob_in_acme = bob.in_company(alice.company_id);
    let carol_in_acme = carol.in_company(alice.company_id);
    // Twice each: the second read goes in one trip (the company was verified by the first).
    for _ in 0..2 {
        assert_eq!(app.get("/api/customers", &bob_in_acme).await.assert_status(200).body["count"], json!(1));
        app.get(&item, &bob_in_acme).await.assert_status(200);
        app.get(&item, &carol_in_acme).await.assert_status(200);
    }

    app.delete(&format!("/api/members/{}", bob.id), &alice.auth()).await.assert_status(204);
    for path in ["/api/customers", item.as_str()] {
        let refused = app.get(path, &bob_in_acme).await;
        refused.assert_status(403);
        assert!(!refused.text.contains("Acme's"), "{path}: {}", refused.text);
    }
    // Bob's own company still answers, with its own rows only.
    assert_eq!(app.get("/api/customers", &bob.auth()).await.assert_status(200).body["count"], json!(0));

    app.delete_user(carol.id).await;
    for path in ["/api/customers", item.as_str()] {
        app.get(path, &carol_in_acme).await.assert_status(401);
    }

    let stranger = mallory.in_company(alice.company_id);
    for _ in 0..3 {
        for path in ["/api/customers", item.as_str()] {
            let refused = app.get(path, &stranger).await;
            refused.assert_status(403);
            assert!(!refused.text.contains("Acme's"));
        }
    }
    // A company that does not exist, and no token at all.
    app.get("/api/customers", &mallory.in_company(uuid::Uuid::now_v7())).await.assert_status(403);
    app.get("/api/customers", &Auth::None).await.assert_status(401);
}

#[tokio::test]
async fn failed_writes_give_their_connection_back_rolled_back() {
    // One pooled connection: every request after a failed write runs on the connection that
    // write left. Had it gone back inside its transaction (aborted, or holding Alice's tenant),
    // Bob's requests would fail or be written into Alice's transaction and lost.
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bob Co").await;
    let app = app.connect_again_with_pool(&app.database_url, 1).await;
    let body = json!({"name": "Wile", "email": "w@acme.test"});
    app.post("/api/customers", &alice.auth(), body.clone()).await.assert_status(201);
    for round in 0..3 {
        // 409 from the insert; 404 from an update that found nothing; 400 from
        // a reference to nothing, after the membership statement opened the transaction.
        app.post("/api/customers", &alice.auth(), body.clone()).await.assert_status(409);
        app.patch(&format!("/api/customers/{}", uuid::Uuid::now_v7()), &alice.auth(), json!({"name": "x"}))
            .await
            .assert_status(404);
        let invoice = json!({"customer_id": uuid::Uuid::now_v7(), "number": format!("N{round}"), "amount_cents": 1});
        app.post("/api/invoices", &alice.auth(), invoice).await.assert_status(400);
        let mine = json!({"name": format!("Bob's {round}"), "email": format!("b{round}@bob.test")});
        app.post("/api/customers", &bob.auth(), mine).await.assert_status(201);
        let list = app.get("/api/customers", &bob.auth()).await;
        assert_eq!(list.assert_status(200).body["count"], json!(round + 1), "Bob's creates are all committed");
    }
    assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
}

#[tokio::test]
async fn lists_past_the_prepared_statements_cap_are_written_out_and_still_scoped() {
    // A list's statement follows its parameters; a process prepares at most 256 of them
    // (`db/prepared.rs`) and sends the others written out in full. 624 shapes here: every answer
    // must be Alice's two invoices, never one of Bob's, on either side of the cap.
    let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bob Co").await;
    for (user, prefix) in [(&alice, "INV"), (&bob, "BOB")] {
        let customer = app.post("/api/customers", &user.auth(), json!({"name": "C", "email": "c@x.test"})).await;
        for n in 1..=2 {
            let body = json!({"customer_id": customer.id(), "number": format!("{prefix}-{n}"), "amount_cents": n});
            app.post("/api/invoices", &user.auth(), body).await.assert_status(201);
        }
    }
    let fields = ["number", "amount_cents", "issued_on"];
    let mut orderings = Vec::new();
    for a in fields {
        for sa in ["", "-"] {
            orderings.push(format!("{sa}{a}"));
            for b in fields.iter().filter(|b| **b != a) {
                for sb in ["", "-"] {
                    orderings.push(format!("{sa}{a},{sb}{b}"));
                    for c in fields.iter().filter(|c| **c != a && *c != b) {
                        for sc in ["", "-"] {
                            orderings.push(format!("{sa}{a},{sb}{b},{sc}{c}"));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(orderings.len(), 78);
    let statuses = ["", "&status__in=draft", "&status__in=draft,sent", "&status__in=draft,sent,paid"];
    let mut shapes = 0;
    for ordering in &orderings {
        for status in statuses {
            for search in ["", "&search=INV"] {
                let path = format!("/api/invoices?ordering={ordering}{status}{search}");
                let page = app.get(&path, &alice.auth()).await;
                page.assert_status(200);
                assert_eq!(page.body["count"], json!(2), "{path}: {}", page.text);
                assert!(!page.text.contains("BOB-"), "{path}: {}", page.text);
                shapes += 1;
            }
        }
    }
    assert_eq!(shapes, 624);
    // And Bob, past the cap too, sees his own.
    let page = app.get("/api/invoices?ordering=-issued_on,number&status__in=draft,sent,paid", &bob.auth()).await;
    assert_eq!(page.body["count"], json!(2));
    assert!(!page.text.contains("INV-"), "{}", page.text);
}
