//! Security review of invitations, e-mail verification, the mailer and the per-company
//! connection share (issue 17). Each "Finding" is a test that failed on the code it was written
//! against (at 647fc05) and passes since its fix; tests marked **Sound** pin behaviour that was
//! suspected and found correct.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use tests::*;
use uuid::Uuid;

async fn invite(app: &TestApp, admin: &Auth, email: &str, role: &str) -> Resp {
    app.post("/api/members", admin, json!({"email": email, "role": role})).await
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", Uuid::now_v7().simple())
}

both_backends! {
    /// Finding: invitation mail is unthrottled. `POST /api/members` sends a message on every
    /// call, renewals included, and revoking frees the pending quota, so any admin (anyone: sign-up
    /// makes you one) can mail an arbitrary address without bound, with text they choose (the
    /// company name). The verification resend is throttled "as each call sends mail"; this is
    /// the same, aimed at third parties.
    async fn invitation_mail_to_one_address_is_bounded(app: TestApp) {
        // The production rates (the harness relaxes every throttle).
        let defaults = tenant_core::Config::new("sqlite::memory:");
        let app = app
            .connect_again_with(|c| {
                c.throttle_invitation_company = defaults.throttle_invitation_company;
                c.throttle_invitation_address = defaults.throttle_invitation_address;
            })
            .await;
        let spammer = app.signup("Totally Legit Prize Department").await;
        let victim = unique("victim");
        let mut statuses = Vec::new();
        for round in 0..30 {
            let r = invite(&app, &spammer.auth(), &victim, "staff").await;
            statuses.push(r.status);
            // Every fifth round, revoke and invite afresh: the pending quota never fills.
            if round % 5 == 4 && r.status == 201 {
                app.delete(&format!("/api/members/invitations/{}", r.id()), &spammer.auth()).await.assert_status(204);
            }
        }
        assert!(statuses.iter().all(|s| *s == 201 || *s == 429), "{statuses:?}");
        assert!(statuses.contains(&429), "{statuses:?}");
        let sent = app.mails_to(&victim).len();
        assert!(sent <= 5, "30 invitations in a few seconds mailed {victim} {sent} times; statuses {statuses:?}");
    }
}

both_backends! {
    /// Finding: a company name is pasted verbatim into the invitation message, line breaks
    /// included, so an inviter writes arbitrary lines into a message sent from the service's own
    /// address, e.g. a `Token: ` line, which API.md reserves for messages that carry a token
    /// (an invitation carries none), or "To accept, POST /api/invitations/<another id>/accept".
    async fn a_company_name_cannot_forge_lines_of_the_invitation_message(app: TestApp) {
        // Names are single lines: refused at sign-up and at company creation.
        let forged = "Acme\nToken: forged-by-the-inviter\nTo accept, visit https://evil.example";
        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": unique("forger"), "password": PASSWORD, "company_name": forged}))
            .await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"company_name": ["Control characters (such as line breaks) are not allowed."]}));
        let forger = app.signup("Acme").await;
        let r = app.post("/api/companies", &forger.auth(), json!({"name": forged})).await;
        r.assert_status(400);
        r.assert_field_error("name");
        // A name stored before the rule still writes no line of its own into the message.
        as_owner(&app, "UPDATE companies SET name = $1 WHERE id = $2", &[
            tenant_core::Value::Text(Some(forged.to_string())),
            tenant_core::Value::Uuid(Some(forger.company_id)),
        ])
        .await;
        let invitee = unique("invitee");
        invite(&app, &forger.auth(), &invitee, "staff").await.assert_status(201);
        let mails = app.mails_to(&invitee);
        assert_eq!(mails.len(), 1);
        let body = mails[0].split_once("\r\n\r\n").expect("headers, then a body").1;
        assert!(
            !body.lines().any(|l| l.starts_with("Token: ") || l.starts_with("To accept, visit")),
            "the company name wrote its own lines into the message:\n{body}"
        );
    }
}

