//! Accounts through the API as a client makes them: sign-up with e-mail verification (the file
//! mailer's messages read back), and members added by invitation and acceptance.

use serde_json::{Value, json};
use uuid::Uuid;

use super::app::TestApp;
use super::credentials::PASSWORD;
use super::requests::{Auth, User};

impl TestApp {
    /// `POST /api/auth/signup` with a unique email and [`PASSWORD`], then the e-mail verification
    /// with the token of the message it sent; panics unless 201 and 200.
    pub async fn signup(&self, company_name: &str) -> User {
        let user = self.signup_unverified(company_name).await;
        self.verify_email(&user.email).await;
        user
    }

    /// `POST /api/auth/signup` with a unique email and [`PASSWORD`]; panics unless 201. The
    /// address stays unverified.
    pub async fn signup_unverified(&self, company_name: &str) -> User {
        let email = format!("user-{}@example.com", Uuid::now_v7().simple());
        self.signup_as(&email, company_name).await
    }

    /// `POST /api/auth/signup` with `email` and [`PASSWORD`]; panics unless 201. Unverified.
    pub async fn signup_as(&self, email: &str, company_name: &str) -> User {
        let r = self
            .post(
                "/api/auth/signup",
                &Auth::None,
                json!({"email": email, "password": PASSWORD, "company_name": company_name}),
            )
            .await;
        assert_eq!(r.status, 201, "signup failed: {} {}", r.status, r.text);
        let uuid_at = |pointer: &str| {
            r.body
                .pointer(pointer)
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(|| panic!("signup response has no UUID at {pointer}: {}", r.text))
        };
        let string_at = |key: &str| {
            r.body[key]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| panic!("signup response has no {key}: {}", r.text))
        };
        User {
            id: uuid_at("/user/id"),
            email: r.body.pointer("/user/email").and_then(Value::as_str).unwrap_or(email).to_string(),
            password: PASSWORD.to_string(),
            company_id: uuid_at("/company/id"),
            access: string_at("access"),
            refresh: string_at("refresh"),
        }
    }

    /// Every message the app sent to `address`, as RFC 5322 text, oldest first.
    pub fn mails_to(&self, address: &str) -> Vec<String> {
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(self.mail_dir.path())
            .expect("the mail directory")
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .map(|entry| {
                let modified = entry.metadata().and_then(|m| m.modified()).expect("a file time");
                (modified, std::fs::read_to_string(entry.path()).expect("a readable message"))
            })
            .filter(|(_, text)| {
                text.lines()
                    .take_while(|line| !line.is_empty())
                    .any(|line| line.to_ascii_lowercase().starts_with("to:") && line.contains(address))
            })
            .collect();
        mails.sort();
        mails.into_iter().map(|(_, text)| text).collect()
    }

    /// The token of the newest message to `address` that carries one (API.md: a line of its own
    /// starting with `Token: `); panics if there is none.
    #[track_caller]
    pub fn last_token_for(&self, address: &str) -> String {
        self.mails_to(address)
            .iter()
            .rev()
            .find_map(|mail| mail.lines().find_map(|l| l.trim_end().strip_prefix("Token: ").map(str::to_string)))
            .unwrap_or_else(|| panic!("no message with a token was sent to {address}"))
    }

    /// Verifies `address` with the token last sent to it; panics unless 200.
    pub async fn verify_email(&self, address: &str) {
        let token = self.last_token_for(address);
        let r = self.post("/api/auth/verify-email", &Auth::None, json!({ "token": token })).await;
        assert_eq!(r.status, 200, "verifying {address} failed: {} {}", r.status, r.text);
    }

    /// Invites `member` to `admin`'s active (default) company with `role`, and has `member`
    /// accept (their address must be verified, as [`TestApp::signup`] leaves it); panics unless
    /// 201 and 200.
    pub async fn add_member(&self, admin: &User, member: &User, role: &str) {
        let r = self.post("/api/members", &admin.auth(), json!({"email": member.email, "role": role})).await;
        assert_eq!(r.status, 201, "inviting {} as {role} failed: {} {}", member.email, r.status, r.text);
        let id = r.id();
        let r = self.post(&format!("/api/invitations/{id}/accept"), &member.auth(), json!({})).await;
        assert_eq!(r.status, 200, "{} accepting as {role} failed: {} {}", member.email, r.status, r.text);
    }

    /// `POST path`; panics unless 201; returns the created object.
    pub async fn create(&self, path: &str, auth: &Auth, body: Value) -> Value {
        let r = self.post(path, auth, body).await;
        assert_eq!(r.status, 201, "create at {path} failed: {} {}", r.status, r.text);
        r.body
    }
}
