//! `tracing` events captured as lines, to assert the log lines of retries.
//!
//! ```
//! use testkit::capture::{capture, field};
//! let logs = capture();
//! tracing::warn!(attempt = 1, "retrying clip");
//! let line = logs.assert_logged(tracing::Level::WARN, "retrying");
//! assert_eq!(field(&line, "attempt"), Some("1"));
//! ```
//!
//! Each event becomes one line, `LEVEL message | key=value | key=value`, with
//! the fields in the order the event declares them and values as the event
//! recorded them (strings and `%display` values unquoted). Its `tracing`
//! target is kept beside it: see [`Captured::target_of`].
//!
//! The capture is installed with `tracing::subscriber::set_default`, so it sees
//! only this thread's events: use a current-thread runtime in async tests
//! (the `#[tokio::test]` default).
//!
//! `tracing` caches each callsite's interest for the whole process. If a thread
//! with no subscriber were the first to reach a callsite, the callsite could be
//! cached as "never" and a capture on another thread would miss its events.
//! [`capture`] therefore also installs, once per process, a global subscriber
//! that is interested in nothing but answers "sometimes", and the capture
//! answers "sometimes" too: every event is then checked against the emitting
//! thread's own subscriber.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::subscriber::{DefaultGuard, Interest};
use tracing::{Event, Level, Metadata, Subscriber, span};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// The captured lines of this thread, while alive.
pub struct Captured {
    lines: Arc<Mutex<Vec<(String, &'static str)>>>,
    _guard: DefaultGuard,
}

/// Start capturing this thread's `tracing` events, every level.
pub fn capture() -> Captured {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        // Err only if some other global subscriber is already set: fine too.
        let _ = tracing::subscriber::set_global_default(Quiet);
    });
    let lines = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Recorder {
        lines: Arc::clone(&lines),
    });
    Captured {
        lines,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}

impl Captured {
    /// Every line so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.lines_with_targets()
            .into_iter()
            .map(|(line, _)| line)
            .collect()
    }

    /// Every line so far, in order, each with its event's target.
    fn lines_with_targets(&self) -> Vec<(String, &'static str)> {
        self.lines.lock().unwrap().clone()
    }

    /// The target of the one line [`assert_logged`](Captured::assert_logged)
    /// finds.
    pub fn target_of(&self, level: Level, needle: &str) -> &'static str {
        let line = self.assert_logged(level, needle);
        self.lines_with_targets()
            .into_iter()
            .find_map(|(l, target)| (l == line).then_some(target))
            .expect("the line just found")
    }

    /// The lines logged at `level`.
    pub fn at(&self, level: Level) -> Vec<String> {
        let prefix = format!("{level} ");
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(&prefix))
            .collect()
    }

    /// The lines logged at `level` that contain `needle`.
    pub fn matching(&self, level: Level, needle: &str) -> Vec<String> {
        self.at(level)
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect()
    }

    /// The one line logged at `level` containing `needle`; panics, showing
    /// everything captured, if there is none or more than one.
    pub fn assert_logged(&self, level: Level, needle: &str) -> String {
        let mut found = self.matching(level, needle);
        assert!(
            found.len() == 1,
            "expected exactly one {level} line containing {needle:?}, found {}; captured:\n{}",
            found.len(),
            self.lines().join("\n")
        );
        found.remove(0)
    }

    /// Panics if any line at any level contains `needle`.
    pub fn assert_not_logged(&self, needle: &str) {
        let lines = self.lines();
        assert!(
            !lines.iter().any(|l| l.contains(needle)),
            "expected no line containing {needle:?}; captured:\n{}",
            lines.join("\n")
        );
    }
}

/// The value of field `key` in a captured line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(" | ")
        .skip(1)
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// Panics unless `line` has every `(key, value)` field.
pub fn assert_fields(line: &str, expected: &[(&str, &str)]) {
    for &(key, value) in expected {
        assert_eq!(field(line, key), Some(value), "field {key} in {line:?}");
    }
}

struct Recorder {
    lines: Arc<Mutex<Vec<(String, &'static str)>>>,
}

impl<S: Subscriber> Layer<S> for Recorder {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!(
            "{} {}{}",
            event.metadata().level(),
            line.message,
            line.fields
        );
        let target = event.metadata().target();
        self.lines.lock().unwrap().push((text, target));
    }
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " | {}={value:?}", field.name());
        }
    }
}

/// The process-wide fallback: interested in nothing, but never lets a
/// callsite's interest be cached as "never" (see the module docs).
struct Quiet;

impl Subscriber for Quiet {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