/// Runs `sql` with `params` as the database owner (outside the app), as an operator would.
async fn as_owner(app: &TestApp, sql: &'static str, params: &[tenant_core::Value]) -> u64 {
    let owner = tenant_core::Db::connect(&app.database_url, 1).await.expect("owner connection");
    let n = owner.execute(sql, params).await.expect("owner statement");
    owner.close().await;
    n
}

both_backends! {
    /// Finding: the NFC normalisation added with migration 0002 is applied to input only; the
    /// rows written before it (the previous release stored addresses trimmed and lower-cased, in
    /// whatever normal form the client sent) are not normalised by the migration. Such a user
    /// can no longer log in with the address they signed up with, and the same address can be
    /// registered a second time, as another account.
    async fn addresses_stored_before_nfc_still_log_in_and_stay_unique(app: TestApp) {
        let tag = Uuid::now_v7().simple().to_string();
        let composed = format!("jos\u{e9}-{tag}@example.com");
        let decomposed = format!("jose\u{301}-{tag}@example.com");
        let jose = app.signup_as(&composed, "Jose Co").await;
        // The row as the previous release wrote it for a client that sent the decomposed form.
        let n = as_owner(
            &app,
            "UPDATE users SET email = $1 WHERE id = $2",
            &[tenant_core::Value::Text(Some(decomposed.clone())), tenant_core::Value::Uuid(Some(jose.id))],
        )
        .await;
        assert_eq!(n, 1);
        // The upgrade migrates the database (as `App::migrate` does at every start).
        let upgrade = tenant_core::App::connect(tenant_core::Config::new(&app.database_url)).await.unwrap();
        demo_app::register(upgrade).migrate().await.unwrap();
        // After the upgrade, the user types what they always typed.
        let login = app.post("/api/auth/token", &Auth::None, json!({"email": decomposed, "password": PASSWORD})).await;
        let dup = app
            .post("/api/auth/signup", &Auth::None, json!({"email": composed, "password": PASSWORD, "company_name": "Twin"}))
            .await;
        assert_eq!(
            (login.status, dup.status),
            (200, 409),
            "legacy account: login {} {}; second sign-up of the same address {} {}",
            login.status,
            login.text,
            dup.status,
            dup.text
        );
    }
}

both_backends! {
    /// Finding: `is_email` accepts `<`, `>` (and `,`, `"`…) anywhere but the domain's ends, and
    /// the mailer parses the stored address as a *mailbox* (`Name <address>`). So an account's
    /// address and the address its verification message is delivered to differ: the user
    /// `bob<attacker@example.com>` is verified by whoever reads attacker@example.com. The
    /// invariant "a verified address is one whose mail its owner reads" is broken; Django's
    /// EmailValidator refuses these characters in an unquoted local part.
    async fn the_verified_address_is_the_one_the_message_was_delivered_to(app: TestApp) {
        let tag = Uuid::now_v7().simple().to_string();
        let attacker_mailbox = format!("attacker-{tag}@example.com");
        let stored = format!("ceo.acme.example<{attacker_mailbox}>");
        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": stored, "password": PASSWORD, "company_name": "X"}))
            .await;
        if r.status == 400 {
            return; // refused as an address: the fix
        }
        r.assert_status(201);
        let token = app.last_token_for(&attacker_mailbox);
        let verified = app.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await;
        let me = app.get("/api/me", &Auth::bearer(r.body["access"].as_str().unwrap())).await;
        panic!(
            "{stored:?} was accepted as an address; its verification went to {attacker_mailbox} ({}), \
             and now /api/me says {} / email_verified {}",
            verified.status, me.body["email"], me.body["email_verified"]
        );
    }
}

both_backends! {
    /// Finding (low): the rule "addresses with invisible format characters are refused" checks
    /// Unicode category Cf only. Other default-ignorable code points render as nothing too and
    /// pass: the combining grapheme joiner U+034F and variation selectors (category Mn), the
    /// Hangul fillers U+115F, U+1160, U+3164, U+FFA0 (Lo). `alice\u{34f}@example.com` is a
    /// second account that looks exactly like `alice@example.com` in every member list.
    async fn addresses_with_other_invisible_characters_are_refused(app: TestApp) {
        let mut accepted = Vec::new();
        for c in ['\u{34f}', '\u{fe0f}', '\u{e0100}', '\u{115f}', '\u{1160}', '\u{3164}', '\u{ffa0}'] {
            let email = format!("ali{c}ce-{}@example.com", Uuid::now_v7().simple());
            let r = app
                .post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": "X"}))
                .await;
            if r.status != 400 {
                accepted.push((format!("U+{:04X}", c as u32), r.status));
            }
        }
        assert!(accepted.is_empty(), "invisible characters accepted in an address at sign-up: {accepted:?}");
    }
}

