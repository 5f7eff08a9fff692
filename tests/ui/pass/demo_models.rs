// The demo app's three models, exactly as an app would write them.
use tenant_core::{Resource, TenantEnum, tenant_resource};

#[tenant_resource(table = "customers", path = "/api/customers", delete = "admin")]
#[derive(Debug, Clone)]
pub struct Customer {
    #[field(unique, filter, search, order, email)]
    pub email: String,
    #[field(search, order, len = 1..=200)]
    pub name: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, TenantEnum)]
pub enum InvoiceStatus {
    Draft,
    Sent,
    Paid,
}

#[tenant_resource(table = "invoices", path = "/api/invoices")]
pub struct Invoice {
    #[field(references = Customer, filter)]
    pub customer_id: uuid::Uuid,
    #[field(unique, filter, order, search, len = 1..=32)]
    pub number: String,
    #[field(order, range = 0.., lookups = "gte, lte")]
    pub amount_cents: i64,
    #[field(filter, lookups = "in", default = InvoiceStatus::Draft)]
    pub status: InvoiceStatus,
    #[field(order, lookups = "gte, lte, isnull")]
    pub issued_on: Option<chrono::NaiveDate>,
}

/// A resource whose rows any member may delete.
#[tenant_resource(delete = "staff")]
pub struct Note {
    pub text: String,
}

