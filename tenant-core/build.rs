// sqlx's `migrate!` reads the core migrations at compile time but does not ask Cargo to rebuild
// when a file is added to their folders (sqlx's documentation of `migrate!`): this does.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