both_backends! {
    /// Finding (configuration): an `INVITATION_TTL_SECS` or `EMAIL_VERIFICATION_TTL_SECS` that
    /// puts the expiry past year 9999 (e.g. a huge value meant as "never expire"; the config
    /// accepts any u64) is stored on SQLite as `+262143-…` text, which compares before any
    /// current time: every invitation is born expired (and purged), and verifying a token reads
    /// back a timestamp chrono cannot parse: 500. PostgreSQL works. Both should behave alike
    /// (clamp the expiry, or refuse the setting).
    async fn a_long_ttl_works_on_both_backends(app: TestApp) {
        let forever = Duration::from_secs(u64::MAX);
        let long = app
            .connect_again_with(|c| {
                c.invitation_ttl = forever;
                c.email_verification_ttl = forever;
            })
            .await;
        // Users verified through the default app; the invitation made through the long one.
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let invitation = invite(&long, &alice.auth(), &bob.email, "staff").await;
        invitation.assert_status(201);
        let mine = long.get("/api/invitations", &bob.auth()).await;
        let pending = long.get("/api/members/invitations", &alice.auth()).await;
        let carol = long.signup_unverified("Carol Co").await;
        let token = long.last_token_for(&carol.email);
        let verified = long.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await;
        assert_eq!(
            (mine.body.as_array().map(Vec::len), pending.body.as_array().map(Vec::len), verified.status),
            (Some(1), Some(1), 200),
            "{:?}: invitee sees {}; admin sees {}; verification {} {}",
            long.backend, mine.text, pending.text, verified.status, verified.text
        );
    }
}

both_backends! {
    /// **Sound**: a company name with CR/LF cannot add a header to the invitation message (the
    /// subject is RFC 2047-encoded as one header).
    async fn sound_company_name_cannot_inject_mail_headers(app: TestApp) {
        // Refused as a name since; written as a name stored before the rule would be.
        let admin = app.signup("Acme").await;
        as_owner(&app, "UPDATE companies SET name = $1 WHERE id = $2", &[
            tenant_core::Value::Text(Some("Acme\r\nBcc: mallory@example.com\r\nX-Injected: yes".to_string())),
            tenant_core::Value::Uuid(Some(admin.company_id)),
        ])
        .await;
        let invitee = unique("invitee");
        invite(&app, &admin.auth(), &invitee, "staff").await.assert_status(201);
        let mail = &app.mails_to(&invitee)[0];
        let headers = mail.split_once("\r\n\r\n").unwrap().0;
        assert!(!headers.lines().any(|l| l.starts_with("Bcc:") || l.starts_with("X-Injected:")), "{headers}");
        assert_eq!(headers.lines().filter(|l| l.starts_with("Subject:")).count(), 1, "{headers}");
    }
}

