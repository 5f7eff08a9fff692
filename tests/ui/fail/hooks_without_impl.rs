// A resource that declares `hooks` must implement `tenant_core::Hooks`.
use tenant_core::tenant_resource;

#[tenant_resource(table = "notes", hooks)]
pub struct Note {
    pub title: String,
}

fn main() {
    let _ = Note::router;
}
