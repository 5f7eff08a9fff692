//! `demo-app seed`: two demo companies with users and data, created through the HTTP API
//! itself (in-process), so the seed obeys every rule a client does.

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

/// Seeds two companies; fails (without changing anything) if their admins already exist.
pub async fn seed(router: &Router) -> Result<Vec<SeededCompany>, BoxError> {
    let mut seeded = Vec::new();
    for (slug, name, customers) in [
        ("acme", "Acme Corp", [("Wile E. Coyote", "wile@example.com"), ("Road Runner", "beep@example.com")]),
        ("globex", "Globex Inc", [("Hank Scorpio", "hank@example.com"), ("Homer Simpson", "homer@example.com")]),
    ] {
        let admin_email = format!("admin@{slug}.test");
        let staff_email = format!("staff@{slug}.test");
        let signup = expect(
            router,
            "POST",
            "/api/auth/signup",
            None,
            json!({"email": admin_email, "password": PASSWORD, "company_name": name}),
        )
        .await
        .map_err(|e| format!("{e} (already seeded? seed works on an empty database)"))?;
        let token = signup["access"].as_str().ok_or("signup returned no access token")?.to_string();
        let company_id = signup["company"]["id"].as_str().ok_or("signup returned no company id")?.to_string();

        // The staff user signs up (getting a company of their own) and joins this one.
        expect(
            router,
            "POST",
            "/api/auth/signup",
            None,
            json!({"email": staff_email, "password": PASSWORD, "company_name": format!("{name} (staff sandbox)")}),
        )
        .await?;
        expect(router, "POST", "/api/members", Some(&token), json!({"email": staff_email, "role": "staff"})).await?;

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