both_backends! {
    /// **Sound**: odd input on every new endpoint is a 4xx, never a 5xx.
    async fn sound_no_5xx_from_the_new_endpoints(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let real = invite(&app, &alice.auth(), &bob.email, "staff").await.id();
        let mut seen = Vec::new();
        let emails = [
            json!("\u{130}STANBUL@example.com"), json!("\u{1e9e}@example.com"), json!("a@b.c<d>"),
            json!("a,b@example.com"), json!("\"quoted\"@example.com"), json!("x@xn--bcher-kva.example"),
            json!("b\u{fc}cher@b\u{fc}cher.example"), json!("\u{212a}elvin@example.com"),
            json!(format!("{}@example.com", "\u{23a}".repeat(60))), json!(format!("{}@e.co", "a".repeat(300))),
            json!("a@b.co\r\nBcc: x@y.z"), json!("a\u{0}@b.co"), json!(5), json!(null), json!(["a@b.co"]),
            json!({"a": 1}), json!(""), json!("@"), json!("a@.co"), json!("\u{10ffff}@example.com"),
        ];
        for email in emails {
            for role in [json!("staff"), json!("owner"), json!(1), json!(null)] {
                let r = app.post("/api/members", &alice.auth(), json!({"email": email, "role": role})).await;
                seen.push((format!("invite {email} {role}"), r.status));
            }
        }
        for body in [b"{".to_vec(), b"[]".to_vec(), b"null".to_vec(), vec![0xff, 0xfe], b"{\"email\": \"\\ud800@x.co\", \"role\": \"staff\"}".to_vec()] {
            let auth = format!("Bearer {}", alice.access);
            let r = app.send("POST", "/api/members", &[("authorization", &auth), ("content-type", "application/json")], Some(body.clone())).await;
            seen.push((format!("raw {:?}", String::from_utf8_lossy(&body)), r.status));
        }
        let ids = [
            real.to_string(), format!("{real}/"), real.simple().to_string(), format!("{{{real}}}"),
            format!("urn:uuid:{real}"), "%00".into(), "%FF%FE".into(), "..".into(), "x".repeat(5000),
            "00000000-0000-0000-0000-000000000000".into(),
        ];
        for id in &ids {
            for (method, path, who) in [
                ("DELETE", format!("/api/members/invitations/{id}"), &alice),
                ("POST", format!("/api/invitations/{id}/decline"), &alice),
                ("POST", format!("/api/invitations/{id}/accept"), &alice),
                ("GET", format!("/api/invitations/{id}/accept"), &bob),
            ] {
                let r = app.request(method, &path, &who.auth(), Some(json!({}))).await;
                seen.push((format!("{method} {path}"), r.status));
            }
        }
        for (method, path) in [
            ("POST", "/api/members/invitations"), ("PATCH", "/api/members/invitations"),
            ("DELETE", "/api/members/invitations"), ("GET", "/api/members/invitations/"),
            ("GET", "/api/invitations/"), ("PUT", "/api/invitations"), ("POST", "/api/auth/verify-email/resend/"),
        ] {
            let r = app.request(method, path, &alice.auth(), Some(json!({}))).await;
            seen.push((format!("{method} {path}"), r.status));
        }
        for token in [json!("\u{202e}"), json!("a".repeat(128)), json!(" ".repeat(10)), json!("\u{1F600}".repeat(200)), json!(true)] {
            let r = app.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await;
            seen.push((format!("verify {token}"), r.status));
        }
        let bad: Vec<_> = seen.iter().filter(|(_, s)| *s >= 500).collect();
        assert!(bad.is_empty(), "5xx answers: {bad:?}");
        // Alice revoked the real invitation above (its first spelling); a new one still works.
        let again = invite(&app, &alice.auth(), &bob.email, "staff").await.id();
        app.post(&format!("/api/invitations/{again}/accept"), &bob.auth(), json!({})).await.assert_status(200);
    }
}

both_backends! {
    /// **Sound**: simultaneous invitations cannot overrun `MAX_PENDING_INVITATIONS_PER_COMPANY`
    /// (the roster lock serialises them), and simultaneous accepts cannot overrun
    /// `MAX_COMPANIES_PER_USER` (the user row is locked; SQLite's write transaction serialises).
    async fn sound_quotas_hold_under_concurrency(app: TestApp) {
        let capped = app
            .connect_again_with(|c| {
                c.max_pending_invitations_per_company = 3;
                c.max_companies_per_user = 2;
            })
            .await;
        let alice = capped.signup("Acme").await;
        let addresses: Vec<String> = (0..10).map(|_| unique("burst")).collect();
        let admin = alice.auth();
        let results = join_all(addresses.iter().map(|a| invite(&capped, &admin, a, "staff"))).await;
        let created = results.iter().filter(|r| r.status == 201).count();
        assert!(results.iter().all(|r| r.status == 201 || r.status == 409), "{:?}", results.iter().map(|r| (r.status, &r.text)).collect::<Vec<_>>());
        assert_eq!(created, 3);
        let pending = capped.get("/api/members/invitations", &alice.auth()).await;
        assert_eq!(pending.body.as_array().unwrap().len(), 3);

        // Bob (one company) is invited by five companies and accepts all at once: one gets in.
        let bob = capped.signup("Bob Co").await;
        let mut ids = Vec::new();
        for n in 0..5 {
            let admin = capped.signup(&format!("Inviter {n}")).await;
            ids.push(invite(&capped, &admin.auth(), &bob.email, "admin").await.id());
        }
        let accepted = join_all(ids.iter().map(|id| capped.post(&format!("/api/invitations/{id}/accept"), &bob.auth(), json!({})))).await;
        let statuses: Vec<u16> = accepted.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
        let me = capped.get("/api/me", &bob.auth()).await;
        assert_eq!(me.body["memberships"].as_array().unwrap().len(), 2);
    }
}

