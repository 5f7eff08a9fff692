//! Joining a company by invitation, and e-mail verification (API.md, "Auth" and "Companies and
//! members"; issue 17, items 2 and 3): nobody becomes a member without consenting, an address
//! someone merely registered first gains nothing, and no answer tells an admin who is registered.

use std::time::Duration;

use serde_json::{Value, json};
use tests::*;
use uuid::Uuid;

fn invite_path(id: Uuid, action: &str) -> String {
    format!("/api/invitations/{id}/{action}")
}

async fn invite(app: &TestApp, admin: &Auth, email: &str, role: &str) -> Resp {
    app.post("/api/members", admin, json!({"email": email, "role": role})).await
}

async fn accept(app: &TestApp, user: &User, id: Uuid) -> Resp {
    app.post(&invite_path(id, "accept"), &user.auth(), json!({})).await
}

fn ids(list: &Resp) -> Vec<Uuid> {
    list.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", list.text))
        .iter()
        .map(|i| Uuid::parse_str(i["id"].as_str().expect("an id")).expect("a UUID"))
        .collect()
}

fn member_ids(list: &Resp) -> Vec<Uuid> {
    list.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", list.text))
        .iter()
        .map(|m| Uuid::parse_str(m["user_id"].as_str().expect("a user id")).expect("a UUID"))
        .collect()
}

#[track_caller]
fn assert_404(r: &Resp) {
    r.assert_status(404);
    assert_eq!(r.body, json!({"detail": "Not found."}));
}

