//! What the demos under `examples/` share: their log format and the checks
//! with which each demo proves its own story.

use std::error::Error;
use std::fmt::{self, Display};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use crate::flaky::FlakyServer;

/// A demo's result: `Err` says which part of its story did not happen.
pub type Outcome = Result<(), Box<dyn Error>>;

/// Logs INFO and above to stdout, one compact line per event, each starting
/// with the time since the demo started, so the waits between retries show.
/// Colours only on a terminal.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .compact()
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .with_timer(SinceStart(Instant::now()))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
}

/// Log lines start with the time since the program started: `  2.013s`.
struct SinceStart(Instant);

impl FormatTime for SinceStart {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let t = self.0.elapsed();
        write!(w, "{:>3}.{:03}s", t.as_secs(), t.subsec_millis())
    }
}

/// `Ok` if `ok`, else the error "the `story` story did not happen: expected
/// `expected`".
///
/// ```
/// use testkit::demo::ensure;
/// assert!(ensure("webhook", 3 == 3, "3 requests").is_ok());
/// let err = ensure("webhook", 2 == 3, "3 requests, got 2").unwrap_err();
/// assert_eq!(err.to_string(), "the webhook story did not happen: expected 3 requests, got 2");
/// ```
pub fn ensure(story: &str, ok: bool, expected: impl Display) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(format!("the {story} story did not happen: expected {expected}").into())
    }
}

/// `Ok` if `server` saw `expected` requests on `path`, else the error of
/// [`ensure`] ("expected 3 requests to /hooks/orders, got 2").
///
/// ```
/// use testkit::demo::ensure_hits;
/// let server = testkit::flaky::FlakyServer::start_blocking();
/// assert!(ensure_hits("webhook", &server, "/hooks/orders", 0).is_ok());
/// let err = ensure_hits("webhook", &server, "/hooks/orders", 1).unwrap_err();
/// assert_eq!(err.to_string(), "the webhook story did not happen: expected 1 request to /hooks/orders, got 0");
/// ```
pub fn ensure_hits(story: &str, server: &FlakyServer, path: &str, expected: usize) -> Outcome {
    let hits = server.hits(path);
    let requests = if expected == 1 { "request" } else { "requests" };
    ensure(
        story,
        hits == expected,
        format_args!("{expected} {requests} to {path}, got {hits}"),
    )
}

/// Is a gap measured between two arrivals at the server the `wait` the policy
/// asked for? At least `wait`, and less than `wait + slack` (the request's own
/// time and scheduling).
///
/// ```
/// use std::time::Duration;
/// use testkit::demo::about;
/// let ms = Duration::from_millis;
/// assert!(about(ms(1_040), ms(1_000), ms(500)));
/// assert!(!about(ms(990), ms(1_000), ms(500)));
/// assert!(!about(ms(1_600), ms(1_000), ms(500)));
/// ```
pub fn about(measured: Duration, wait: Duration, slack: Duration) -> bool {
    measured >= wait && measured < wait + slack
}

/// Gaps as `[1.01s, 2.00s]`.
///
/// ```
/// use std::time::Duration;
/// let gaps = [Duration::from_millis(1_010), Duration::from_secs(2)];
/// assert_eq!(testkit::demo::fmt_gaps(&gaps), "[1.01s, 2.00s]");
/// ```
pub fn fmt_gaps(gaps: &[Duration]) -> String {
    let gaps: Vec<String> = gaps.iter().map(|g| format!("{g:.2?}")).collect();
    format!("[{}]", gaps.join(", "))
}
