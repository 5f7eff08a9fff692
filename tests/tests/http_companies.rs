//! `/api/me` and `/api/companies` (API.md): the active company, the default company and its
//! rules, creating companies and their quota.

use serde_json::{Value, json};
use tests::checks::*;
use tests::*;
use uuid::Uuid;

both_backends! {
    async fn me_refuses_a_repeated_company_header(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await.to_string();
        let acme = alice.company_id.to_string();
        let foreign = app.signup("Bob Co").await.company_id.to_string();
        let authorization = [bearer(&alice)];
        for pair in [
            [acme.clone(), beta.clone()],
            [beta.clone(), acme.clone()],
            [acme.clone(), foreign.clone()],
            [foreign.clone(), acme.clone()],
            [beta.clone(), beta.clone()],
            [acme.clone(), "not-a-uuid".to_string()],
        ] {
            for (method, body) in [("GET", None), ("PATCH", Some(json!({"default_company_id": beta})))] {
                let r = send_with(&app, method, "/api/me", &authorization, &pair, body).await;
                assert_403(&r);
                assert_eq!(
                    r.body,
                    json!({"detail": "X-Company-Id was sent more than once: send it once."}),
                    "{method} /api/me with X-Company-Id {pair:?}"
                );
            }
        }
        // The refused PATCHes changed nothing.
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(alice.company_id));
    }

    async fn me_reflects_the_active_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&bob, &alice, "staff").await;

        let body = me(&app, &alice.auth()).await;
        assert_keys(&body, &["id", "email", "email_verified", "default_company_id", "active_company_id", "memberships"]);
        assert_eq!(body["email_verified"], true, "the harness verifies every sign-up");
        assert_eq!(body["email"], json!(alice.email));
        assert_eq!(body["default_company_id"], json!(alice.company_id));
        assert_eq!(body["active_company_id"], json!(alice.company_id));
        assert_eq!(
            body["memberships"],
            json!([
                {"company_id": alice.company_id, "company_name": "Acme", "role": "admin"},
                {"company_id": beta, "company_name": "Beta", "role": "admin"},
                {"company_id": bob.company_id, "company_name": "Bob Co", "role": "staff"},
            ])
        );

        let body = me(&app, &alice.in_company(beta)).await;
        assert_eq!(body["active_company_id"], json!(beta));
        assert_eq!(body["default_company_id"], json!(alice.company_id), "the header does not change the default");
        assert_eq!(me(&app, &alice.in_company(bob.company_id)).await["active_company_id"], json!(bob.company_id));

        // Not a member, or not a UUID: 403.
        let carol = app.signup("Carol Co").await;
        assert_403(&app.get("/api/me", &alice.in_company(carol.company_id)).await);
        assert_403(&app.get("/api/me", &alice.in_company(Uuid::now_v7())).await);
        assert_403(&app.get("/api/me", &alice.in_company_raw("not-a-uuid")).await);
    }

    async fn me_patch_sets_the_default_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await;

        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": beta})).await;
        r.assert_status(200);
        assert_eq!(r.body["default_company_id"], json!(beta));
        assert_eq!(r.body["active_company_id"], json!(beta));
        assert_eq!(r.body["memberships"].as_array().unwrap().len(), 2);
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(beta));

        // Read-only fields are ignored.
        let r = app.patch("/api/me", &alice.auth(), json!({"email": "evil@example.com", "id": Uuid::now_v7()})).await;
        r.assert_status(200);
        assert_eq!(r.body["email"], json!(alice.email));
        assert_eq!(r.body["id"], json!(alice.id));

        // A company the caller is not a member of: 403, nothing changes.
        let bob = app.signup("Bob Co").await;
        for company in [bob.company_id, Uuid::now_v7()] {
            assert_403(&app.patch("/api/me", &alice.auth(), json!({"default_company_id": company})).await);
        }
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(beta));

        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": "nope"})).await;
        assert_errors(&r, json!({"default_company_id": ["Must be a valid UUID."]}));
        let r = app.send("PATCH", "/api/me", &[("authorization", bearer(&alice).as_str())], Some(b"x".to_vec())).await;
        r.assert_status(415);

        // null clears it: no active company without the header any more.
        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": null})).await;
        r.assert_status(200);
        assert_eq!(r.body["default_company_id"], Value::Null);
        assert_eq!(r.body["active_company_id"], Value::Null);
        assert_403(&app.get("/api/members", &alice.auth()).await);
        app.get("/api/members", &alice.in_company(beta)).await.assert_status(200);
    }

    async fn companies_lists_the_callers_companies_with_their_role(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/companies", &alice.auth(), json!({"name": "  Beta  ", "id": Uuid::now_v7()})).await;
        r.assert_status(201);
        assert_keys(&r.body, &["id", "name", "created_at", "role"]);
        assert_eq!(r.body["name"], "Beta");
        assert_eq!(r.body["role"], "admin");
        assert_eq!(r.id().get_version_num(), 7);
        assert_rfc3339_utc(&r.body["created_at"]);
        let beta = r.body.clone();

        let bob = app.signup("Bob Co").await;
        app.add_member(&bob, &alice, "staff").await;

        let list = app.get("/api/companies", &alice.auth()).await;
        list.assert_status(200);
        let list = list.body.as_array().unwrap().clone();
        assert_eq!(list.len(), 3, "{list:?}");
        assert_eq!(list[0]["id"], json!(alice.company_id));
        assert_eq!(list[0]["role"], "admin");
        assert_eq!(list[1], beta, "the created company, as answered at creation");
        assert_eq!(list[2]["id"], json!(bob.company_id));
        assert_eq!(list[2]["name"], "Bob Co");
        assert_eq!(list[2]["role"], "staff");

        // Bob sees only his own company; the caller became the only member of the new one.
        let bobs = app.get("/api/companies", &bob.auth()).await;
        assert_eq!(bobs.body.as_array().unwrap().len(), 1);
        assert_eq!(roles(&app, &alice.in_company(uuid_of(&beta["id"]))).await, vec![(alice.id, "admin".to_string())]);
        // Creating a company does not move an existing default.
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(alice.company_id));

        assert_401(&app.get("/api/companies", &Auth::None).await);
        assert_401(&app.post("/api/companies", &Auth::None, json!({"name": "X"})).await);
    }

    async fn companies_create_validates_the_name(app: TestApp) {
        let alice = app.signup("Acme").await;
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({})).await, json!({"name": ["This field is required."]}));
        assert_errors(
            &app.post("/api/companies", &alice.auth(), json!({"name": "n".repeat(201)})).await,
            json!({"name": ["Ensure this field has no more than 200 characters."]}),
        );
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({"name": ""})).await, json!({"name": ["This field may not be blank."]}));
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({"name": 5})).await, json!({"name": ["Not a valid string."]}));
        let r = app.send("POST", "/api/companies", &[("authorization", bearer(&alice).as_str())], Some(b"{}".to_vec())).await;
        r.assert_status(415);
        assert_eq!(app.get("/api/companies", &alice.auth()).await.body.as_array().unwrap().len(), 1);
    }

    async fn a_new_company_becomes_the_default_of_a_user_without_one(app: TestApp) {
        let alice = app.signup("Acme").await;
        app.patch("/api/me", &alice.auth(), json!({"default_company_id": null})).await.assert_status(200);
        let new = create_company(&app, &alice, "Fresh").await;
        let body = me(&app, &alice.auth()).await;
        assert_eq!(body["default_company_id"], json!(new));
        assert_eq!(body["active_company_id"], json!(new));
    }

    async fn nobodys_default_company_is_set_by_another_user(app: TestApp) {
        // API.md: an admin adding a user with no default company does not make it theirs, so the
        // user's next write without X-Company-Id cannot land in the admin's company.
        let alice = app.signup("Acme").await;
        let victim = app.signup("Victim Co").await;
        app.add_member(&alice, &victim, "staff").await;
        // The victim leaves their own company... they cannot: they are its last admin. They leave
        // Acme instead and come back, then check that Acme never became their default.
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(victim.company_id));
        // A user without a default: removed from it by... themselves is impossible as last admin,
        // so give Victim Co a second admin and let the victim leave it.
        let helper = app.signup("Helper").await;
        app.add_member(&victim, &helper, "admin").await;
        let r = app.delete(&format!("/api/members/{}", victim.id), &victim.auth()).await;
        r.assert_status(204);
        // Their default fell back to the oldest company they still belong to: Acme.
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(alice.company_id), "{}", me.text);
        // Now they leave Acme too: no company, no default.
        app.delete(&format!("/api/members/{}", victim.id), &victim.in_company(alice.company_id)).await.assert_status(204);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
        // Alice invites the victim again: until they accept, nothing of theirs changes.
        let invitation = app.post("/api/members", &alice.auth(), json!({"email": victim.email, "role": "staff"})).await;
        invitation.assert_status(201);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
        assert_eq!(me.body["memberships"], json!([]), "{}", me.text);
        let r = app.post("/api/customers", &victim.auth(), json!({"name": "Private", "email": "p@example.com"})).await;
        r.assert_status(403);
        let list = app.get("/api/customers", &alice.auth()).await;
        assert_eq!(list.body["count"], json!(0), "nothing landed in Acme: {}", list.text);
        // Accepting is the victim's own act: a user without a default company gets this one.
        app.post(&format!("/api/invitations/{}/accept", invitation.id()), &victim.auth(), json!({})).await.assert_status(200);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(alice.company_id), "{}", me.text);
    }

    async fn companies_per_user_are_limited(app: TestApp) {
        let capped = app.connect_again_with(|c| c.max_companies_per_user = 3).await;
        let alice = capped.signup("First").await;
        for name in ["Second", "Third"] {
            capped.post("/api/companies", &alice.auth(), json!({"name": name})).await.assert_status(201);
        }
        let r = capped.post("/api/companies", &alice.auth(), json!({"name": "Fourth"})).await;
        r.assert_status(409);
        r.assert_detail();
        let companies = capped.get("/api/companies", &alice.auth()).await;
        assert_eq!(companies.body.as_array().map(Vec::len), Some(3));
        // Simultaneous creations at the edge cannot pass it either.
        let bob = capped.signup("B1").await;
        let tries = (0..6).map(|i| capped.post("/api/companies", &bob.auth(), json!({"name": format!("B{i}")})));
        let created = futures::future::join_all(tries).await.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 2, "one user never belongs to more than the quota");
    }
}
