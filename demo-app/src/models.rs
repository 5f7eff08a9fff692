//! The demo's tenant-owned resources, exactly as API.md describes them.

use chrono::NaiveDate;
use tenant_core::{TenantEnum, tenant_resource};
use uuid::Uuid;

#[tenant_resource(table = "customers", path = "/api/customers", delete = "admin")]
pub struct Customer {
    #[field(search, order, len = 1..=200)]
    pub name: String,
    #[field(unique, filter, search, order, email)]
    pub email: String,
    #[field(len = ..=50)]
    pub phone: Option<String>,
    #[field(default)]
    pub notes: String,
}

#[tenant_resource(table = "products", path = "/api/products")]
pub struct Product {
    #[field(unique, filter, order, len = 1..=64)]
    pub sku: String,
    #[field(search, order, len = 1..=200)]
    pub name: String,
    #[field(order, range = 0.., lookups = "gte, lte")]
    pub price_cents: i64,
    #[field(filter, default = true)]
    pub active: bool,
}

/// Where an invoice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TenantEnum)]
pub enum InvoiceStatus {
    Draft,
    Sent,
    Paid,
}

#[tenant_resource(table = "invoices", path = "/api/invoices")]
pub struct Invoice {
    #[field(references = Customer, filter)]
    pub customer_id: Uuid,
    #[field(unique, filter, order, search, len = 1..=32)]
    pub number: String,
    #[field(order, range = 0.., lookups = "gte, lte")]
    pub amount_cents: i64,
    #[field(filter, lookups = "in", default = InvoiceStatus::Draft)]
    pub status: InvoiceStatus,
    #[field(order, lookups = "gte, lte, isnull")]
    pub issued_on: Option<NaiveDate>,
}
