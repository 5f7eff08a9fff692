//! The active company: it follows `X-Company-Id` (sent once) and membership, checked on every
//! request, so a removed member loses access at once, even mid-upload; roles decide deletes.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;
use uuid::Uuid;

const NOT_FOUND: &str = r#"{"detail": "Not found."}"#;

fn not_found() -> Value {
    serde_json::from_str(NOT_FOUND).unwrap()
}

/// `method path` with `Authorization: Bearer <token>`, each of `companies` as one `X-Company-Id`
/// header (in order), and `body` as JSON.
async fn with_company_headers(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    companies: &[String],
    body: Option<Value>,
) -> Resp {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("authorization", bearer.as_str())];
    headers.extend(companies.iter().map(|c| ("x-company-id", c.as_str())));
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    app.send(method, path, &headers, body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

both_backends! {
    async fn same_user_in_two_companies_sees_each_separately(app: TestApp) {
        let alice = app.signup("Acme").await;
        let carol = app.signup("Carol Ltd").await; // Carol's default company is her own.
        app.add_member(&alice, &carol, "staff").await;
        let acme = alice.company_id;
        let carols = carol.company_id;

        let in_acme = app.create("/api/customers", &carol.in_company(acme), customer_body("in-acme")).await;
        assert_eq!(in_acme["company_id"], json!(acme.to_string()), "created in the X-Company-Id company");
        let in_own = app.create("/api/customers", &carol.auth(), customer_body("in-own")).await;
        assert_eq!(in_own["company_id"], json!(carols.to_string()), "without the header: the default company");
        let in_own_explicit = app.create("/api/customers", &carol.in_company(carols), customer_body("in-own-2")).await;
        assert_eq!(in_own_explicit["company_id"], json!(carols.to_string()));

        let acme_list = app.get("/api/customers", &carol.in_company(acme)).await;
        acme_list.assert_status(200);
        assert_eq!(acme_list.body["count"], json!(1));
        assert_eq!(acme_list.body["results"][0]["id"], in_acme["id"]);
        let own_list = app.get("/api/customers", &carol.auth()).await;
        assert_eq!(own_list.body["count"], json!(2));
        // Alice sees Carol's row in Acme, not the ones in Carol's company.
        let alice_list = app.get("/api/customers", &alice.auth()).await;
        assert_eq!(alice_list.body["count"], json!(1));

        // With Acme active, Carol's own company's row is 404, even for Carol, on every verb.
        let own_path = format!("/api/customers/{}", id_of(&in_own));
        let acme_auth = carol.in_company(acme);
        for r in [
            app.get(&own_path, &acme_auth).await,
            app.patch(&own_path, &acme_auth, json!({"name": "x"})).await,
            app.put(&own_path, &acme_auth, customer_body("p")).await,
        ] {
            r.assert_status(404);
            assert_eq!(r.body, not_found());
        }
        // Carol is staff in Acme, and deleting customers is admin-only: the role check may answer
        // first (as Django REST Framework does), but then exactly as for a missing id.
        let on_row = app.delete(&own_path, &acme_auth).await;
        let on_missing = app.delete(&format!("/api/customers/{}", uuid::Uuid::now_v7()), &acme_auth).await;
        assert!(on_row.status == 403 || on_row.status == 404, "{}", on_row.text);
        assert_eq!((on_row.status, &on_row.text), (on_missing.status, &on_missing.text));
        app.get(&own_path, &carol.auth()).await.assert_status(200);
        // And the other way round.
        let acme_path = format!("/api/customers/{}", id_of(&in_acme));
        app.get(&acme_path, &carol.auth()).await.assert_status(404);
        app.get(&acme_path, &carol.in_company(acme)).await.assert_status(200);

        // The header is a UUID in any of its usual spellings (here upper case).
        let upper = carol.in_company_raw(&acme.to_string().to_uppercase());
        let r = app.get("/api/customers", &upper).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], json!(1));

        // Authentication is checked before the company: no token is a 401 whatever the header.
        let r = app.get("/api/customers", &Auth::bearer_company("", acme)).await;
        r.assert_status(401);
        let r = app.send("GET", "/api/customers", &[("x-company-id", &acme.to_string())], None).await;
        r.assert_status(401);

        // Uniqueness is per company: the same email in both of Carol's companies.
        let mut dup = customer_body("twin");
        app.create("/api/customers", &carol.in_company(acme), dup.clone()).await;
        app.create("/api/customers", &carol.auth(), dup.clone()).await;
        dup["name"] = json!("Twin again");
        let r = app.post("/api/customers", &carol.in_company(acme), dup).await;
        r.assert_status(409);
        r.assert_field_error("email");

        // An invoice in Acme cannot use Carol's own company's customer, even though Carol can see both.
        let r = app.post("/api/invoices", &carol.in_company(acme), invoice_body(&id_of(&in_own), "x")).await;
        r.assert_status(400);
        r.assert_field_error("customer_id");
        app.create("/api/invoices", &carol.in_company(acme), invoice_body(&id_of(&in_acme), "x")).await;
    }

    async fn company_header_of_a_non_member_is_403(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let obj = customer(&app, &alice.auth()).await;
        let path = format!("/api/customers/{}", id_of(&obj));
        for auth in [
            bob.in_company(alice.company_id),      // a company Bob is not a member of
            bob.in_company(Uuid::now_v7()),        // a company that does not exist
        ] {
            for r in [
                app.get("/api/customers", &auth).await,
                app.post("/api/customers", &auth, customer_body("intruder")).await,
                app.get(&path, &auth).await,
                app.put(&path, &auth, customer_body("intruder2")).await,
                app.patch(&path, &auth, json!({"name": "pwned"})).await,
                app.delete(&path, &auth).await,
            ] {
                assert_eq!(r.status, 403, "{auth:?}: {}", r.text);
                r.assert_detail();
            }
        }
        // Not a UUID: 403 as well, on every verb.
        let raws = [
            "not-a-uuid".to_string(),
            String::new(),
            "1".to_string(),
            "'; DROP TABLE companies; --".to_string(),
            format!("{}x", alice.company_id),
        ];
        for raw in &raws {
            let auth = bob.in_company_raw(raw);
            for r in [
                app.get("/api/customers", &auth).await,
                app.post("/api/customers", &auth, customer_body("intruder3")).await,
                app.get(&path, &auth).await,
                app.delete(&path, &auth).await,
            ] {
                assert_eq!(r.status, 403, "X-Company-Id {raw:?}: {}", r.text);
                r.assert_detail();
            }
        }
        // Alice's company is untouched and Bob's own company got nothing.
        assert_eq!(app.get(&path, &alice.auth()).await.body, obj);
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
        assert_eq!(app.get("/api/customers", &bob.auth()).await.body["count"], json!(0));
    }

    async fn a_repeated_company_header_is_403_whatever_the_values(app: TestApp) {
        let alice = app.signup("Acme").await;
        let carol = app.signup("Carol Ltd").await;
        app.add_member(&alice, &carol, "admin").await;
        let bob = app.signup("Bobco").await;
        let (acme, own, foreign) =
            (alice.company_id.to_string(), carol.company_id.to_string(), bob.company_id.to_string());
        let in_acme = customer(&app, &carol.in_company(alice.company_id)).await;
        let in_own = customer(&app, &carol.auth()).await;
        let member = format!("/api/members/{}", alice.id);
        // Two of Carol's companies either way round, one of them and a stranger's either way
        // round, the same value twice, and a well-formed value next to a malformed one.
        let pairs = [
            [acme.clone(), own.clone()],
            [own.clone(), acme.clone()],
            [acme.clone(), foreign.clone()],
            [foreign.clone(), acme.clone()],
            [acme.clone(), acme.clone()],
            [acme.clone(), "not-a-uuid".to_string()],
            [String::new(), acme.clone()],
        ];
        for pair in &pairs {
            for obj in [&in_acme, &in_own] {
                let path = format!("/api/customers/{}", id_of(obj));
                for (method, path, body) in [
                    ("GET", "/api/customers", None),
                    ("POST", "/api/customers", Some(customer_body(&tag()))),
                    ("GET", path.as_str(), None),
                    ("PUT", path.as_str(), Some(customer_body(&tag()))),
                    ("PATCH", path.as_str(), Some(json!({"name": "pwned"}))),
                    ("DELETE", path.as_str(), None),
                    ("GET", "/api/members", None),
                    ("POST", "/api/members", Some(json!({"email": bob.email, "role": "staff"}))),
                    ("PATCH", member.as_str(), Some(json!({"role": "staff"}))),
                    ("DELETE", member.as_str(), None),
                ] {
                    let r = with_company_headers(&app, method, path, &carol.access, pair, body).await;
                    assert_eq!(r.status, 403, "{method} {path} with X-Company-Id {pair:?}: {}", r.text);
                    assert_eq!(
                        r.body,
                        json!({"detail": "X-Company-Id was sent more than once: send it once."}),
                        "{method} {path} with X-Company-Id {pair:?}"
                    );
                }
            }
        }
        // Nothing was written anywhere, and one header still works.
        for (company, obj) in [(alice.company_id, &in_acme), (carol.company_id, &in_own)] {
            let r = app.get("/api/customers", &carol.in_company(company)).await;
            r.assert_status(200);
            assert_eq!(r.body["count"], json!(1));
            assert_eq!(&r.body["results"][0], obj);
        }
        assert_eq!(app.get("/api/customers", &bob.auth()).await.body["count"], json!(0));
        let r = app.get("/api/members", &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body.as_array().unwrap().len(), 2);
        assert!(r.body.as_array().unwrap().iter().all(|m| m["role"] == json!("admin")), "{}", r.text);
    }

    async fn removed_member_loses_access_at_once(app: TestApp) {
        let alice = app.signup("Acme").await;
        let dave = app.signup("Dave Inc").await;
        app.add_member(&alice, &dave, "staff").await;
        let acme = dave.in_company(alice.company_id);
        let obj = customer(&app, &alice.auth()).await;
        let path = format!("/api/customers/{}", id_of(&obj));
        app.get("/api/customers", &acme).await.assert_status(200);
        app.get(&path, &acme).await.assert_status(200);
        let mine = app.create("/api/products", &acme, product_body("dave")).await;

        let r = app.delete(&format!("/api/members/{}", dave.id), &alice.auth()).await;
        r.assert_status(204);

        // Same, still unexpired token: every verb is now refused.
        let ppath = format!("/api/products/{}", id_of(&mine));
        for r in [
            app.get("/api/customers", &acme).await,
            app.post("/api/customers", &acme, customer_body("after")).await,
            app.get(&path, &acme).await,
            app.put(&path, &acme, customer_body("after2")).await,
            app.patch(&path, &acme, json!({"name": "after"})).await,
            app.patch(&ppath, &acme, json!({"name": "after"})).await,
            app.delete(&ppath, &acme).await,
        ] {
            assert_eq!(r.status, 403, "removed member: {}", r.text);
            r.assert_detail();
        }
        // Dave's own company still works; Acme's rows are unchanged.
        app.get("/api/customers", &dave.auth()).await.assert_status(200);
        assert_eq!(app.get(&path, &alice.auth()).await.body, obj);
        assert_eq!(app.get(&ppath, &alice.auth()).await.body, mine);
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
    }

    async fn a_removed_member_falls_back_to_their_oldest_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let erin = app.signup("Erin Co").await;
        app.add_member(&alice, &erin, "staff").await;
        let r = app.patch("/api/me", &erin.auth(), json!({"default_company_id": alice.company_id.to_string()})).await;
        r.assert_status(200);
        customer(&app, &alice.auth()).await;
        let r = app.get("/api/customers", &erin.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], json!(1), "the default company is now Acme");
        app.delete(&format!("/api/members/{}", erin.id), &alice.auth()).await.assert_status(204);
        // API.md: the default falls back to the oldest company Erin still belongs to, her own;
        // nothing of Acme is visible, and her writes land in Erin Co.
        let r = app.get("/api/customers", &erin.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], json!(0), "{}", r.text);
        let r = app.post("/api/customers", &erin.auth(), customer_body("ghost")).await;
        r.assert_status(201);
        assert_eq!(r.body["company_id"], json!(erin.company_id.to_string()));
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
        app.get("/api/customers", &erin.in_company(alice.company_id)).await.assert_status(403);
    }

    async fn staff_cannot_delete_customers_admin_can(app: TestApp) {
        let alice = app.signup("Acme").await;
        let sam = app.signup("Sam's").await;
        app.add_member(&alice, &sam, "staff").await;
        let staff = sam.in_company(alice.company_id);

        // Staff may list, create, read, replace and patch.
        let c = app.create("/api/customers", &staff, customer_body("by-staff")).await;
        let path = format!("/api/customers/{}", id_of(&c));
        app.get("/api/customers", &staff).await.assert_status(200);
        app.get(&path, &staff).await.assert_status(200);
        let put = put_body(&app, &staff, "customers").await;
        app.put(&path, &staff, put).await.assert_status(200);
        let patched = app.patch(&path, &staff, json!({"notes": "staff was here"})).await;
        patched.assert_status(200);

        // But not delete a customer.
        let r = app.delete(&path, &staff).await;
        r.assert_status(403);
        r.assert_detail();
        assert_eq!(app.get(&path, &alice.auth()).await.body, patched.body, "still there, unchanged");

        // Whatever the order of the role and existence checks, a foreign row is never deletable.
        let bob = app.signup("Bobco").await;
        let bobs = customer(&app, &bob.auth()).await;
        let r = app.delete(&format!("/api/customers/{}", id_of(&bobs)), &staff).await;
        assert!(r.status == 403 || r.status == 404, "{}", r.text);
        app.get(&format!("/api/customers/{}", id_of(&bobs)), &bob.auth()).await.assert_status(200);

        // Promoted to admin: the very next request may delete (role read per request).
        let r = app.patch(&format!("/api/members/{}", sam.id), &alice.auth(), json!({"role": "admin"})).await;
        r.assert_status(200);
        app.delete(&path, &staff).await.assert_status(204);
        app.get(&path, &alice.auth()).await.assert_status(404);

        // Demoted again: refused again.
        let c2 = customer(&app, &alice.auth()).await;
        let r = app.patch(&format!("/api/members/{}", sam.id), &alice.auth(), json!({"role": "staff"})).await;
        r.assert_status(200);
        app.delete(&format!("/api/customers/{}", id_of(&c2)), &staff).await.assert_status(403);
    }

    async fn a_member_removed_while_sending_a_body_cannot_write(app: TestApp) {
        // Authorisation follows the last byte of the body (issue 17): the membership check and
        // the transaction start once the body is in, so a removal that happened meanwhile is seen.
        use axum::body::{Body, Bytes};
        use tower::ServiceExt;
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&alice, &bob, "staff").await;
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
        let request = axum::http::Request::post("/api/customers")
            .header("authorization", format!("Bearer {}", bob.access))
            .header("x-company-id", alice.company_id.to_string())
            .header("content-type", "application/json")
            .body(Body::from_stream(rx))
            .unwrap();
        tx.unbounded_send(Ok(Bytes::from_static(br#"{"name": "Slow", "#))).unwrap();
        let pending = tokio::spawn(app.router.clone().oneshot(request));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Meanwhile Alice removes Bob; it does not wait for his upload.
        let removal = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            app.delete(&format!("/api/members/{}", bob.id), &alice.auth()),
        )
        .await
        .expect("the removal is not held up by a request still sending its body");
        removal.assert_status(204);
        tx.unbounded_send(Ok(Bytes::from_static(br#""email": "slow@example.com"}"#))).unwrap();
        drop(tx);
        let response = pending.await.unwrap().unwrap();
        assert_eq!(response.status(), 403, "Bob is no longer a member when his body is complete");
        let list = app.get("/api/customers", &alice.auth()).await;
        assert_eq!(list.body["count"], json!(0), "nothing was written: {}", list.text);
    }
}
