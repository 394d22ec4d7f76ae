//! retry-runtime with `default-features = false, features = ["macros", "log"]`
//! (`log`: tests/log.rs):
//! no async runtime in the tree (tests/runtimes/ checks `cargo tree`), and
//! everything sync works: `#[retry]`, presets, the functional API, the
//! circuit breaker and the retry budget.

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::{
    CircuitBreaker, CircuitOpen, Classify, Policy, RetryBudget, StopReason, presets, retry, testing,
};

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
#[classify(default = Unavailable)]
enum Fail {
    #[error("Down")]
    Down,
    #[error("Open")]
    Open,
}

impl From<CircuitOpen> for Fail {
    fn from(_: CircuitOpen) -> Self {
        Fail::Open
    }
}

thread_local!(static CALLS: Cell<u32> = const { Cell::new(0) });

fn down_until(n: u32) -> Result<u32, Fail> {
    let calls = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if calls < n {
        Err(Fail::Down)
    } else {
        Ok(calls)
    }
}

#[retry(preset = "webhook")]
fn send() -> Result<u32, Fail> {
    down_until(3)
}

#[test]
fn a_sync_annotated_fn_retries_with_its_preset_waits() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    assert_eq!(send(), Ok(3));
    assert_eq!(
        paused.waits(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
}

#[test]
fn presets_and_the_functional_api_work_sync() {
    CALLS.with(|c| c.set(0));
    let _paused = testing::pause();
    let ok = presets::QUICK
        .with_max_attempts(3)
        .retry(|| down_until(2))
        .detailed()
        .call()
        .unwrap();
    assert_eq!((ok.value, ok.attempts), (2, 2));
}

static BREAKER: CircuitBreaker = CircuitBreaker::new("sync-only").with_failures(2);
static BUDGET: RetryBudget = RetryBudget::new("sync-only");

#[test]
fn the_breaker_and_the_budget_work_without_an_async_runtime() {
    CALLS.with(|c| c.set(0));
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_max_attempts(5)
        .with_circuit(&BREAKER)
        .with_budget(&BUDGET);
    let e = policy
        .retry(|| down_until(100))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::CircuitOpen));
    // open: the next call is rejected without being made
    let before = CALLS.with(Cell::get);
    assert_eq!(policy.retry(|| down_until(1)).call(), Err(Fail::Open));
    assert_eq!(CALLS.with(Cell::get), before);
    assert!(BUDGET.stats().first_attempts >= 1);
}

/// Async `#[retry]` with no runtime feature does not compile, and the error
/// names the features to turn on.
#[test]
fn async_retry_without_a_runtime_feature_names_the_features() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

/// Each async `#[retry]` gets that error once in an incremental build too,
/// which a user's `cargo check` is and trybuild's is not: rustc checked
/// the timer's bound again at the loop's `.await` (the opaque future of a
/// function generic over the sleeper needs it), and reported it a second
/// time there, only with incremental compilation on.
#[test]
fn async_retry_without_a_runtime_feature_is_one_error_per_function_incrementally() {
    use std::path::Path;
    use std::process::Command;

    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Path::new(env!("CARGO_TARGET_TMPDIR")).join("incremental");
    std::fs::create_dir_all(&project).unwrap();
    let manifest = format!(
        "[package]\nname = \"one-error-per-fn\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [[bin]]\nname = \"one-error-per-fn\"\npath = {fixture:?}\n\n\
         [dependencies]\nretry-runtime = {{ path = {runtime:?}, default-features = false, features = [\"macros\"] }}\n\n\
         [workspace]\n",
        fixture = here.join("tests/incremental/one_error_per_fn.rs"),
        runtime = here.join("../../retry-runtime"),
    );
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    // the versions this crate is tested with
    std::fs::copy(here.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();

    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["check", "--offline", "--message-format=short"])
        .current_dir(&project)
        .env("CARGO_INCREMENTAL", "1")
        .env("CARGO_TARGET_DIR", project.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("error[E0277]"))
        .collect();
    assert!(
        errors
            .iter()
            .all(|l| l.contains("an async `#[retry]` needs an async timer")),
        "{stderr}"
    );
    // one per annotated function: five
    assert_eq!(errors.len(), 5, "{stderr}");
}

/// Without a timer feature the timer is the program's own: under
/// `testing::pause` a wait `should_sleep` is asked about is virtual
/// (recorded once, the thread's clock advanced, nothing to sleep), as on
/// smol's and futures-timer's.
#[test]
fn should_sleep_is_virtual_under_pause_without_a_timer_feature() {
    use retry_runtime::sleep::should_sleep;
    let s = Duration::from_secs;
    assert!(should_sleep(s(5)), "real time: there is a wait to sleep");
    let paused = testing::pause();
    assert!(!should_sleep(s(5)));
    assert!(!should_sleep(Duration::ZERO));
    assert_eq!(paused.waits(), [s(5), Duration::ZERO]);
}

/// A blocking sleeper of the program's (one a Ctrl-C handler would wake)
/// that hands its wait to `sleep_sync` under `testing::pause`: each wait
/// recorded once and virtual, so `max_elapsed` counts it.
#[test]
fn a_sleeper_of_yours_is_virtual_in_tests_through_is_paused() {
    use retry_runtime::sleep::sleep_sync;
    let s = Duration::from_secs;
    let paused = testing::pause();
    let started = std::time::Instant::now();
    let e = Policy::new()
        .with_max_attempts(100)
        .with_backoff(retry_runtime::Backoff::fixed(s(1)))
        .with_max_elapsed(s(10))
        .retry(|| Err::<(), _>(Fail::Down))
        .sleep_with(|wait: Duration| {
            if testing::is_paused() {
                return sleep_sync(wait);
            }
            std::thread::sleep(wait);
        })
        .detailed()
        .call()
        .unwrap_err();
    assert!(started.elapsed() < s(1), "no wait slept");
    assert_eq!(e.reason, StopReason::Deadline);
    // (a retry is not started at or after `max_elapsed`: the tenth would be)
    assert_eq!(paused.waits(), vec![s(1); 9]);
}

/// An async `#[retry]` with no timer feature at all: the program's own
/// timer given with `sleeper = ..` (here one that writes the wait down and
/// ends at once), driven by a hand-written `block_on`, with no async
/// runtime anywhere.
#[test]
fn an_async_retry_runs_on_a_sleeper_of_yours_without_a_timer_feature() {
    use std::cell::RefCell;
    use std::future::{Future, Ready, ready};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    fn block_on<F: Future>(future: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            match future.as_mut().poll(&mut cx) {
                Poll::Ready(out) => return out,
                Poll::Pending => std::thread::park(),
            }
        }
    }

    #[retry(attempts = 3, backoff = "exp(1s, 4s)", sleeper = |wait| { slept.borrow_mut().push(wait); ready(()) })]
    async fn fetch(slept: &RefCell<Vec<Duration>>) -> Result<u32, Fail> {
        down_until(3)
    }

    CALLS.with(|c| c.set(0));
    let slept = RefCell::new(Vec::new());
    let _: fn(Duration) -> Ready<()> = |_| ready(()); // (a sleeper's shape)
    assert_eq!(block_on(fetch(&slept)), Ok(3));
    let s = Duration::from_secs;
    assert_eq!(*slept.borrow(), [s(1), s(2)]);
}
