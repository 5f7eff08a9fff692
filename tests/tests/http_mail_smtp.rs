//! The app's own messages through SMTP (`EMAIL_BACKEND=smtp`), against the local sink.

use std::time::Duration;

use serde_json::json;
use tenant_core::mail::{EmailBackend, SmtpSettings};
use tests::smtp_sink::SmtpSink;
use tests::*;
use uuid::Uuid;

async fn invite(app: &TestApp, admin: &Auth, email: &str, role: &str) -> Resp {
    app.post("/api/members", admin, json!({"email": email, "role": role})).await
}

fn smtp_at(port: u16) -> EmailBackend {
    EmailBackend::Smtp(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        timeout: Duration::from_secs(2),
        ..SmtpSettings::default()
    })
}

both_backends! {
    async fn sign_up_and_invitations_are_mailed_through_smtp(app: TestApp) {
        let sink = SmtpSink::start().await;
        let smtp = app.connect_again_with(|c| c.email.backend = smtp_at(sink.port())).await;
        let email = format!("smtp-{}@example.com", Uuid::now_v7().simple());
        let r = smtp
            .post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": "Zoë & Café"}))
            .await;
        r.assert_status(201);
        let invited = format!("invited-{}@example.com", Uuid::now_v7().simple());
        let admin = Auth::bearer(r.body["access"].as_str().unwrap());
        let invitation = invite(&smtp, &admin, &invited, "staff").await;
        invitation.assert_status(201);
        let messages = sink.messages();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0].rcpt_to, vec![email.clone()]);
        let token = messages[0]
            .lines()
            .find_map(|l| l.strip_prefix("Token: ").map(str::to_string))
            .expect("a Token: line");
        assert_eq!(messages[1].rcpt_to, vec![invited]);
        assert!(messages[1].lines().any(|l| l == format!("Invitation: {}", invitation.id())));
        // The token that went through SMTP verifies the address.
        smtp.post("/api/auth/verify-email", &Auth::None, json!({"token": token})).await.assert_status(200);
    }

    async fn a_mail_server_that_is_down_does_not_fail_the_request(app: TestApp) {
        // A port nothing listens on: the send fails (and is logged); the sign-up stands, and
        // the user can ask for the message again once mail works.
        let port = tests::ports::free_local_addr().port();
        let down = app.connect_again_with(|c| c.email.backend = smtp_at(port)).await;
        let email = format!("down-{}@example.com", Uuid::now_v7().simple());
        let r = down
            .post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": "Acme"}))
            .await;
        r.assert_status(201);
        let user = Auth::bearer(r.body["access"].as_str().unwrap());
        invite(&down, &user, "someone@example.com", "staff").await.assert_status(201);
        // Through the app with working mail: resend, and the new token verifies.
        app.post("/api/auth/verify-email/resend", &user, json!({})).await.assert_status(204);
        app.verify_email(&email).await;
    }
}