both_backends! {
    /// **Sound**: one invitation accepted ten times at once makes one membership; one
    /// verification token presented ten times at once verifies once (single use).
    async fn sound_single_use_under_concurrency(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let id = invite(&app, &alice.auth(), &bob.email, "staff").await.id();
        let path = format!("/api/invitations/{id}/accept");
        let accepted = join_all((0..10).map(|_| app.post(&path, &bob.auth(), json!({})))).await;
        let statuses: Vec<u16> = accepted.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| [200, 404, 409].contains(s)), "{statuses:?}");
        let members = app.get("/api/members", &alice.auth()).await;
        assert_eq!(members.body.as_array().unwrap().len(), 2);

        let carol = app.signup_unverified("Carol Co").await;
        let token = app.last_token_for(&carol.email);
        let verified = join_all((0..10).map(|_| app.post("/api/auth/verify-email", &Auth::None, json!({"token": token})))).await;
        let statuses: Vec<u16> = verified.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| [200, 400].contains(s)), "{statuses:?}");
    }
}

both_backends! {
    /// **Sound**: a verification token verifies only the user and the address it was issued for:
    /// presented by someone else it verifies its owner (who received it), never the presenter;
    /// an invitation to an address is invisible and unanswerable to every other account,
    /// verified or not, and in every company (X-Company-Id changes nothing).
    async fn sound_tokens_and_invitations_are_bound_to_their_address(app: TestApp) {
        let alice = app.signup("Acme").await;
        let victim = app.signup_unverified("Victim Co").await;
        let mallory = app.signup_unverified("Mallory Co").await;
        let token = app.last_token_for(&victim.email);
        let r = app.post("/api/auth/verify-email", &mallory.auth(), json!({"token": token})).await;
        r.assert_status(200);
        assert_eq!(r.body["email"], json!(victim.email));
        assert_eq!(app.get("/api/me", &mallory.auth()).await.body["email_verified"], false);
        let id = invite(&app, &alice.auth(), &victim.email, "admin").await.id();
        app.verify_email(&mallory.email).await;
        for auth in [mallory.auth(), mallory.in_company(alice.company_id), mallory.in_company(mallory.company_id)] {
            assert_eq!(app.get("/api/invitations", &auth).await.body, json!([]));
            for action in ["accept", "decline"] {
                app.post(&format!("/api/invitations/{id}/{action}"), &auth, json!({})).await.assert_status(404);
            }
        }
        // Another company's admin cannot see, renew into their own, or revoke it.
        let other: Value = app.get("/api/members/invitations", &mallory.auth()).await.body;
        assert_eq!(other, json!([]));
        app.delete(&format!("/api/members/invitations/{id}"), &mallory.auth()).await.assert_status(404);
        app.delete(&format!("/api/members/invitations/{id}"), &mallory.in_company(alice.company_id)).await.assert_status(403);
        let renewed = invite(&app, &mallory.auth(), &victim.email, "staff").await;
        assert_ne!(renewed.id(), id, "Mallory's invitation is her company's own");
        let pending = app.get("/api/members/invitations", &alice.auth()).await;
        assert_eq!(pending.body[0]["role"], "admin", "Alice's invitation is untouched: {}", pending.text);
    }
}
