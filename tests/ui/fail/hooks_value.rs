// `hooks` is a flag: the hooks themselves are an `impl tenant_core::Hooks`.
use tenant_core::tenant_resource;

#[tenant_resource(table = "tasks", hooks = true)]
pub struct Task {
    pub title: String,
}

fn main() {}
