//! `demo-app seed`: two demo companies with users and data, created through the HTTP API
//! itself (in-process), so the seed obeys every rule a client does: users verify their address
//! with the token mailed to them, and staff join by accepting an invitation. The router must send
//! its mail to `mail_dir` (`EMAIL_BACKEND=file`), where the seed reads the tokens back.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::BoxError;

/// The password of every seeded user.
pub const PASSWORD: &str = "demo-password";

/// One seeded company and its users, as printed for the newcomer.
#[derive(Debug)]
pub struct SeededCompany {
    pub name: String,
    pub company_id: String,
    pub admin_email: String,
    pub staff_email: String,
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<(StatusCode, Value), BoxError> {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let resp = router.clone().oneshot(req.body(Body::from(body.to_string()))?).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
    Ok((status, value))
}

async fn expect(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, BoxError> {
    let (status, value) = call(router, method, path, token, body).await?;
    if !status.is_success() {
        return Err(format!("{method} {path} answered {status}: {value}").into());
    }
    Ok(value)
}

/// The token of the newest message to `address` in `mail_dir` (API.md: a line of its own
/// starting with `Token: `).
fn token_sent_to(mail_dir: &Path, address: &str) -> Result<String, BoxError> {
    let mut found: Option<(std::time::SystemTime, String)> = None;
    for entry in std::fs::read_dir(mail_dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let to_address = text
            .lines()
            .take_while(|line| !line.is_empty())
            .any(|line| line.to_ascii_lowercase().starts_with("to:") && line.contains(address));
        let token = text.lines().find_map(|line| line.trim_end().strip_prefix("Token: ").map(str::to_string));
        if let (true, Some(token)) = (to_address, token) {
            let modified = std::fs::metadata(&path)?.modified()?;
            if found.as_ref().is_none_or(|(newest, _)| modified >= *newest) {
                found = Some((modified, token));
            }
        }
    }
    found
        .map(|(_, token)| token)
        .ok_or_else(|| format!("no verification message to {address} in {}", mail_dir.display()).into())
}

/// Signs up `email` with a company of its own and verifies the address; returns the sign-up.
async fn signup_verified(router: &Router, mail_dir: &Path, email: &str, company: &str) -> Result<Value, BoxError> {
    let signup = expect(
        router,
        "POST",
        "/api/auth/signup",
        None,
        json!({"email": email, "password": PASSWORD, "company_name": company}),
    )
    .await
    .map_err(|e| format!("{e} (already seeded? seed works on an empty database)"))?;
    let token = token_sent_to(mail_dir, email)?;
    expect(router, "POST", "/api/auth/verify-email", None, json!({ "token": token })).await?;
    Ok(signup)
}

/// Seeds two companies; fails (without changing anything) if their admins already exist.
/// `mail_dir` is where the router's file mailer writes (see the module docs).
pub async fn seed(router: &Router, mail_dir: &Path) -> Result<Vec<SeededCompany>, BoxError> {
    let mut seeded = Vec::new();
    for (slug, name, customers) in [
        ("acme", "Acme Corp", [("Wile E. Coyote", "wile@example.com"), ("Road Runner", "beep@example.com")]),
        ("globex", "Globex Inc", [("Hank Scorpio", "hank@example.com"), ("Homer Simpson", "homer@example.com")]),
    ] {
        let admin_email = format!("admin@{slug}.test");
        let staff_email = format!("staff@{slug}.test");
        let signup = signup_verified(router, mail_dir, &admin_email, name).await?;
        let token = signup["access"].as_str().ok_or("signup returned no access token")?.to_string();
        let company_id = signup["company"]["id"].as_str().ok_or("signup returned no company id")?.to_string();

        // The staff user signs up (getting a company of their own), is invited, and accepts.
        let staff = signup_verified(router, mail_dir, &staff_email, &format!("{name} (staff sandbox)")).await?;
        let staff_token = staff["access"].as_str().ok_or("signup returned no access token")?.to_string();
        let invitation =
            expect(router, "POST", "/api/members", Some(&token), json!({"email": staff_email, "role": "staff"}))
                .await?;
        let invitation = invitation["id"].as_str().ok_or("the invitation has no id")?;
        expect(router, "POST", &format!("/api/invitations/{invitation}/accept"), Some(&staff_token), json!({})).await?;

        for (i, (customer_name, email)) in customers.iter().enumerate() {
            let customer = expect(
                router,
                "POST",
                "/api/customers",
                Some(&token),
                json!({"name": customer_name, "email": email, "phone": "+1 555 0100"}),
            )
            .await?;
            expect(
                router,
                "POST",
                "/api/invoices",
                Some(&token),
                json!({"customer_id": customer["id"], "number": format!("INV-{:04}", i + 1),
                       "amount_cents": 12_500 * (i as i64 + 1), "status": "sent", "issued_on": "2026-11-01"}),
            )
            .await?;
        }
        for (sku, product, price) in [("WIDGET-1", "Widget", 1999), ("GADGET-2", "Gadget", 4999)] {
            expect(
                router,
                "POST",
                "/api/products",
                Some(&token),
                json!({"sku": sku, "name": product, "price_cents": price}),
            )
            .await?;
        }
        seeded.push(SeededCompany { name: name.to_string(), company_id, admin_email, staff_email });
    }
    Ok(seeded)
}
