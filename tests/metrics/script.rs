//! The operation every test retries: it fails as scripted (this thread's
//! script), then succeeds; and the five forms that run it.

use std::cell::Cell;
use std::io;
use std::time::Duration;

use retry_runtime::metrics::{Outcome, ATTEMPTS, CALLS, RETRIES, WAIT};
use testkit::metrics::Recorded;

thread_local!(static SCRIPT: Cell<(u32, io::ErrorKind)> = const { Cell::new((0, io::ErrorKind::TimedOut)) });

/// The next `fails` calls of [`step`] fail with `kind`; then it succeeds.
pub fn fail(fails: u32, kind: io::ErrorKind) {
    SCRIPT.with(|s| s.set((fails, kind)));
}

/// One attempt.
pub fn step() -> io::Result<u32> {
    SCRIPT.with(|s| match s.get() {
        (0, _) => Ok(7),
        (n, kind) => {
            s.set((n - 1, kind));
            Err(io::Error::from(kind))
        }
    })
}

/// [`step`] as an async attempt.
pub async fn step_async() -> io::Result<u32> {
    step()
}

/// Runs `fut` to its end on a current-thread runtime with a paused clock
/// (on this thread, so a local recorder sees what it records).
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(fut)
}

/// `rec` holds exactly one call of `operation`: ended with `outcome` after
/// `attempts` attempts and these `waits` (seconds) before its retries.
pub fn assert_one_call(
    rec: &Recorded,
    operation: &str,
    outcome: Outcome,
    attempts: u32,
    waits: &[f64],
    form: &str,
) {
    for &o in Outcome::ALL {
        let n = rec.counter(CALLS, &[("operation", operation), ("outcome", o.label())]);
        assert_eq!(n, u64::from(o == outcome), "{form}: {operation} {o:?}");
    }
    let op = [("operation", operation)];
    assert_eq!(
        rec.histogram(ATTEMPTS, &op),
        [f64::from(attempts)],
        "{form}: attempts"
    );
    assert_eq!(rec.histogram(WAIT, &op), waits, "{form}: waits");
    // each wait's retried failure, counted by its kind
    let retried: u64 = kind_labels()
        .map(|kind| {
            let labels = [("operation", operation), ("error_kind", kind)];
            rec.counter(retry_runtime::metrics::RETRIED_FAILURES, &labels)
        })
        .sum();
    assert_eq!(retried, waits.len() as u64, "{form}: retried failures");
    assert_eq!(
        rec.counter(RETRIES, &op),
        u64::from(attempts.saturating_sub(1)),
        "{form}: retries"
    );
}

/// The values of `retry_retried_failures_total`'s `error_kind`: every
/// kind's name, and `unclassified`.
pub fn kind_labels() -> impl Iterator<Item = &'static str> {
    retry_runtime::ErrorKind::ALL
        .iter()
        .map(|k| k.name())
        .chain(["unclassified"])
}

/// One second.
pub const S: Duration = Duration::from_secs(1);

/// [`testkit::metrics::record`], the metrics [enabled](retry_runtime::metrics::enable).
pub fn record<R>(f: impl FnOnce() -> R) -> (Recorded, R) {
    retry_runtime::metrics::enable();
    testkit::metrics::record(f)
}
