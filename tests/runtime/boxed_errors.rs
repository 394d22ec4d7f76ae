//! A function whose error is `Box<dyn Error + Send + Sync>` (a handler
//! that returns whatever went wrong) is classified by its error's chain:
//! `retry_on` and the presets retry a boxed refused connection and give
//! up at once on a boxed error nothing is known about.

use std::cell::Cell;
use std::error::Error;
use std::io;
use std::time::Duration;

use retry_runtime::{presets, retry, testing, Classify, Decision, ErrorKind, StopReason};

type BoxError = Box<dyn Error + Send + Sync>;

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

fn call() -> u32 {
    CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

#[derive(Debug, thiserror::Error)]
#[error("fetching the thumbnail")]
struct Fetching(#[source] io::Error);

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Connect)]
fn refused_twice() -> Result<u32, BoxError> {
    let n = call();
    if n < 3 {
        // the refusal is a cause, under an error of the handler's own
        return Err(Fetching(io::ErrorKind::ConnectionRefused.into()).into());
    }
    Ok(n)
}

#[test]
fn a_boxed_error_is_retried_by_the_kind_of_its_cause() {
    let paused = testing::pause();
    CALLS.with(|c| c.set(0));
    assert_eq!(refused_twice().unwrap(), 3);
    assert_eq!(paused.waits(), [Duration::from_secs(1); 2]);
}

#[retry(preset = "webhook")]
fn unknown_failure() -> Result<u32, BoxError> {
    call();
    Err("the upstream said something odd".into())
}

#[test]
fn a_boxed_error_nothing_is_known_about_is_not_retried_by_a_preset() {
    let paused = testing::pause();
    CALLS.with(|c| c.set(0));
    assert!(unknown_failure().is_err());
    assert_eq!(CALLS.with(Cell::get), 1);
    assert!(paused.waits().is_empty());
}

#[test]
fn the_job_preset_decides_on_a_boxed_error() {
    let refused: BoxError = Box::new(io::Error::from(io::ErrorKind::ConnectionRefused));
    assert_eq!(refused.kind(), ErrorKind::Connect);
    assert!(matches!(
        presets::JOB.decide(0, &refused),
        Decision::Retry { .. }
    ));
    // `Unknown` too: a job runs at least once anyway
    let odd: BoxError = "odd".into();
    assert_eq!(odd.kind(), ErrorKind::Unknown);
    assert!(matches!(
        presets::JOB.decide(0, &odd),
        Decision::Retry { .. }
    ));
    let denied: BoxError = Box::new(io::Error::from(io::ErrorKind::PermissionDenied));
    assert_eq!(
        presets::JOB.decide(0, &denied),
        Decision::give_up(StopReason::Permanent)
    );
}

#[test]
fn a_boxed_timeout_or_breaker_rejection_keeps_its_kind_and_wait() {
    let open: BoxError = Box::new(retry_runtime::CircuitOpen::new(
        "upstream",
        Duration::from_secs(30),
    ));
    assert_eq!(open.kind(), ErrorKind::Unavailable);
    assert_eq!(open.retry_after(), Some(Duration::from_secs(30)));
}

/// `Box<dyn Error>` and `Box<dyn Error + Send>` keep a breaker
/// rejection's wait too, as `Box<dyn Error + Send + Sync>` does: the
/// Retry-After of each is read through its chain (nothing, or zero, was
/// read).
#[test]
fn every_boxed_error_form_keeps_a_breaker_rejections_wait() {
    let open = || retry_runtime::CircuitOpen::new("upstream", Duration::from_secs(30));
    let plain: Box<dyn Error> = Box::new(open());
    let send: Box<dyn Error + Send> = Box::new(open());
    assert_eq!(
        (plain.kind(), plain.retry_after()),
        (ErrorKind::Unavailable, Some(Duration::from_secs(30)))
    );
    assert_eq!(
        (send.kind(), send.retry_after()),
        (ErrorKind::Unavailable, Some(Duration::from_secs(30)))
    );
}

