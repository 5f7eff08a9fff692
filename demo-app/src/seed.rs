//! `demo-app seed`: two demo companies with users and data, created through the HTTP API
//! itself (in-process), so the seed obeys every rule a client does: users verify their address
//! with the token mailed to them, and staff join by accepting an invitation. The router must send
//! its mail to `mail_dir` (`EMAIL_BACKEND=file`), where the seed reads the tokens back.
//!
//! `demo-app seed --companies N --customers-per-company M` seeds data at scale instead
//! ([`seed_at_scale`]): N companies made the same way, and their customers written with the
//! framework's typed operations in company-scoped transactions, with progress on stderr.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use uuid::Uuid;

use crate::BoxError;
use crate::models::{Customer, CustomerInput};

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

/// The options of `demo-app seed`: none for the two demo companies; `--companies N
/// [--customers-per-company M]` for data at scale instead.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SeedArgs {
    /// Instead of the two demo companies: this many generated companies (1 to 10000), "Scale Co
    /// 1" …, each with a verified admin admin@company-<i>.scale.test (the seed's password).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub companies: Option<u32>,
    /// With --companies: customers per company (0 to 1000000; default 100), written in
    /// batches, one scoped transaction per batch.
    #[arg(long, value_name = "M", requires = "companies", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub customers_per_company: Option<u32>,
}

/// Customers per company when `--customers-per-company` is not given.
pub const DEFAULT_CUSTOMERS_PER_COMPANY: u32 = 100;

/// Customers written per scoped transaction: a transaction's size stays bounded whatever the
/// count, and the progress moves between commits.
pub const BATCH: u32 = 1_000;

/// One generated company of [`seed_at_scale`].
#[derive(Debug)]
pub struct ScaledCompany {
    pub name: String,
    pub company_id: Uuid,
    pub admin_email: String,
}

/// What [`seed_at_scale`] wrote.
#[derive(Debug)]
pub struct Scaled {
    pub companies: Vec<ScaledCompany>,
    /// Customers written, over all companies.
    pub customers: u64,
    /// How long it took, sign-ups included.
    pub elapsed: std::time::Duration,
}

/// The admin of generated company `i` (from 1).
pub fn scale_admin_email(i: u32) -> String {
    format!("admin@company-{i}.scale.test")
}

/// Seeds `companies` generated companies with `per_company` customers each. Each company and
/// its verified admin are made through the HTTP API (`router`, whose mail goes to `mail_dir`),
/// as [`seed`] makes them; the customers are written with the framework's typed operations
/// ([`tenant_core::Scoped::create`]) in a transaction scoped to the company
/// ([`tenant_core::jobs::scoped`]: the company bound in every statement, row-level security on
/// PostgreSQL), [`BATCH`] per transaction. Progress goes to stderr
/// ([`tenant_core::progress::Progress`]): customers done of the total, rows/s, elapsed.
///
/// # Errors
///
/// A refused sign-up (an admin that already exists: the database is not empty), or a failed
/// write; what was committed before stays.
pub async fn seed_at_scale(
    router: &Router,
    state: &tenant_core::AppState,
    mail_dir: &Path,
    companies: u32,
    per_company: u32,
) -> Result<Scaled, BoxError> {
    let total = u64::from(companies) * u64::from(per_company);
    let progress = tenant_core::progress::Progress::new("seeded", total);
    let mut seeded = Vec::with_capacity(companies as usize);
    for i in 1..=companies {
        let name = format!("Scale Co {i}");
        let admin_email = scale_admin_email(i);
        let signup = signup_verified(router, mail_dir, &admin_email, &name).await?;
        // Read: the next sign-up's token must not be looked for among this one's messages.
        clear_mail(mail_dir)?;
        let company_id: Uuid = signup["company"]["id"].as_str().ok_or("signup returned no company id")?.parse()?;
        let mut written = 0;
        while written < per_company {
            let batch = BATCH.min(per_company - written);
            let mut scoped = tenant_core::jobs::scoped(state, company_id).await?;
            for j in written + 1..=written + batch {
                let input = CustomerInput {
                    name: format!("Customer {j} of {name}"),
                    email: format!("customer-{j}@company-{i}.scale.test"),
                    phone: Some(format!("+1 555 {:04}", j % 10_000)),
                    notes: None,
                };
                scoped.create::<Customer>(input).await?;
            }
            scoped.commit().await?;
            written += batch;
            progress.add(u64::from(batch));
        }
        seeded.push(ScaledCompany { name, company_id, admin_email });
    }
    progress.finish();
    Ok(Scaled { companies: seeded, customers: progress.done(), elapsed: progress.elapsed() })
}

fn clear_mail(mail_dir: &Path) -> Result<(), BoxError> {
    for entry in std::fs::read_dir(mail_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "eml") {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}
