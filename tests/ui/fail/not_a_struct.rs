use tenant_core::tenant_resource;

#[tenant_resource]
pub enum Status {
    Draft,
    Sent,
}

fn main() {
    // The enum is still emitted, so this line adds no second error.
    let _ = Status::Draft;
}