/// docs/classification.md: an `anyhow::Error` boxed by `?` starts its
/// chain at its error's source, so the error it was made from is not
/// found; `.context(..)` (or anyhow's reallocating box) keeps it. (Kept as
/// an `anyhow::Error`, feature `anyhow` finds it: below.)
#[test]
fn an_anyhow_error_boxed_by_question_mark_hides_its_own_error() {
    fn refused() -> anyhow::Result<()> {
        Err(io::Error::from(io::ErrorKind::ConnectionRefused).into())
    }
    fn boxed(r: anyhow::Result<()>) -> BoxError {
        let run = || -> Result<(), BoxError> { Ok(r?) };
        run().unwrap_err()
    }
    assert_eq!(boxed(refused()).kind(), ErrorKind::Unknown);
    use anyhow::Context as _;
    assert_eq!(
        boxed(refused().context("fetching")).kind(),
        ErrorKind::Connect
    );
    let kept = refused()
        .unwrap_err()
        .reallocate_into_boxed_dyn_error_without_backtrace();
    assert_eq!(kept.kind(), ErrorKind::Connect);
}

/// Feature `anyhow`: an `anyhow::Result` function takes `retry_on` and the
/// presets, its error classified by its chain as a boxed one is (the error
/// it was made from first, through any `.context(..)`), and returned as it
/// was (the same message, the same chain).
#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Connect)]
fn anyhow_refused_twice() -> anyhow::Result<u32> {
    use anyhow::Context as _;
    let n = call();
    if n < 3 {
        return Err(io::Error::from(io::ErrorKind::ConnectionRefused))
            .context("fetching the thumbnail");
    }
    Ok(n)
}

#[retry(preset = "api")]
fn anyhow_bail() -> anyhow::Result<u32> {
    call();
    anyhow::bail!("the thumbnail is corrupt")
}

#[test]
fn an_anyhow_result_is_retried_by_the_kind_of_its_chain() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    assert_eq!(anyhow_refused_twice().unwrap(), 3);
    assert_eq!(paused.waits(), [Duration::from_secs(1); 2]);

    // a message alone is Unknown: `api` gives up at once, the error as it was
    CALLS.with(|c| c.set(0));
    let error = anyhow_bail().unwrap_err();
    assert_eq!(CALLS.with(Cell::get), 1);
    assert_eq!(error.to_string(), "the thumbnail is corrupt");
    assert_eq!(error.kind(), ErrorKind::Unknown);

    // kept as itself (not boxed by `?`), the error it was made from is found
    let refused = anyhow::Error::new(io::Error::from(io::ErrorKind::ConnectionRefused));
    assert_eq!(refused.kind(), ErrorKind::Connect);
}

/// The log lines' `error` field is an `anyhow::Error`'s whole chain
/// (`{:#}`), not its outermost context alone, which says what was being
/// done but not why it failed.
#[test]
fn an_anyhow_errors_log_lines_show_its_chain() {
    use anyhow::Context;
    use testkit::capture::{capture, field};
    use tracing::Level;

    #[retry(attempts = 2, backoff = "none", retry_on = Connect)]
    fn load_profile() -> anyhow::Result<u32> {
        Err(io::Error::from(io::ErrorKind::ConnectionRefused)).context("loading the profile")
    }

    let logs = capture();
    let err = load_profile().unwrap_err();
    assert_eq!(err.to_string(), "loading the profile");
    let chain = "loading the profile: connection refused";
    let retry = logs.assert_logged(Level::WARN, "retrying load_profile");
    assert_eq!(field(&retry, "error"), Some(chain), "{retry}");
    let give_up = logs.assert_logged(Level::ERROR, "load_profile failed after 2 attempts");
    assert_eq!(field(&give_up, "error"), Some(chain), "{give_up}");
}
