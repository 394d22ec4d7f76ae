//! `--compile-time`: the debug build time of a crate of 200 `#[retry]`
//! functions against the same 200 functions without the attribute, and, for
//! reference, the same functions each wrapped in a hand-written retry loop.
//!
//! The crates are generated under `target/retry-bench-compile/`, each its own
//! workspace (with a copy of this workspace's `Cargo.lock`), all depending on
//! `retry-runtime` by path and sharing one target directory, so the
//! dependencies are built once, in a warm-up build. Then, three times for each
//! crate, in turn: touch `lib.rs`, time `cargo build`. Incremental
//! compilation is off (`CARGO_INCREMENTAL=0`), so each timed build compiles the
//! whole crate again (with it on, a touched but unchanged file is mostly
//! reused, which would time cargo rather than the expansion).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Functions per crate; the even ones sync, the odd ones async.
pub const FUNCTIONS: usize = 200;
/// Timed builds per crate.
pub const ROUNDS: usize = 3;

/// The attribute on each annotated function.
pub const ATTRIBUTE: &str =
    r#"#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Timeout | Connect)]"#;

/// One timed build: wall time, and the CPU time (user + system) of cargo and
/// the compiler, which a busy machine disturbs less (Linux only).
#[derive(Clone, Copy)]
pub struct Build {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

/// The generated crates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The 200 functions.
    Plain,
    /// Each function's body in a private function, called by a hand-written
    /// retry loop with the attribute's policy: what the attribute saves writing.
    HandLoop,
    /// Each function with [`ATTRIBUTE`].
    Annotated,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Plain, Kind::HandLoop, Kind::Annotated];

    fn dir_name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::HandLoop => "hand-loop",
            Kind::Annotated => "annotated",
        }
    }
}

/// Timed builds of each crate, in [`Kind::ALL`] order.
pub struct Timings {
    pub builds: [Vec<Build>; 3],
    /// Where the crates were generated.
    pub dir: PathBuf,
}

/// Generate the crates, warm up, and time the builds.
pub fn run() -> Result<Timings, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    let runtime = root.join("retry-runtime");
    let dir = root.join("target").join("retry-bench-compile");
    let crates = Kind::ALL
        .iter()
        .map(|&kind| write_crate(&dir, &root, &runtime, kind))
        .collect::<Result<Vec<_>, _>>()?;
    let target = dir.join("target");

    eprintln!(
        "compile time: warm-up builds (dependencies) in {}",
        dir.display()
    );
    for krate in &crates {
        cargo_build(krate, &target)?;
    }
    let mut builds: [Vec<Build>; 3] = Default::default();
    for round in 1..=ROUNDS {
        eprintln!("compile time: round {round}/{ROUNDS}");
        for (krate, times) in crates.iter().zip(&mut builds) {
            times.push(touch_and_build(krate, &target)?);
        }
    }
    Ok(Timings { builds, dir })
}

fn touch_and_build(krate: &Path, target: &Path) -> Result<Build, String> {
    let lib = krate.join("src").join("lib.rs");
    let file = fs::File::options()
        .append(true)
        .open(&lib)
        .map_err(|e| format!("{}: {e}", lib.display()))?;
    file.set_modified(std::time::SystemTime::now())
        .map_err(|e| format!("touch {}: {e}", lib.display()))?;
    drop(file);
    let cpu_before = children_cpu();
    let start = Instant::now();
    cargo_build(krate, target)?;
    let wall = start.elapsed();
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    Ok(Build { wall, cpu })
}

