//! Compile-fail (and compile-pass) tests of the macros: one file per error
//! under tests/ui/, each with its .stderr snapshot checked in.
//! Regenerate snapshots with `TRYBUILD=overwrite cargo test -p retry-compile-tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail_*.rs");
    t.compile_fail("tests/ui/derive_fail_*.rs");
    t.pass("tests/ui/pass_*.rs");
}
