//! Reading list pages (DRF's `PageNumberPagination` shape) and filling one, shared by the list
//! tests.

use serde_json::{Value, json};

use crate::{Auth, Resp, TestApp};

#[track_caller]
pub fn results(r: &Resp) -> &Vec<Value> {
    r.body["results"].as_array().unwrap_or_else(|| panic!("no results list in {}", r.text))
}

#[track_caller]
pub fn strings(r: &Resp, field: &str) -> Vec<String> {
    results(r).iter().map(|o| o[field].as_str().unwrap_or_else(|| panic!("{field} in {o}")).to_string()).collect()
}

#[track_caller]
pub fn ints(r: &Resp, field: &str) -> Vec<i64> {
    results(r).iter().map(|o| o[field].as_i64().unwrap_or_else(|| panic!("{field} in {o}"))).collect()
}

#[track_caller]
pub fn count(r: &Resp) -> u64 {
    r.body["count"].as_u64().unwrap_or_else(|| panic!("no count in {}", r.text))
}

/// `s` percent-encoded for a query string (every byte but ASCII letters and digits).
pub fn percent_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Creates `n` customers named `Customer 00`..; returns them in creation order.
pub async fn customers(app: &TestApp, auth: &Auth, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            app.create(
                "/api/customers",
                auth,
                json!({"name": format!("Customer {i:02}"), "email": format!("c{i:02}@example.com")}),
            )
            .await,
        );
    }
    out
}

#[track_caller]
pub fn assert_page_shape(r: &Resp) {
    let obj = r.body.as_object().unwrap_or_else(|| panic!("a page is an object: {}", r.text));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["count", "next", "previous", "results"], "page keys: {}", r.text);
    assert!(obj["count"].is_u64());
    assert!(obj["next"].is_null() || obj["next"].is_string());
    assert!(obj["previous"].is_null() || obj["previous"].is_string());
    assert!(obj["results"].is_array());
}