/// User + system time of this process's waited-for children, from
/// `/proc/self/stat` (fields 16 and 17, in clock ticks of 1/100 s).
fn children_cpu() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it do not.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cargo_build(krate: &Path, target: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .map_err(|e| format!("cargo build: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build of {} failed:\n{}",
            krate.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Write one crate; returns its directory.
fn write_crate(dir: &Path, root: &Path, runtime: &Path, kind: Kind) -> Result<PathBuf, String> {
    let name = kind.dir_name();
    let krate = dir.join(name);
    let io = |e: std::io::Error| format!("{}: {e}", krate.display());
    fs::create_dir_all(krate.join("src")).map_err(io)?;
    // The hand loops sleep on tokio's timer, as the attribute does; tokio is
    // already a dependency of retry-runtime, with the same feature.
    let tokio = if kind == Kind::HandLoop {
        "tokio = { version = \"1\", features = [\"time\"] }\n"
    } else {
        ""
    };
    let manifest = format!(
        "[package]\n\
         name = \"retry-bench-compile-{name}\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\n\
         [dependencies]\n\
         retry-runtime = {{ path = {runtime:?} }}\n\
         {tokio}\n\
         # its own workspace, not a member of the one it sits in\n\
         [workspace]\n",
        runtime = runtime.display().to_string(),
    );
    write_if_changed(&krate.join("Cargo.toml"), &manifest).map_err(io)?;
    let lock = krate.join("Cargo.lock");
    if !lock.exists() {
        // Same versions as the workspace, and no index update needed.
        if let Ok(text) = fs::read_to_string(root.join("Cargo.lock")) {
            fs::write(&lock, text).map_err(io)?;
        }
    }
    write_if_changed(&krate.join("src").join("lib.rs"), &lib_rs(kind)).map_err(io)?;
    Ok(krate)
}

/// Rewriting an unchanged file would only move its mtime: keep it.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text)
}

/// The crate's source: [`FUNCTIONS`] functions, then one function that polls
/// each async one once, so that their state machines are compiled too (a
/// library's unused async fn bodies may otherwise not reach code generation).
fn lib_rs(kind: Kind) -> String {
    let mut s = String::new();
    s.push_str("//! Generated by `retry-bench --compile-time`; do not edit.\n\n");
    s.push_str("use std::future::Future;\nuse std::io::{Error, ErrorKind};\n");
    match kind {
        Kind::Annotated => s.push_str("use retry_runtime::retry;\n"),
        Kind::HandLoop => s.push_str(HAND_LOOP_HELPERS),
        Kind::Plain => {}
    }
    for i in 0..FUNCTIONS {
        s.push('\n');
        let (asyncness, dot_await) = if i % 2 == 1 {
            ("async ", ".await")
        } else {
            ("", "")
        };
        let body = format!(
            "    if x == {i} {{\n        \
                 return Err(Error::from(ErrorKind::TimedOut));\n    \
             }}\n    \
             Ok(x.wrapping_mul(3).wrapping_add({i}))\n"
        );
        let sig = |name: &str| format!("{asyncness}fn {name}(x: u32) -> Result<u32, Error>");
        match kind {
            Kind::Plain => {
                let _ = write!(s, "pub {} {{\n{body}}}\n", sig(&format!("fetch_{i}")));
            }
            Kind::Annotated => {
                let _ = write!(
                    s,
                    "{ATTRIBUTE}\npub {} {{\n{body}}}\n",
                    sig(&format!("fetch_{i}"))
                );
            }
            Kind::HandLoop => {
                let sleep = if asyncness.is_empty() {
                    "std::thread::sleep(wait)"
                } else {
                    "tokio::time::sleep(wait).await"
                };
                let _ = write!(
                    s,
                    "{} {{\n{body}}}\n\n\
                     pub {} {{\n    \
                         let mut wait = FIRST;\n    \
                         for attempt in 1..=ATTEMPTS {{\n        \
                             match fetch_{i}_once(x){dot_await} {{\n            \
                                 Err(e) if attempt < ATTEMPTS && retriable(&e) => {{}}\n            \
                                 result => return result,\n        \
                             }}\n        \
                             {sleep};\n        \
                             wait = (wait * 2).min(CAP);\n    \
                         }}\n    \
                         unreachable!()\n\
                     }}\n",
                    sig(&format!("fetch_{i}_once")),
                    sig(&format!("fetch_{i}")),
                );
            }
        }
    }
    s.push_str("\n/// Polls each async function once.\n");
    s.push_str(
        "pub fn poll_all(cx: &mut std::task::Context<'_>) -> usize {\n    let mut ready = 0;\n",
    );
    for i in (1..FUNCTIONS).step_by(2) {
        let _ = writeln!(
            s,
            "    ready += usize::from(std::pin::pin!(fetch_{i}(1)).poll(cx).is_ready());"
        );
    }
    s.push_str("    ready\n}\n");
    s
}

/// The hand-written loops' policy: the attribute's, written out.
const HAND_LOOP_HELPERS: &str = "
const ATTEMPTS: u32 = 3;
const FIRST: std::time::Duration = std::time::Duration::from_secs(1);
const CAP: std::time::Duration = std::time::Duration::from_secs(4);

/// `retry_on = Timeout | Connect`, for `std::io::Error`.
fn retriable(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut
            | ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
    )
}
";
