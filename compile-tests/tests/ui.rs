//! Compile-fail (and compile-pass) tests of the macros: one file per error
//! under tests/ui/, each with its .stderr snapshot checked in.
//! Regenerate snapshots with `TRYBUILD=overwrite cargo test -p retry-compile-tests --test ui`.
//!
//! The snapshots are rustc 1.95's messages (the stable compiler on this
//! project's machines, CI's among them), and rustc's wording and notes
//! change between releases: with another rustc some cases fail as
//! mismatches (with 1.97 nightly, 5 of them), and snapshots regenerated
//! with another compiler fail on 1.95. Regenerate them with rustc 1.95
//! (`cargo +1.95.0 ...` if rustup has it).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail_*.rs");
    t.compile_fail("tests/ui/derive_fail_*.rs");
    t.pass("tests/ui/pass_*.rs");
    t.pass("tests/ui/derive_pass_*.rs");
}
