//! A non-retriable error's reason (`Classify::why_permanent`) on its line:
//! in the `reason` field, for a log pipeline that filters on fields, and at
//! the end of the message; left out when the error gives none. The error
//! is asked once for both, however many layers format the line, and never
//! for a line that is not written. Sync and async, through `#[retry]` and
//! the functional form.

use std::cell::Cell;

use retry_runtime::{retry, testing, Classify, ErrorKind, KindSet, Policy, RetryOn};
use testkit::written::Written;
use tracing::Level;

thread_local! {
    /// How many times this thread's errors were asked why.
    static ASKED: Cell<u32> = const { Cell::new(0) };
}

/// The questions asked since the last call.
fn asked() -> u32 {
    ASKED.with(|asked| asked.replace(0))
}

/// A `Permanent` error that says why (`Some`) or not (`None`), and counts
/// the questions.
#[derive(Debug, thiserror::Error)]
#[error("clip 7 is gone")]
struct Gone(Option<&'static str>);

impl Classify for Gone {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Permanent
    }

    fn why_permanent(&self) -> Option<&'static str> {
        ASKED.with(|asked| asked.set(asked.get() + 1));
        self.0
    }
}

/// What a `Gone` says why.
type Why = Option<&'static str>;

const WHY: Why = Some("the clip does not exist");

/// A non-retriable error's line at WARN, the default.
const CLIP: Policy<RetryOn> = Policy::new()
    .with_name("clip")
    .with_max_attempts(3)
    .retry_on(KindSet::TRANSIENT);

/// The same, for a caller that expects such errors: its line at DEBUG.
const QUIET: Policy<RetryOn> = CLIP.with_non_retriable_level(Level::DEBUG);

#[retry(policy = CLIP)]
fn fetch(why: Option<&'static str>) -> Result<(), Gone> {
    Err(Gone(why))
}

#[retry(policy = CLIP)]
async fn fetch_async(why: Option<&'static str>) -> Result<(), Gone> {
    Err(Gone(why))
}

#[retry(policy = QUIET)]
fn fetch_quietly(why: Option<&'static str>) -> Result<(), Gone> {
    Err(Gone(why))
}

#[retry(policy = QUIET)]
async fn fetch_quietly_async(why: Option<&'static str>) -> Result<(), Gone> {
    Err(Gone(why))
}

/// Calls each form of a call that fails on `Gone(why)`, sync and async,
/// the attribute and the functional form, at `CLIP`'s level (WARN) or,
/// `quiet`, `QUIET`'s (DEBUG); `after` is told each form's name after its
/// call.
fn each_form(quiet: bool, why: Why, mut after: impl FnMut(&str)) {
    let policy = if quiet { QUIET } else { CLIP };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = if quiet {
        fetch_quietly(why)
    } else {
        fetch(why)
    };
    assert!(out.is_err());
    after("#[retry] fn");
    let out = if quiet {
        runtime.block_on(fetch_quietly_async(why))
    } else {
        runtime.block_on(fetch_async(why))
    };
    assert!(out.is_err());
    after("#[retry] async fn");
    assert!(policy.retry(|| Err::<(), _>(Gone(why))).call().is_err());
    after("policy.retry(op).call()");
    let out = runtime.block_on(async {
        policy
            .retry(|| async move { Err::<(), _>(Gone(why)) })
            .await
    });
    assert!(out.is_err());
    after("policy.retry(op).await");
}

/// The line, as `testing::capture_logs` writes it (tracing-subscriber's
/// text format): the reason in the message and, quoted as a `&str` field
/// is, in `reason`, between `error_kind` and `outcome`; asked once. (The
/// attribute's `policy = CLIP` keeps the policy's name, `clip`.)
#[test]
fn the_reason_is_a_field_and_ends_the_message() {
    let logs = testing::capture_logs().unwrap();
    asked();
    let mut n = 0;
    each_form(false, WHY, |form| {
        assert_eq!(
            asked(),
            1,
            "{form}: asked once for the field and the message"
        );
        let lines = logs.lines_at(Level::WARN);
        n += 1;
        assert_eq!(lines.len(), n, "{form}: {logs}");
        let line = &lines[n - 1];
        assert!(
            line.starts_with(
                "WARN retry_runtime: clip failed with a non-retriable error on attempt 1 \
                 (the clip does not exist) operation=\"clip\""
            ),
            "{form}: {line}"
        );
        assert!(
            line.ends_with(
                " error=clip 7 is gone error_kind=\"Permanent\" \
                 reason=\"the clip does not exist\" outcome=\"permanent_error\""
            ),
            "{form}: {line}"
        );
    });
    assert_eq!(n, 4);
}

/// An error that gives no reason: no `reason` field (tracing records
/// nothing for `None`), the message as it was; asked once all the same.
#[test]
fn no_reason_no_field() {
    let logs = testing::capture_logs().unwrap();
    asked();
    let mut n = 0;
    each_form(false, None, |form| {
        assert_eq!(asked(), 1, "{form}");
        let lines = logs.lines_at(Level::WARN);
        n += 1;
        assert_eq!(lines.len(), n, "{form}: {logs}");
        let line = &lines[n - 1];
        assert!(
            line.contains(" failed with a non-retriable error on attempt 1 operation="),
            "{form}: {line}"
        );
        assert!(!line.contains("reason="), "{form}: {line}");
        assert!(
            line.ends_with(" error_kind=\"Permanent\" outcome=\"permanent_error\""),
            "{form}: {line}"
        );
    });
    assert_eq!(n, 4);
}

/// The binary's global subscriber, `testing::capture_logs`'s (testkit's
/// captures install it too), installed before a test's scoped one: it
/// answers "sometimes" for every callsite, so a scoped subscriber at INFO
/// caches "never" for no DEBUG line of the tests beside it, and each line
/// is asked of the scope that is this thread's.
fn global_capture() {
    drop(testing::capture_logs().unwrap());
}

/// A subscriber at INFO (a service's usual filter): the WARN line is
/// written and asks once; the DEBUG line of a policy that expects such
/// errors is not written and never asks, in every form.
#[test]
fn a_line_not_written_never_asks() {
    let written = Written::default();
    let writer = written.clone();
    let at_info = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    global_capture();
    tracing::subscriber::with_default(at_info, || {
        asked();
        each_form(true, WHY, |form| {
            assert_eq!(asked(), 0, "{form}: asked for a line not written");
        });
        assert_eq!(written.text(), "");
        each_form(false, WHY, |form| assert_eq!(asked(), 1, "{form}"));
    });
    let text = written.text();
    assert_eq!(text.lines().count(), 4, "{text}");
    for line in text.lines() {
        assert!(
            line.contains("(the clip does not exist)")
                && line.contains(" reason=\"the clip does not exist\" "),
            "{line}"
        );
    }
}

/// Two layers that each format the line (a terminal's and a file's, or a
/// JSON layer beside them) share one answer: the error is asked once per
/// line, not once per layer and again for the field.
#[test]
fn two_layers_formatting_the_line_ask_once() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let (first, second) = (Written::default(), Written::default());
    let (one, two) = (first.clone(), second.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || one.clone())
                .with_ansi(false)
                .without_time(),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || two.clone())
                .with_ansi(false)
                .without_time(),
        );
    global_capture();
    tracing::subscriber::with_default(subscriber, || {
        asked();
        each_form(false, WHY, |form| assert_eq!(asked(), 1, "{form}"));
    });
    assert_eq!(first.text(), second.text());
    assert_eq!(
        first.text().matches("(the clip does not exist)").count(),
        4,
        "{}",
        first.text()
    );
}
