use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Note<T> {
    pub body: T,
}

fn main() {}
