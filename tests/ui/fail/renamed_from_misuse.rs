use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Task {
    #[field(renamed_from = "Old Title")]
    pub title: String,
    #[field(renamed_from = "note")]
    pub note: Option<String>,
    #[field(renamed_from = 3)]
    pub body: String,
}

fn main() {}
