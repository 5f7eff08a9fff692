//! `/api/members` (API.md, "Companies and members"): listing, invitations as the way in, roles,
//! removal and leaving, and the last-admin rule under concurrency.

use serde_json::{Value, json};
use tests::checks::*;
use tests::*;
use uuid::Uuid;

both_backends! {
    async fn members_are_listed_to_any_member_of_the_active_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &bob, "staff").await;

        let expected = json!([
            {"user_id": alice.id, "email": alice.email, "role": "admin"},
            {"user_id": bob.id, "email": bob.email, "role": "staff"},
        ]);
        let r = app.get("/api/members", &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body, expected);
        let r = app.get("/api/members", &bob.in_company(alice.company_id)).await;
        r.assert_status(200);
        assert_eq!(r.body, expected, "staff may list members too");
        // Bob's default company is still his own.
        assert_eq!(roles(&app, &bob.auth()).await, vec![(bob.id, "admin".to_string())]);

        assert_403(&app.get("/api/members", &carol.in_company(alice.company_id)).await);
        assert_403(&app.get("/api/members", &carol.in_company_raw("nope")).await);
        assert_401(&app.get("/api/members", &Auth::None).await);
    }

    async fn admins_invite_and_invitees_accept(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;

        let r = app.post("/api/members", &alice.auth(), json!({"email": bob.email.to_uppercase(), "role": "staff"})).await;
        r.assert_status(201);
        assert_keys(&r.body, &["id", "email", "role", "status", "expires_at"]);
        assert_eq!(r.body["email"], json!(bob.email));
        assert_eq!(r.body["role"], "staff");
        assert_eq!(r.body["status"], "pending");
        assert_rfc3339_utc(&r.body["expires_at"]);
        let invitation = r.id();
        // Not a member until Bob accepts.
        assert_403(&app.get("/api/members", &bob.in_company(alice.company_id)).await);
        let r = app.post(&format!("/api/invitations/{invitation}/accept"), &bob.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"company_id": alice.company_id, "role": "staff"}));
        // Bob can act in Acme at once; his default company does not move.
        app.get("/api/members", &bob.in_company(alice.company_id)).await.assert_status(200);
        assert_eq!(me(&app, &bob.auth()).await["default_company_id"], json!(bob.company_id));
        // The invitation is used up.
        assert_404(&app.post(&format!("/api/invitations/{invitation}/accept"), &bob.auth(), json!({})).await);

        // Staff may not invite.
        assert_403(&app.post("/api/members", &bob.in_company(alice.company_id), json!({"email": carol.email, "role": "staff"})).await);
        // Already a member: 409 on the email.
        let r = app.post("/api/members", &alice.auth(), json!({"email": bob.email, "role": "admin"})).await;
        r.assert_status(409);
        r.assert_field_error("email");
        let r = app.post("/api/members", &alice.auth(), json!({"email": alice.email, "role": "staff"})).await;
        r.assert_status(409);
        // Validation.
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({})).await,
            json!({"email": ["This field is required."], "role": ["This field is required."]}),
        );
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({"email": "nope", "role": "owner"})).await,
            json!({"email": ["Enter a valid email address."], "role": ["\"owner\" is not a valid choice."]}),
        );
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({"email": carol.email, "role": "Admin"})).await,
            json!({"role": ["\"Admin\" is not a valid choice."]}),
        );

        app.add_member(&alice, &carol, "admin").await;
        assert_eq!(
            roles(&app, &alice.auth()).await,
            vec![(alice.id, "admin".into()), (bob.id, "staff".into()), (carol.id, "admin".into())]
        );
    }

    async fn admins_change_roles(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        let dave = app.signup("Dave Co").await;
        app.add_member(&alice, &bob, "staff").await;
        app.add_member(&alice, &carol, "staff").await;

        // Staff may not change roles, not even their own.
        assert_403(&app.patch(&member_path(&carol), &bob.in_company(alice.company_id), json!({"role": "admin"})).await);
        assert_403(&app.patch(&member_path(&bob), &bob.in_company(alice.company_id), json!({"role": "admin"})).await);

        let r = app.patch(&member_path(&bob), &alice.auth(), json!({"role": "admin", "email": "ignored@example.com"})).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"user_id": bob.id, "email": bob.email, "role": "admin"}));
        // Bob is an admin of Acme at once.
        let r = app.patch(&format!("{}/", member_path(&carol)), &bob.in_company(alice.company_id), json!({"role": "admin"})).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], "admin");

        // No role: nothing changes.
        let r = app.patch(&member_path(&carol), &alice.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], "admin");
        assert_errors(
            &app.patch(&member_path(&carol), &alice.auth(), json!({"role": "boss"})).await,
            json!({"role": ["\"boss\" is not a valid choice."]}),
        );
        assert_errors(
            &app.patch(&member_path(&carol), &alice.auth(), json!({"role": null})).await,
            json!({"role": ["This field may not be null."]}),
        );

        // Not a member of the active company (though a member elsewhere), unknown, not a UUID: 404.
        assert_404(&app.patch(&member_path(&dave), &alice.auth(), json!({"role": "staff"})).await);
        assert_404(&app.patch(&format!("/api/members/{}", Uuid::now_v7()), &alice.auth(), json!({"role": "staff"})).await);
        assert_404(&app.patch("/api/members/not-a-uuid", &alice.auth(), json!({"role": "staff"})).await);
        // A member of another company is reached only from that company.
        assert_404(&app.patch(&member_path(&alice), &dave.auth(), json!({"role": "staff"})).await);
        assert_eq!(roles(&app, &alice.auth()).await.iter().filter(|(_, r)| r == "admin").count(), 3);
    }

    async fn admins_remove_members_who_lose_access_at_once(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &bob, "staff").await;
        app.add_member(&alice, &carol, "staff").await;
        app.patch("/api/me", &bob.auth(), json!({"default_company_id": alice.company_id})).await.assert_status(200);
        app.get("/api/members", &bob.auth()).await.assert_status(200);

        assert_403(&app.delete(&member_path(&carol), &bob.auth()).await);

        let r = app.delete(&member_path(&bob), &alice.auth()).await;
        r.assert_status(204);
        assert!(r.text.is_empty(), "204 has no body: {}", r.text);

        // Bob's unexpired token no longer opens Acme, and his default no longer points at it: it
        // fell back to the oldest company he still belongs to (API.md), his own.
        assert_403(&app.get("/api/members", &bob.in_company(alice.company_id)).await);
        let body = me(&app, &bob.auth()).await;
        assert_eq!(body["default_company_id"], json!(bob.company_id));
        assert_eq!(body["active_company_id"], json!(bob.company_id));
        assert_eq!(body["memberships"], json!([{"company_id": bob.company_id, "company_name": "Bob Co", "role": "admin"}]));
        app.get("/api/members", &bob.in_company(bob.company_id)).await.assert_status(200);

        // Gone already, never there, not a UUID: 404.
        assert_404(&app.delete(&member_path(&bob), &alice.auth()).await);
        assert_404(&app.delete(&format!("/api/members/{}", Uuid::now_v7()), &alice.auth()).await);
        assert_404(&app.delete("/api/members/42", &alice.auth()).await);
        // Carol, removed, keeps her own default company.
        app.delete(&format!("{}/", member_path(&carol)), &alice.auth()).await.assert_status(204);
        assert_eq!(me(&app, &carol.auth()).await["default_company_id"], json!(carol.company_id));
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
    }

    async fn the_last_admin_can_be_neither_removed_nor_demoted(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;

        let r = app.delete(&member_path(&alice), &alice.auth()).await;
        r.assert_status(409);
        r.assert_detail();
        let r = app.patch(&member_path(&alice), &alice.auth(), json!({"role": "staff"})).await;
        r.assert_status(409);
        r.assert_detail();
        // Re-asserting the role is not a demotion.
        app.patch(&member_path(&alice), &alice.auth(), json!({"role": "admin"})).await.assert_status(200);

        // With a second admin, the first may step down; then the second is the last one.
        app.add_member(&alice, &bob, "admin").await;
        let bob_in_acme = bob.in_company(alice.company_id);
        app.patch(&member_path(&alice), &alice.auth(), json!({"role": "staff"})).await.assert_status(200);
        assert_403(&app.delete(&member_path(&bob), &alice.auth()).await);
        let r = app.patch(&member_path(&bob), &bob_in_acme, json!({"role": "staff"})).await;
        r.assert_status(409);
        let r = app.delete(&member_path(&bob), &bob_in_acme).await;
        r.assert_status(409);
        // Staff can always be removed, and an admin may remove another admin.
        app.patch(&member_path(&alice), &bob_in_acme, json!({"role": "admin"})).await.assert_status(200);
        app.delete(&member_path(&bob), &alice.auth()).await.assert_status(204);
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
    }

    async fn admins_demoting_or_removing_each_other_at_once_leave_an_admin(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let acme = alice.company_id;
        app.add_member(&alice, &bob, "admin").await;
        let (as_alice, as_bob) = (alice.in_company(acme), bob.in_company(acme));

        for round in 0..3 {
            let (a, b) = tokio::join!(
                app.patch(&member_path(&bob), &as_alice, json!({"role": "staff"})),
                app.patch(&member_path(&alice), &as_bob, json!({"role": "staff"})),
            );
            let ok = [&a, &b].iter().filter(|r| r.status == 200).count();
            assert_eq!(ok, 1, "round {round}: exactly one demotion wins: {} / {}", a.text, b.text);
            for r in [&a, &b] {
                assert!([200, 403, 409].contains(&r.status), "round {round}: {} {}", r.status, r.text);
            }
            let admins: Vec<Uuid> = roles(&app, &as_alice).await.into_iter().filter(|(_, r)| r == "admin").map(|(id, _)| id).collect();
            assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
            // Promote the demoted one back for the next round.
            let (winner, loser) = if admins[0] == alice.id { (&as_alice, &bob) } else { (&as_bob, &alice) };
            app.patch(&member_path(loser), winner, json!({"role": "admin"})).await.assert_status(200);
        }

        let (a, b) = tokio::join!(app.delete(&member_path(&bob), &as_alice), app.delete(&member_path(&alice), &as_bob));
        let ok = [&a, &b].iter().filter(|r| r.status == 204).count();
        assert_eq!(ok, 1, "exactly one removal wins: {} {} / {} {}", a.status, a.text, b.status, b.text);
        let survivor = if a.status == 204 { &as_alice } else { &as_bob };
        let left = roles(&app, survivor).await;
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].1, "admin");
    }

    async fn account_routes_answer_json_for_wrong_methods(app: TestApp) {
        let alice = app.signup("Acme").await;
        for (method, path) in [
            ("DELETE", "/api/companies"),
            ("PUT", "/api/me"),
            ("GET", "/api/auth/token"),
            ("GET", "/api/auth/signup"),
            ("GET", "/api/auth/token/refresh"),
            ("DELETE", "/api/members"),
            ("GET", &*member_path(&alice)),
        ] {
            let r = app.request(method, path, &alice.auth(), None).await;
            r.assert_status(405);
            r.assert_detail();
        }
        // A trailing slash is accepted.
        app.get("/api/me/", &alice.auth()).await.assert_status(200);
        app.get("/api/companies/", &alice.auth()).await.assert_status(200);
        let t = app.post("/api/auth/token/", &Auth::None, json!({"email": alice.email, "password": PASSWORD})).await;
        t.assert_status(200);
        let r = app.post("/api/auth/token/refresh/", &Auth::None, json!({"refresh": alice.refresh})).await;
        r.assert_status(200);
        app.get("/api/members/", &alice.auth()).await.assert_status(200);
        let path = format!("{}/", member_path(&alice));
        app.patch(&path, &alice.auth(), json!({"role": "admin"})).await.assert_status(200);
        app.request("GET", &path, &alice.auth(), None).await.assert_status(405);
        app.get("/healthz/", &Auth::None).await.assert_status(200);
        let body = json!({"email": "slash@example.com", "password": PASSWORD, "company_name": "Slash"});
        app.post("/api/auth/signup/", &Auth::None, body).await.assert_status(201);
        // One trailing slash, as Django's APPEND_SLASH URLs: two are not the same path.
        app.get("/api/me//", &alice.auth()).await.assert_status(404);
    }

    async fn any_member_may_leave_but_not_the_last_admin(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&alice, &bob, "staff").await;
        let in_acme = bob.in_company(alice.company_id);
        // Staff leave on their own; they lose access at once.
        app.delete(&format!("/api/members/{}", bob.id), &in_acme).await.assert_status(204);
        app.get("/api/customers", &in_acme).await.assert_status(403);
        // Staff still cannot remove anyone else.
        app.add_member(&alice, &bob, "staff").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &carol, "staff").await;
        app.delete(&format!("/api/members/{}", carol.id), &in_acme).await.assert_status(403);
        // The last admin cannot leave; with a second admin they can.
        let r = app.delete(&format!("/api/members/{}", alice.id), &alice.auth()).await;
        r.assert_status(409);
        app.patch(&format!("/api/members/{}", carol.id), &alice.auth(), json!({"role": "admin"})).await.assert_status(200);
        app.delete(&format!("/api/members/{}", alice.id), &alice.auth()).await.assert_status(204);
        // Alice's default fell back to none (Acme was her only company).
        let me = app.get("/api/me", &alice.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
    }
}
