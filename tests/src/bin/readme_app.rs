//! README's "Declaring a resource" app, verbatim (keep the two in step): a new user's `main`,
//! with no logging set up. `tests/tests/startup.rs` runs it to prove that the documented path
//! refuses to serve when row-level security would be bypassed, and says why on stderr.

use tenant_core::{TenantEnum, tenant_resource};

#[tenant_resource(table = "customers", path = "/api/customers", delete = "admin")]
pub struct Customer {
    #[field(search, order, len = 1..=200)]
    pub name: String,
    #[field(unique, filter, search, order, email)]
    pub email: String,
    #[field(len = ..=50)]
    pub phone: Option<String>, // Option: optional and nullable
    #[field(default)]
    pub notes: String, // absent on create → ""
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, TenantEnum)]
pub enum InvoiceStatus {
    Draft,
    Sent,
    Paid,
} // stored and sent as "draft", "sent", "paid"

#[tenant_resource(table = "invoices", path = "/api/invoices")]
pub struct Invoice {
    #[field(references = Customer, filter)] // must be a customer of the same company
    pub customer_id: uuid::Uuid,
    #[field(unique, filter, order, search, len = 1..=32)]
    pub number: String,
    #[field(order, range = 0.., lookups = "gte, lte")] // ?amount_cents__gte=1000
    pub amount_cents: i64,
    #[field(filter, lookups = "in", default = InvoiceStatus::Draft)] // ?status__in=sent,paid
    pub status: InvoiceStatus,
    #[field(order, lookups = "gte, lte, isnull")] // ?issued_on__isnull=true
    pub issued_on: Option<chrono::NaiveDate>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = tenant_core::Config::from_env()?; // DATABASE_URL, JWT_SECRET, BIND_ADDR, …
    let addr = config.bind_addr;
    let app = tenant_core::App::connect(config).await?.resource::<Customer>().resource::<Invoice>();
    app.migrate().await?; // core tables + each resource's table, if missing
    let server = tenant_core::Server::from_app(app).await?; // refuses if the serving role escapes
    // RLS, or if the tables differ from the models
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    server.run(listener).await?; // until SIGTERM or Ctrl-C, then a graceful shutdown
    Ok(())
}