fn main() {
    use tenant_core::row::Values;
    use tenant_core::{FieldType, Role, Value};

    let customers = <Customer as Resource>::DESC;
    assert_eq!(customers.name, "Customer");
    assert_eq!(customers.singular, "customer");
    assert_eq!((customers.table, customers.path), ("customers", "/api/customers"));
    assert_eq!(customers.permissions.delete, Role::Admin);
    assert_eq!(customers.permissions.create, Role::Staff);
    let names: Vec<&str> = customers.fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["email", "name", "phone", "notes"]);
    let email = customers.field("email").unwrap();
    assert!(email.unique && email.filter && email.search && email.order && email.email && email.required);
    let name = customers.field("name").unwrap();
    assert_eq!((name.min_len, name.max_len), (Some(1), Some(200)));
    let phone = customers.field("phone").unwrap();
    assert!(phone.nullable && !phone.required);
    assert_eq!((phone.min_len, phone.max_len), (None, Some(50)));
    let notes = customers.field("notes").unwrap();
    assert!(!notes.required && !notes.nullable);
    assert_eq!((notes.default.unwrap())(), Value::Text(Some(String::new())));
    assert_eq!(
        customers.sql.update,
        "UPDATE customers SET updated_at = $3, email = $4, name = $5, phone = $6, notes = $7 WHERE company_id = $1 AND id = $2"
    );

    let products = <Product as Resource>::DESC;
    // No `delete = …`: deleting is an admin's (API.md); create and update are any member's.
    assert_eq!(products.permissions.delete, Role::Admin);
    assert_eq!((products.permissions.create, products.permissions.update), (Role::Staff, Role::Staff));
    // The setting lowers it.
    assert_eq!(<Note as Resource>::DESC.permissions.delete, Role::Staff);
    let price = products.field("price_cents").unwrap();
    assert_eq!((price.ty, price.min, price.max), (FieldType::I64, Some(0.0), None));
    assert_eq!((products.field("active").unwrap().default.unwrap())(), Value::Bool(Some(true)));

    let invoices = <Invoice as Resource>::DESC;
    let customer_id = invoices.field("customer_id").unwrap();
    let reference = customer_id.references.unwrap();
    assert_eq!((reference.table(), reference.resource()), ("customers", "customer"));
    assert_eq!(reference.target().name, "Customer");
    assert_eq!(reference.exists(), "SELECT 1 FROM customers WHERE company_id = $1 AND id = $2");
    let status = invoices.field("status").unwrap();
    assert_eq!(status.ty, FieldType::Choice(&["draft", "sent", "paid"]));
    assert_eq!((status.default.unwrap())(), Value::Text(Some("draft".into())));
    assert!(invoices.field("issued_on").unwrap().nullable);
    // API.md's lookups, and none elsewhere.
    use tenant_core::{Lookup, Lookups};
    assert_eq!(price.lookups, Lookups::of(&[Lookup::Gte, Lookup::Lte]));
    assert_eq!(invoices.field("amount_cents").unwrap().lookups, Lookups::of(&[Lookup::Gte, Lookup::Lte]));
    assert_eq!(status.lookups, Lookups::of(&[Lookup::In]));
    let issued_on = invoices.field("issued_on").unwrap().lookups;
    assert_eq!(issued_on, Lookups::of(&[Lookup::Gte, Lookup::Lte, Lookup::IsNull]));
    assert!(customers.fields.iter().all(|f| f.lookups.is_empty()));
    assert!(products.field("sku").unwrap().lookups.is_empty());

    // The model decodes a row in SYSTEM_COLUMNS-then-fields order and serializes to the API shape.
    let id = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    let row = vec![
        Value::Uuid(Some(id)),
        Value::Uuid(Some(id)),
        Value::Timestamp(Some(now)),
        Value::Timestamp(Some(now)),
        Value::Uuid(Some(id)),
        Value::Text(Some("F-1".into())),
        Value::I64(Some(1200)),
        Value::Text(Some("sent".into())),
        Value::Date(None),
    ];
    let invoice = Invoice::from_row(&mut Values::new(row)).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Sent);
    let json = serde_json::to_value(&invoice).unwrap();
    assert_eq!(json["status"], "sent");
    assert_eq!(json["issued_on"], serde_json::Value::Null);
    assert_eq!(json["company_id"], id.to_string());
    assert!(Invoice::from_row(&mut Values::new(vec![Value::Text(None)])).is_err());
    // A NULL in a non-nullable field and an unknown choice are decode errors naming the column.
    let mut bad = vec![Value::Uuid(Some(id)), Value::Uuid(Some(id)), Value::Timestamp(Some(now)), Value::Timestamp(Some(now))];
    bad.extend([Value::Uuid(Some(id)), Value::Text(None)]);
    assert_eq!(Invoice::from_row(&mut Values::new(bad)).map(drop).unwrap_err().column, "number");
    let mut bad = vec![Value::Uuid(Some(id)), Value::Uuid(Some(id)), Value::Timestamp(Some(now)), Value::Timestamp(Some(now))];
    bad.extend([Value::Uuid(Some(id)), Value::Text(Some("F-2".into())), Value::I64(Some(1)), Value::Text(Some("lost".into()))]);
    assert_eq!(Invoice::from_row(&mut Values::new(bad)).map(drop).unwrap_err().column, "status");

    // The request bodies.
    let input = CustomerInput { email: "a@b.c".into(), name: "A".into(), phone: None, notes: None };
    assert_eq!(serde_json::to_value(&input).unwrap(), serde_json::json!({"email": "a@b.c", "name": "A", "phone": null}));
    let patch = CustomerPatch { phone: Some(None), ..Default::default() };
    assert_eq!(serde_json::to_value(&patch).unwrap(), serde_json::json!({"phone": null}));
    let patch: CustomerPatch = serde_json::from_str(r#"{"phone": null, "name": "B"}"#).unwrap();
    assert_eq!((patch.phone, patch.name.as_deref(), patch.email), (Some(None), Some("B"), None));
    let patch: CustomerPatch = serde_json::from_str("{}").unwrap();
    assert_eq!(patch.phone, None);
    assert!(serde_json::from_str::<CustomerPatch>(r#"{"name": null}"#).is_err(), "name is not nullable");
    let input: InvoiceInput =
        serde_json::from_value(serde_json::json!({"customer_id": id, "number": "F-2", "amount_cents": 5})).unwrap();
    assert_eq!(input.status, None);
    assert_eq!(input.issued_on, None);

    // The routers build (the runtime's CRUD routes).
    let _router: tenant_core::__private::axum::Router<tenant_core::AppState> =
        Customer::router().merge(Product::router()).merge(Invoice::router());
}
