//! The runtime without tokio: the crates under `runtimes/` depend on
//! retry-runtime with `default-features = false` and one runtime feature
//! each (`smol`, `futures-timer`, none at all), and test it on that
//! runtime's own executor. They live outside the workspace, because a
//! workspace build unifies features and turns tokio on; this test builds
//! and runs each with its own features, warnings denied, and checks with
//! `cargo tree` that no tokio is in its dependency tree.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cargo() -> Command {
    // Set by `cargo test`; a plain `cargo` otherwise.
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // One target directory for the three, beside the workspace's own.
    cmd.env(
        "CARGO_TARGET_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtimes"),
    );
    // Warnings are errors, as CI's clippy makes them in the workspace: in
    // these crates, and in retry-runtime and retry-macros built with their
    // features (a cfg only a build without tokio compiles). Registry
    // crates are capped by cargo (`--cap-lints`); the flags are this
    // target directory's alone, so they rebuild nothing else. (Added to
    // the caller's RUSTFLAGS; CARGO_ENCODED_RUSTFLAGS, which would win,
    // is dropped. trybuild and the incremental test of sync-only drop
    // RUSTFLAGS for the projects they build.)
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    flags.push_str(" -D warnings");
    cmd.env("RUSTFLAGS", flags.trim_start())
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cmd
}

fn manifest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("runtimes")
        .join(name)
        .join("Cargo.toml")
}

/// Runs `cmd`, which must succeed: its stdout, and its stdout and stderr.
fn run(mut cmd: Command) -> (String, String) {
    let out = cmd.output().expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    (stdout, text)
}

fn no_tokio_and_tests_pass(name: &str) {
    let mut tree = cargo();
    tree.args(["tree", "-e", "normal", "--manifest-path"])
        .arg(manifest(name));
    // the tree is on stdout; stderr may name tokio while cargo fetches the
    // crates of the package's other dependencies ("Downloaded tokio ...")
    let (tree, _) = run(tree);
    assert!(tree.contains("retry-runtime"), "{tree}");
    assert!(
        !tree.contains("tokio"),
        "tokio in the tree of {name}:\n{tree}"
    );

    let mut test = cargo();
    test.args(["test", "--manifest-path"]).arg(manifest(name));
    let (_, out) = run(test);
    // every test binary passed, and together they ran some tests
    let passed: u32 = out
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert!(passed >= 3, "{name}: {passed} tests passed:\n{out}");
}

/// One test, so the three builds do not wait on each other's lock.
#[test]
fn the_runtime_works_on_smol_on_futures_timer_and_without_any_async_runtime() {
    for name in ["sync-only", "smol", "futures-timer"] {
        no_tokio_and_tests_pass(name);
    }
}
