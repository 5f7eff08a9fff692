use tenant_core::tenant_resource;

#[tenant_resource]
#[derive(Debug, serde::Serialize)]
pub struct Product {
    #[serde(rename = "title")]
    pub name: String,
}

fn main() {}