/// The shape of an invitation as `POST /api/members` answers, without its values.
fn shape(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

both_backends! {
    async fn the_answer_is_the_same_for_registered_and_unknown_addresses(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let known = invite(&app, &alice.auth(), &bob.email, "staff").await;
        let unknown = invite(&app, &alice.auth(), "nobody-yet@example.com", "staff").await;
        known.assert_status(201);
        unknown.assert_status(201);
        assert_eq!(shape(&known.body), shape(&unknown.body));
        assert_eq!(shape(&known.body), ["email", "expires_at", "id", "role", "status"]);
        for r in [&known, &unknown] {
            assert_eq!(r.body["status"], "pending");
            assert!(r.body.get("user_id").is_none(), "no user id is revealed: {}", r.text);
        }
        // Both addresses got the invitation message, naming the company and the invitation.
        for (address, r) in [(bob.email.as_str(), &known), ("nobody-yet@example.com", &unknown)] {
            let mails = app.mails_to(address);
            let mail = mails.iter().find(|m| m.contains("Invitation: ")).unwrap_or_else(|| panic!("no invitation to {address}"));
            assert!(mail.lines().any(|l| l == format!("Invitation: {}", r.id())), "{mail}");
            assert!(mail.contains("Acme"), "{mail}");
        }
        // Bob is not a member until he accepts; the invitation changes nothing of his.
        let members = app.get("/api/members", &alice.auth()).await;
        assert_eq!(member_ids(&members), vec![alice.id]);
        let me = app.get("/api/me", &bob.auth()).await;
        assert_eq!(me.body["memberships"].as_array().unwrap().len(), 1, "{}", me.text);

        // The unknown address signs up, verifies, and finds the invitation waiting.
        let newcomer = app.signup_as("Nobody-Yet@Example.com", "Newcomer Co").await;
        app.verify_email(&newcomer.email).await;
        let mine = app.get("/api/invitations", &newcomer.auth()).await;
        mine.assert_status(200);
        assert_eq!(
            mine.body,
            json!([{"id": unknown.id(), "company_id": alice.company_id, "company_name": "Acme", "role": "staff",
                    "expires_at": unknown.body["expires_at"]}])
        );
        accept(&app, &newcomer, unknown.id()).await.assert_status(200);
        let members = app.get("/api/members", &alice.auth()).await;
        assert_eq!(member_ids(&members), vec![alice.id, newcomer.id]);
    }

    async fn only_the_verified_owner_of_the_address_may_accept(app: TestApp) {
        let alice = app.signup("Acme").await;
        // An attacker registers the new hire's address before the hire does: they cannot verify it.
        let squatter = app.signup_unverified("Squat Co").await;
        let invitation = invite(&app, &alice.auth(), &squatter.email, "admin").await;
        invitation.assert_status(201);
        let id = invitation.id();
        let mine = app.get("/api/invitations", &squatter.auth()).await;
        mine.assert_status(200);
        assert_eq!(mine.body, json!([]), "an unverified address sees no invitation");
        assert_404(&accept(&app, &squatter, id).await);
        assert_404(&app.post(&invite_path(id, "decline"), &squatter.auth(), json!({})).await);
        // Another verified user (a member of another company) cannot take it either.
        let mallory = app.signup("Mallory Co").await;
        assert_404(&accept(&app, &mallory, id).await);
        assert_404(&app.post(&invite_path(id, "decline"), &mallory.auth(), json!({})).await);
        assert_eq!(app.get("/api/invitations", &mallory.auth()).await.body, json!([]));
        // Nothing happened: still pending, nobody joined.
        assert_eq!(ids(&app.get("/api/members/invitations", &alice.auth()).await), vec![id]);
        assert_eq!(member_ids(&app.get("/api/members", &alice.auth()).await), vec![alice.id]);
        // Malformed and unknown ids are the same 404.
        assert_404(&app.post("/api/invitations/not-a-uuid/accept", &mallory.auth(), json!({})).await);
        assert_404(&accept(&app, &mallory, Uuid::now_v7()).await);
        // Once the owner proves the address, it is theirs to accept.
        app.verify_email(&squatter.email).await;
        let r = accept(&app, &squatter, id).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"company_id": alice.company_id, "role": "admin"}));
        assert_404(&accept(&app, &squatter, id).await);
    }

    async fn admins_list_and_revoke_invitations_of_their_company_only(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &bob, "staff").await;
        let first = invite(&app, &alice.auth(), "one@example.com", "staff").await.id();
        let second = invite(&app, &alice.auth(), &carol.email, "admin").await.id();
        let listed = app.get("/api/members/invitations", &alice.auth()).await;
        listed.assert_status(200);
        assert_eq!(ids(&listed), vec![first, second]);
        assert_eq!(listed.body[1]["email"], json!(carol.email));
        assert_eq!(listed.body[1]["role"], "admin");
        assert_eq!(listed.body[1]["status"], "pending");
        // Staff may neither list nor revoke.
        let in_acme = bob.in_company(alice.company_id);
        app.get("/api/members/invitations", &in_acme).await.assert_status(403);
        app.delete(&format!("/api/members/invitations/{first}"), &in_acme).await.assert_status(403);
        // Another company's admin sees none of them and revokes none of them.
        assert_eq!(app.get("/api/members/invitations", &carol.auth()).await.body, json!([]));
        assert_404(&app.delete(&format!("/api/members/invitations/{second}"), &carol.auth()).await);
        assert_404(&app.delete("/api/members/invitations/nope", &alice.auth()).await);
        // Revoked: gone from the list, and the invitee can no longer accept.
        app.delete(&format!("/api/members/invitations/{second}/"), &alice.auth()).await.assert_status(204);
        assert_404(&app.delete(&format!("/api/members/invitations/{second}"), &alice.auth()).await);
        assert_eq!(ids(&app.get("/api/members/invitations", &alice.auth()).await), vec![first]);
        assert_eq!(app.get("/api/invitations", &carol.auth()).await.body, json!([]));
        assert_404(&accept(&app, &carol, second).await);
    }

    async fn invitees_decline_and_invitations_are_renewed_not_duplicated(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let first = invite(&app, &alice.auth(), &bob.email, "staff").await;
        // Inviting the address again renews the one invitation: same id, the new role.
        let again = invite(&app, &alice.auth(), &bob.email.to_uppercase(), "admin").await;
        again.assert_status(201);
        assert_eq!(again.id(), first.id());
        assert_eq!(again.body["role"], "admin");
        let mine = app.get("/api/invitations", &bob.auth()).await;
        assert_eq!(ids(&mine), vec![first.id()]);
        assert_eq!(mine.body[0]["role"], "admin");
        // Declined: gone for both sides, and no membership.
        app.post(&invite_path(first.id(), "decline"), &bob.auth(), json!({})).await.assert_status(204);
        assert_eq!(app.get("/api/invitations", &bob.auth()).await.body, json!([]));
        assert_eq!(app.get("/api/members/invitations", &alice.auth()).await.body, json!([]));
        assert_404(&accept(&app, &bob, first.id()).await);
        assert_eq!(member_ids(&app.get("/api/members", &alice.auth()).await), vec![alice.id]);
    }

    async fn expired_invitations_cannot_be_seen_or_accepted(app: TestApp) {
        let expiring = app.connect_again_with(|c| c.invitation_ttl = Duration::ZERO).await;
        let alice = expiring.signup("Acme").await;
        let bob = expiring.signup("Bob Co").await;
        let r = invite(&expiring, &alice.auth(), &bob.email, "staff").await;
        r.assert_status(201);
        assert_eq!(expiring.get("/api/invitations", &bob.auth()).await.body, json!([]));
        assert_eq!(expiring.get("/api/members/invitations", &alice.auth()).await.body, json!([]));
        assert_404(&accept(&expiring, &bob, r.id()).await);
        assert_404(&expiring.post(&invite_path(r.id(), "decline"), &bob.auth(), json!({})).await);
        // A new invitation of the same address, from an app with the default lifetime, works.
        let renewed = invite(&app, &alice.auth(), &bob.email, "staff").await;
        renewed.assert_status(201);
        accept(&app, &bob, renewed.id()).await.assert_status(200);
    }

    async fn pending_invitations_per_company_are_capped(app: TestApp) {
        let capped = app.connect_again_with(|c| c.max_pending_invitations_per_company = 2).await;
        let alice = capped.signup("Acme").await;
        let first = invite(&capped, &alice.auth(), "a@example.com", "staff").await.id();
        invite(&capped, &alice.auth(), "b@example.com", "staff").await.assert_status(201);
        let r = invite(&capped, &alice.auth(), "c@example.com", "staff").await;
        r.assert_status(409);
        assert!(r.assert_detail().contains("pending invitations"), "{}", r.text);
        // Renewing a pending one is not a new one.
        invite(&capped, &alice.auth(), "a@example.com", "admin").await.assert_status(201);
        // Revoking makes room; the cap is per company.
        capped.delete(&format!("/api/members/invitations/{first}"), &alice.auth()).await.assert_status(204);
        invite(&capped, &alice.auth(), "c@example.com", "staff").await.assert_status(201);
        let other = capped.signup("Other").await;
        invite(&capped, &other.auth(), "a@example.com", "staff").await.assert_status(201);
    }

    async fn accepting_counts_against_the_companies_per_user(app: TestApp) {
        let capped = app.connect_again_with(|c| c.max_companies_per_user = 1).await;
        let alice = capped.signup("Acme").await;
        let bob = capped.signup("Bob Co").await;
        let r = invite(&capped, &alice.auth(), &bob.email, "staff").await;
        let refused = accept(&capped, &bob, r.id()).await;
        refused.assert_status(409);
        refused.assert_detail();
        // Bob leaves nothing behind: the invitation still waits for him.
        assert_eq!(ids(&capped.get("/api/invitations", &bob.auth()).await), vec![r.id()]);
        assert_eq!(member_ids(&capped.get("/api/members", &alice.auth()).await), vec![alice.id]);
    }

    async fn a_current_member_cannot_be_invited_and_an_accepted_member_is_not_added_twice(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &carol, "admin").await;
        // Two admins invite Bob; he accepts one, and the other is used up with a 409.
        let from_alice = invite(&app, &alice.auth(), &bob.email, "staff").await.id();
        let from_carol = invite(&app, &carol.in_company(alice.company_id), &bob.email, "admin").await.id();
        assert_eq!(from_alice, from_carol, "one invitation per address and company");
        accept(&app, &bob, from_alice).await.assert_status(200);
        let r = invite(&app, &alice.auth(), &bob.email, "staff").await;
        r.assert_status(409);
        r.assert_field_error("email");
        let roles: Vec<Value> = app.get("/api/members", &alice.auth()).await.body.as_array().unwrap().iter().map(|m| m["role"].clone()).collect();
        assert_eq!(roles, vec![json!("admin"), json!("admin"), json!("admin")], "Bob joined once, as admin (the renewed role)");
    }

    async fn addresses_are_compared_in_nfc_and_format_characters_are_refused(app: TestApp) {
        let alice = app.signup("Acme").await;
        // Composed "é" at sign-up; decomposed (e + U+0301) in the invitation: one address.
        let jose = app.signup_as("jos\u{e9}@example.com", "Jose Co").await;
        app.verify_email(&jose.email).await;
        let r = invite(&app, &alice.auth(), "JOSE\u{301}@example.com", "staff").await;
        r.assert_status(201);
        assert_eq!(r.body["email"], "jos\u{e9}@example.com");
        accept(&app, &jose, r.id()).await.assert_status(200);
        // The decomposed spelling is the same account at sign-up (409) and at login.
        let dup = app
            .post("/api/auth/signup", &Auth::None, json!({"email": "jose\u{301}@example.com", "password": PASSWORD, "company_name": "X"}))
            .await;
        dup.assert_status(409);
        let login = app.post("/api/auth/token", &Auth::None, json!({"email": "JOSE\u{301}@example.com", "password": PASSWORD})).await;
        login.assert_status(200);
        // Invisible characters are refused, at sign-up and in invitations.
        for c in ['\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}', '\u{202e}'] {
            let email = format!("new{c}hire@example.com");
            let r = app.post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": "X"})).await;
            r.assert_status(400);
            r.assert_field_error("email");
            let r = invite(&app, &alice.auth(), &email, "staff").await;
            r.assert_status(400);
            r.assert_field_error("email");
        }
    }

    async fn sign_up_mails_a_single_use_verification_token(app: TestApp) {
        let user = app.signup_unverified("Acme").await;
        let me = app.get("/api/me", &user.auth()).await;
        assert_eq!(me.body["email_verified"], false);
        let mails = app.mails_to(&user.email);
        assert_eq!(mails.len(), 1, "one verification message");
        let token = app.last_token_for(&user.email);
        let r = app.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"email": user.email, "email_verified": true}));
        assert_eq!(app.get("/api/me", &user.auth()).await.body["email_verified"], true);
        // Single use.
        let again = app.post("/api/auth/verify-email/", &Auth::None, json!({"token": token})).await;
        again.assert_status(400);
        assert_eq!(again.body, json!({"token": ["This token is invalid or has expired."]}));
        // Bad input of every kind: the same 400 on token, or the form's own errors.
        for bad in [json!({"token": "nope"}), json!({"token": "x".repeat(10_000)}), json!({"token": token.to_uppercase()})] {
            let r = app.post("/api/auth/verify-email", &Auth::None, bad).await;
            r.assert_status(400);
            assert_eq!(r.body, json!({"token": ["This token is invalid or has expired."]}));
        }
        for (bad, message) in [
            (json!({}), "This field is required."),
            (json!({"token": null}), "This field may not be null."),
            (json!({"token": 5}), "Not a valid string."),
            (json!({"token": ""}), "This field may not be blank."),
            (json!({"token": "a\u{0}b"}), "Null characters are not allowed."),
        ] {
            let r = app.post("/api/auth/verify-email", &Auth::None, bad).await;
            r.assert_status(400);
            assert_eq!(r.body, json!({"token": [message]}));
        }
    }

    async fn resending_replaces_the_token_and_stops_once_verified(app: TestApp) {
        let user = app.signup_unverified("Acme").await;
        let first = app.last_token_for(&user.email);
        app.post("/api/auth/verify-email/resend", &user.auth(), json!({})).await.assert_status(204);
        assert_eq!(app.mails_to(&user.email).len(), 2);
        let second = app.last_token_for(&user.email);
        assert_ne!(first, second);
        // The first token was replaced.
        app.post("/api/auth/verify-email", &Auth::None, json!({"token": first})).await.assert_status(400);
        app.post("/api/auth/verify-email", &Auth::None, json!({"token": second})).await.assert_status(200);
        // Verified: resending sends nothing.
        app.post("/api/auth/verify-email/resend", &user.auth(), json!({})).await.assert_status(204);
        assert_eq!(app.mails_to(&user.email).len(), 2);
        app.post("/api/auth/verify-email/resend", &Auth::None, json!({})).await.assert_status(401);
    }

    async fn verification_tokens_expire(app: TestApp) {
        let expiring = app.connect_again_with(|c| c.email_verification_ttl = Duration::ZERO).await;
        let user = expiring.signup_unverified("Acme").await;
        let token = expiring.last_token_for(&user.email);
        let r = expiring.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"token": ["This token is invalid or has expired."]}));
        assert_eq!(expiring.get("/api/me", &user.auth()).await.body["email_verified"], false);
    }

    async fn verification_endpoints_are_throttled(app: TestApp) {
        use axum::extract::connect_info::MockConnectInfo;
        use tower::ServiceExt;
        let throttled = app
            .connect_again_with(|c| {
                c.throttle_auth_address = "3/min".parse().unwrap();
                c.throttle_auth_account = "2/min".parse().unwrap();
            })
            .await;
        // Per client address (served with connect info): token guesses from one address stop.
        let from = |ip: [u8; 4]| throttled.router.clone().layer(MockConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        let guess = || {
            axum::http::Request::post("/api/auth/verify-email")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(json!({"token": "guess"}).to_string()))
                .unwrap()
        };
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(from([10, 0, 0, 1]).oneshot(guess()).await.unwrap().status().as_u16());
        }
        assert_eq!(statuses, [400, 400, 400, 429]);
        assert_eq!(from([10, 0, 0, 2]).oneshot(guess()).await.unwrap().status().as_u16(), 400);
        // Per account: each resend mails the user, so a third one within the minute is refused.
        let user = throttled.signup_unverified("Acme").await;
        throttled.post("/api/auth/verify-email/resend", &user.auth(), json!({})).await.assert_status(204);
        let r = throttled.post("/api/auth/verify-email/resend", &user.auth(), json!({})).await;
        r.assert_status(429);
        assert!(r.header("retry-after").is_some());
    }
}
