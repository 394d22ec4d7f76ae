//! Clippy still lints the user's own code inside a `#[retry]` body: ui
//! cases under tests/ui_clippy/, each with its .stderr, compiled by
//! clippy-driver (trybuild runs cargo, and cargo runs the ui crate's rustc
//! through `RUSTC_WORKSPACE_WRAPPER`; its dependencies are built as usual).
//! That the expansions themselves add no clippy warning is `strict/`'s job.
//! Regenerate snapshots with
//! `TRYBUILD=overwrite cargo test -p retry-compile-tests --test ui_clippy`,
//! with clippy 1.95: the snapshots are its messages (as `ui`'s are rustc
//! 1.95's), and with 1.97 nightly's clippy both cases fail as mismatches.

use std::path::PathBuf;

/// clippy-driver beside the cargo running the tests (rustup installs both
/// in the toolchain's `bin/`), else the one on `PATH`.
fn clippy_driver() -> PathBuf {
    let exe = format!("clippy-driver{}", std::env::consts::EXE_SUFFIX);
    std::env::var_os("CARGO")
        .map(|cargo| PathBuf::from(cargo).with_file_name(&exe))
        .filter(|driver| driver.is_file())
        .unwrap_or_else(|| PathBuf::from(exe))
}

#[test]
fn ui_clippy() {
    let driver = clippy_driver();
    let found = std::process::Command::new(&driver)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "{} did not run: install clippy (`rustup component add clippy`)",
        driver.display()
    );
    // (this test binary holds this one test: nothing else reads the environment)
    std::env::set_var("RUSTC_WORKSPACE_WRAPPER", &driver);
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_clippy/fail_*.rs");
}
