use tenant_core::tenant_resource;

// Lookups are a string of django-filter names, each once.
#[tenant_resource]
pub struct Product {
    #[field(lookups = "gte, lte, gtee")]
    pub price_cents: i64,
    #[field(lookups = "in, in")]
    pub sku: String,
    #[field(lookups = in)]
    pub name: String,
    #[field(filter, lookups = "exact")]
    pub color: String,
}

fn main() {}
