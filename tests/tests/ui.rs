//! Compile-time tests of `#[tenant_resource]` and `#[derive(TenantEnum)]`: every `ui/fail/*.rs`
//! must fail with exactly the errors in its `.stderr`, every `ui/pass/*.rs` must build and run.
//!
//! After a deliberate change to a message: `TRYBUILD=overwrite cargo test -p tests --test ui`,
//! then read the new `.stderr` files.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
