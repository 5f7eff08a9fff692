fn main() {
    // A new migration file is compiled in by `embed_migrations!`: rebuild when the folder changes.
    println!("cargo:rerun-if-changed=migrations");
}
